"""An owner runs a wave in a real Chromium: create, add respondents, open, follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cxalign.extensions import db
from cxalign.models import Organisation
from cxalign.surveys import operations as ops

pytestmark = pytest.mark.browser


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")


def test_owner_creates_a_survey_adds_respondents_opens_it_and_sees_its_status(
    page, live_server, make_user
):
    make_user("leader@example.com", name="Casey Leader")
    log_in(page, live_server, "leader@example.com")

    page.get_by_role("link", name="New survey").click()
    page.get_by_label("Title").fill("Executive alignment — pilot")
    page.get_by_label("Anonymity threshold: executives").fill("1")
    page.get_by_role("button", name="Create survey").click()
    page.wait_for_url(f"{live_server}/surveys/*")
    expect(page.get_by_role("heading", name="Executive alignment — pilot")).to_be_visible()
    assert "may be attributable" in page.content()

    # A paste with a mistake is refused as a whole, with the line and the reason.
    lines = page.get_by_label("Paste one respondent per line: email, group")
    lines.fill("ceo@example.com, executive\ncfo@example, executive\nana@example.com, cx")
    page.get_by_role("button", name="Add respondents").click()
    expect(page.get_by_text("Line 2: bad email 'cfo@example'")).to_be_visible()
    assert "No respondents yet." in page.content()

    lines = page.get_by_label("Paste one respondent per line: email, group")
    lines.fill("ceo@example.com, executive\ncfo@example.com, executive\nana@example.com, cx")
    page.get_by_role("button", name="Add respondents").click()
    expect(page.get_by_text("Added 3 respondents.")).to_be_visible()
    table = page.locator("table.respondent-table")
    for email in ("ceo@example.com", "cfo@example.com", "ana@example.com"):
        expect(table.get_by_text(email)).to_be_visible()

    # Opening asks for confirmation first.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Open survey").click()
    expect(page.get_by_text("is open: personal and open links work now")).to_be_visible()
    expect(page.locator(".lifecycle-step.is-current")).to_contain_text("Open")

    page.get_by_role("button", name="Send 3 invitations").click()
    expect(page.get_by_text("3 invitations put in the outbox")).to_be_visible()

    page.get_by_role("link", name="Status page").click()
    page.wait_for_url(f"{live_server}/surveys/*/status")
    expect(page.get_by_role("heading", name="Status: Executive alignment — pilot")).to_be_visible()
    rows = page.locator("table.status-table tbody tr")
    assert rows.nth(0).inner_text().split("\t")[:4] == ["Executives", "2", "0", "0"]
    assert "1 more needed" in rows.nth(0).inner_text()
    assert "3 more needed" in rows.nth(1).inner_text()
    expect(page.get_by_text("Anonymous to staff.")).to_be_visible()
    # Nothing overflows, and the CSP allowed every style (no inline styles needed).
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_link_only_respondent_gets_a_link_to_copy(page, live_server, make_user):
    owner = make_user("linker@example.com")
    organisation = db.session.get(Organisation, owner.current_organisation_id)
    survey = ops.create_survey(organisation, title="Board wave")
    db.session.commit()
    log_in(page, live_server, "linker@example.com")
    page.goto(f"{live_server}/surveys/{survey.id}")
    page.get_by_label("Group", exact=True).select_option("executive")
    page.get_by_label("Label (optional)").fill("Board chair")
    page.get_by_role("button", name="Add and show link").click()
    link = page.locator("#revealed-url").input_value()
    assert link.startswith(f"{live_server}/r/") and len(link) > len(live_server) + 40
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()  # shown by app.js


SERIOUS = {"serious", "critical"}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_survey_pages_have_no_serious_accessibility_violations(request, device, live_server):
    from axe_playwright_python.sync_playwright import Axe

    from cxalign.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    organisation = seed_demo()
    db.session.commit()
    closed, running = sorted(organisation.surveys, key=lambda survey: survey.id)
    page = request.getfixturevalue("phone_page" if device == "phone" else "page")
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")
    problems = {}
    for path in (
        "/home",
        "/surveys/new",
        f"/surveys/{running.id}",
        f"/surveys/{running.id}/status",
        f"/surveys/{running.id}/settings",
        f"/surveys/{closed.id}",
        "/surveys/outbox",
    ):
        page.goto(live_server + path)
        if device == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        violations = [
            (v["id"], [node["target"] for node in v["nodes"]][:3])
            for v in Axe().run(page).response["violations"]
            if v["impact"] in SERIOUS
        ]
        if violations:
            problems[path] = violations
    assert problems == {}
