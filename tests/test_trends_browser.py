"""Waves and trends in a real Chromium, on the demo data: the trend on the dashboard (desktop
and phone, with screenshots to look at) and starting the next wave through the form."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from cxalign.analysis.trends import survey_trend
from cxalign.demo import DEMO_EMAIL, DEMO_PASSWORD, WAVE_1_TITLE, WAVE_2_TITLE, seed_demo
from cxalign.extensions import db
from cxalign.models import Survey

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


@pytest.fixture
def demo():
    organisation = seed_demo()
    db.session.commit()
    return {survey.title: survey for survey in organisation.surveys}


def log_in(page, live_server):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")


def test_the_demo_dashboard_shows_the_trend_on_a_desktop(page, live_server, demo, tmp_path):
    wave_1, wave_2 = demo[WAVE_1_TITLE], demo[WAVE_2_TITLE]
    trend = survey_trend(wave_2)
    assert trend.has_trend  # the demo's latest wave with results has a trend to show
    log_in(page, live_server)
    page.goto(f"{live_server}/surveys/{wave_2.id}/results")

    section = page.locator("#trend")
    assert section.get_by_role("heading", name="Trend across waves").is_visible()
    assert section.get_by_role("img", name="Alignment index across waves").is_visible()
    markers = section.locator(".trend-line")
    assert markers.count() == 1
    beyond = [r.name for r in trend.dimensions if r.cells[-1].change.beyond_uncertainty]
    assert beyond  # the demo shows gaps narrowing by more than their uncertainty
    for name in beyond:
        row = section.locator("tr", has_text=name)
        assert row.get_by_text("Larger than uncertainty").is_visible()
    section.screenshot(path=tmp_path / "trend-desktop.png")
    page.screenshot(path=tmp_path / "dashboard-desktop.png", full_page=True)

    results = Axe().run(page)
    violations = [
        (v["id"], [node["target"] for node in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert violations == []

    # The waves link to each other.
    section.get_by_role("link", name="Wave 1").first.click()
    page.wait_for_url(f"{live_server}/surveys/{wave_1.id}/results")
    assert page.locator("#trend").count() == 0
    page.get_by_role("link", name=f"Next wave: {WAVE_2_TITLE}").click()
    page.wait_for_url(f"{live_server}/surveys/{wave_2.id}/results")


def test_the_trend_fits_a_phone(phone_page, live_server, demo, tmp_path):
    page = phone_page
    log_in(page, live_server)
    page.goto(f"{live_server}/surveys/{demo[WAVE_2_TITLE].id}/results")
    section = page.locator("#trend")
    section.scroll_into_view_if_needed()
    assert section.get_by_role("heading", name="Trend across waves").is_visible()
    # The page never scrolls sideways; the wide tables scroll inside their own boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    table_box = section.locator(".trend-scroll").last
    assert table_box.evaluate("el => el.scrollWidth > el.clientWidth")
    section.screenshot(path=tmp_path / "trend-phone.png")


def test_start_the_next_wave_through_the_form(page, live_server, demo, tmp_path):
    wave_2 = demo[WAVE_2_TITLE]
    log_in(page, live_server)
    page.goto(f"{live_server}/surveys/{wave_2.id}")
    page.get_by_role("link", name="Start next wave").first.click()
    page.wait_for_url(f"{live_server}/surveys/{wave_2.id}/next-wave")
    assert page.get_by_label("Title of the new wave").input_value() == (
        "Executive alignment 2026 — wave 3"
    )
    carry = page.get_by_label("Carry over respondents (30 people, new personal links)")
    assert carry.is_checked()
    page.screenshot(path=tmp_path / "next-wave.png", full_page=True)
    page.get_by_role("button", name="Create the next wave as a draft").click()
    page.wait_for_url(f"{live_server}/surveys/*")
    assert "30 respondents carried over with new personal links" in page.content()
    db.session.expire_all()
    wave_3 = db.session.scalar(select(Survey).where(Survey.previous_survey_id == wave_2.id))
    assert page.url == f"{live_server}/surveys/{wave_3.id}"
    assert wave_3.status == "draft" and len(wave_3.respondents) == 30
    assert page.get_by_role("heading", name="Waves of this study").is_visible()
    page.screenshot(path=tmp_path / "new-wave.png")
