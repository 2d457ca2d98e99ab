"""The instrument pages in a real Chromium: the preview a CX leader shows their CEO, and editing."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from cxalign.extensions import db
from cxalign.instruments.loader import load_builtin
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import Role

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")


@pytest.fixture
def builtin():
    instrument = ensure_builtin_instrument()
    db.session.commit()
    return instrument


def test_the_preview_shows_both_wordings_and_marks_reverse_coded_items(
    page, live_server, make_user, builtin
):
    make_user("analyst@example.com", role=Role.ANALYST)
    log_in(page, live_server, "analyst@example.com")
    page.get_by_role("link", name="Instruments").click()
    page.get_by_role("link", name="Preview version 1").click()
    page.wait_for_url(f"{live_server}/instruments/{builtin.id}")
    assert page.get_by_role("heading", level=1, name="CX Executive Alignment Index").is_visible()

    spec = load_builtin()
    reverse = next(item for item in spec.items if item.reverse)
    card = page.locator(f"#item-{reverse.code}")
    card.scroll_into_view_if_needed()
    executive = card.locator(".ins-wording-executive")
    cx = card.locator(".ins-wording-cx")
    assert executive.get_by_text("Executives are asked").is_visible()
    assert executive.get_by_text(reverse.executive).is_visible()
    assert cx.get_by_text("CX professionals are asked").is_visible()
    assert cx.get_by_text(reverse.cx_professional).is_visible()
    assert card.locator(".ins-badge-reverse").is_visible()
    assert card.locator(".ins-badge-reverse").inner_text() == "Reverse-coded"
    # Side by side on a desktop: the two wordings share a row.
    left, right = executive.bounding_box(), cx.bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]
    assert card.locator(".ins-scale li").first.inner_text().endswith(reverse.scale.labels[0])

    # The table of contents stays in view and jumps to a dimension.
    last = spec.dimensions[-1]
    toc = page.locator(".ins-toc")
    assert toc.is_visible()
    toc.get_by_role("link", name=last.name).click()
    heading = page.locator(f"#dimension-{last.code}-title")
    assert heading.is_visible() and heading.bounding_box()["y"] < 300
    assert toc.is_visible() and toc.bounding_box()["y"] >= 0
    # Analysts read; they are not offered to clone or edit.
    assert page.get_by_role("link", name="Clone for").count() == 0


def test_the_preview_reads_well_on_a_phone(phone_page, live_server, make_user, builtin):
    page = phone_page
    make_user("owner@example.com")
    log_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server}/instruments/{builtin.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    first = load_builtin().items[0]
    card = page.locator(f"#item-{first.code}")
    card.scroll_into_view_if_needed()
    assert card.get_by_text(first.executive).is_visible()
    assert card.get_by_text(first.cx_professional).is_visible()
    # Stacked on a phone, executives first.
    top = card.locator(".ins-wording-executive").bounding_box()
    below = card.locator(".ins-wording-cx").bounding_box()
    assert below["y"] >= top["y"] + top["height"]

    # The contents are a closed disclosure until asked for; choosing closes it again.
    page.evaluate("window.scrollTo(0, 0)")
    links = page.locator(".ins-toc-list")
    assert not links.is_visible()
    page.get_by_text("Contents").click()
    last = load_builtin().dimensions[-1]
    page.locator(".ins-toc").get_by_role("link", name=last.name).click()
    assert page.locator(f"#dimension-{last.code}-title").is_visible()
    assert not links.is_visible()


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("which", ["list", "preview", "editor", "item form", "new dimension"])
def test_no_serious_accessibility_violations(
    request, device, which, live_server, make_user, builtin
):
    from cxalign.instruments import operations as ops

    page = request.getfixturevalue("phone_page" if device == "phone" else "page")
    owner = make_user("owner@example.com")
    copy = ops.clone_instrument(builtin, owner.memberships[0].organisation)
    db.session.commit()
    item = copy.dimensions[0].items[0]
    path = {
        "list": "/instruments/",
        "preview": f"/instruments/{builtin.id}",
        "editor": f"/instruments/{copy.id}/edit",
        "item form": f"/instruments/{copy.id}/items/{item.id}/edit",
        "new dimension": f"/instruments/{copy.id}/dimensions/new",
    }[which]
    log_in(page, live_server, owner.email)
    page.goto(live_server + path)
    results = Axe().run(page)
    violations = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert violations == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_an_owner_clones_edits_and_reorders_then_previews(page, live_server, make_user, builtin):
    make_user("leader@example.com")
    log_in(page, live_server, "leader@example.com")
    page.goto(f"{live_server}/instruments/{builtin.id}")
    page.get_by_role("link", name="Clone for").click()
    page.get_by_label("Name of your copy").fill("Acme alignment index")
    page.get_by_role("button", name="Clone instrument").click()
    expect(page.get_by_text("Cloned as “Acme alignment index”, version 1")).to_be_visible()

    # A form error names the problem and keeps what was typed.
    page.get_by_role("link", name="Edit item LEAD_FOCUS_1").click()
    page.get_by_label("CX professionals are asked").fill("")
    page.get_by_label("Executives are asked").fill("How often do you talk about customers?")
    page.get_by_role("button", name="Save item").click()
    expect(
        page.get_by_text("Both wordings are required: write what CX professionals")
    ).to_be_visible()
    assert page.get_by_label("Executives are asked").input_value() == (
        "How often do you talk about customers?"
    )
    page.get_by_label("CX professionals are asked").fill(
        "How often do our executives talk about customers?"
    )
    page.get_by_label("Reverse-coded").check()
    page.get_by_role("button", name="Save item").click()
    expect(page.get_by_text("Item LEAD_FOCUS_1 saved.")).to_be_visible()

    page.get_by_role("button", name="Move item LEAD_FOCUS_1 down").click()
    expect(page.get_by_text("Item LEAD_FOCUS_1 moved down.")).to_be_visible()
    codes = page.locator("#dimension-LEAD_FOCUS .ins-item-code").all_inner_texts()
    assert codes[:2] == ["LEAD_FOCUS_2", "LEAD_FOCUS_1"]

    page.get_by_role("link", name="Preview").first.click()
    card = page.locator("#item-LEAD_FOCUS_1")
    expect(card.get_by_text("How often do you talk about customers?")).to_be_visible()
    expect(card.get_by_text("How often do our executives talk about customers?")).to_be_visible()
    expect(card.locator(".ins-badge-reverse")).to_be_visible()
