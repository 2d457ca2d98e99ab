"""Answering in a real Chromium: a whole questionnaire on a phone, resuming, no JavaScript,
autosave, the keyboard, and axe-core accessibility checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from cxalign.extensions import db
from cxalign.models import Respondent, RespondentStatus
from cxalign.respond.answers import answers_of, comments_of, page_plan
from tests.test_respond_answers import item, make_respondent, make_survey

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
SERIOUS = {"serious", "critical"}


@pytest.fixture
def survey():
    return make_survey(closes_on=date.today() + timedelta(days=30), anonymity_executive=1)


def serious_violations(page) -> list[tuple]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def choice_for(page_number: int, position: int) -> int:
    """A varied but predictable answer: the index of the option to pick (0-based, 0..4)."""
    return (page_number + position) % 5


def answer_current_page(page, page_number: int) -> None:
    for position, fieldset in enumerate(page.locator("fieldset.likert").all()):
        fieldset.get_by_role("radio").nth(choice_for(page_number, position)).check()


def assert_answers_shown(page, page_number: int) -> None:
    for position, fieldset in enumerate(page.locator("fieldset.likert").all()):
        expect(fieldset.get_by_role("radio").nth(choice_for(page_number, position))).to_be_checked()


def assert_fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def reloaded(respondent: Respondent) -> Respondent:
    db.session.expire_all()
    return db.session.get(Respondent, respondent.id)


def test_a_whole_questionnaire_on_a_phone_stopping_half_way_and_resuming(
    phone_page, live_server, survey
):
    respondent, token = make_respondent(survey, "executive")
    page = phone_page
    link = f"{live_server}/r/{token}"

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(survey.title)
    expect(page.get_by_text("Your answers may be attributable to you")).to_be_visible()
    assert_fits_the_phone(page)
    page.get_by_role("link", name="Start the questionnaire").click()

    for number in range(1, 7):
        page.wait_for_url(f"{link}/page/{number}")
        expect(page.get_by_role("progressbar", name=f"Page {number} of 13")).to_be_visible()
        assert_fits_the_phone(page)
        answer_current_page(page, number)
        # Options are large enough to tap, with their words visible on a phone.
        box = page.locator("label.likert-option").first.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300
        if number == 3:
            page.get_by_role("button", name="Next page").dblclick()  # an impatient double tap
        else:
            page.get_by_role("button", name="Next page").click()
    page.wait_for_url(f"{link}/page/7")

    # Stop half way: leave, forget every cookie, come back through the same link.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_text("Welcome back.")).to_be_visible()
    expect(page.get_by_text("You have answered 24 of 48 questions")).to_be_visible()
    page.get_by_role("link", name="Continue where you left off").click()
    page.wait_for_url(f"{link}/page/7")

    # Back keeps the answers given before the break.
    page.get_by_role("button", name="Back").click()
    page.wait_for_url(f"{link}/page/6")
    assert_answers_shown(page, 6)
    page.get_by_role("button", name="Next page").click()

    for number in range(7, 13):
        page.wait_for_url(f"{link}/page/{number}")
        answer_current_page(page, number)
        page.get_by_role("button", name="Next page").click()

    page.wait_for_url(f"{link}/page/13")
    expect(page.get_by_text("You have answered all 48 questions")).to_be_visible()
    page.get_by_label("What one change would most improve").fill("Meet customers monthly.")
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Submit my answers").click()
    page.wait_for_url(f"{link}/done")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    assert_fits_the_phone(page)

    respondent = reloaded(respondent)
    assert respondent.status == RespondentStatus.COMPLETED
    saved = answers_of(respondent)
    assert len(saved) == 48
    plan = page_plan(survey, "executive")
    for page_entry in plan[:-1]:
        for position, question in enumerate(page_entry.items):
            assert saved[question.id] == choice_for(page_entry.number, position) + 1
    assert list(comments_of(respondent).values()) == ["Meet customers monthly."]

    # Coming back once done: the thank-you page, not the questionnaire.
    page.goto(link)
    page.wait_for_url(f"{link}/done")
    expect(page.get_by_text("You completed this questionnaire on")).to_be_visible()


def test_every_step_works_without_javascript(browser, live_server, survey):
    respondent, token = make_respondent(survey, "cx_professional")
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    link = f"{live_server}/r/{token}"
    try:
        page.goto(link)
        page.get_by_role("link", name="Start the questionnaire").click()
        page.wait_for_url(f"{link}/page/1")
        answer_current_page(page, 1)
        page.get_by_role("button", name="Next page").click()
        page.wait_for_url(f"{link}/page/2")
        page.get_by_role("button", name="Back").click()
        page.wait_for_url(f"{link}/page/1")
        assert_answers_shown(page, 1)

        # The page list folds away on a phone; opening it and choosing a page saves first.
        page.get_by_text("All pages").click()
        page.get_by_role("button", name="Your comments").click()
        page.wait_for_url(f"{link}/page/13")
        page.get_by_label("What do you most want our executives to understand").fill("Listen.")
        page.get_by_role("button", name="Submit my answers").click()
        page.wait_for_url(f"{link}/done")
        page.get_by_role("link", name="Review your answers").click()
        expect(page.get_by_text("Listen.")).to_be_visible()
    finally:
        context.close()

    respondent = reloaded(respondent)
    assert respondent.status == RespondentStatus.COMPLETED
    assert len(answers_of(respondent)) == 4


def test_choices_are_saved_as_soon_as_they_are_made(page, live_server, survey):
    respondent, token = make_respondent(survey, "executive")
    page.goto(f"{live_server}/r/{token}/page/2")
    page.get_by_role("group", name="I could name the CX team").get_by_label(
        "Don't know / not applicable"
    ).check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    expect(page.locator("[data-answered]")).to_have_text("1")
    assert answers_of(reloaded(respondent)) == {item(survey, "AWARE_2").id: "dk"}

    page.reload()
    expect(
        page.get_by_role("group", name="I could name the CX team").get_by_label(
            "Don't know / not applicable"
        )
    ).to_be_checked()


def test_radio_groups_work_with_the_keyboard(page, live_server, survey):
    respondent, token = make_respondent(survey, "executive")
    page.goto(f"{live_server}/r/{token}/page/2")
    first = page.get_by_role("group", name="To what extent are you aware")
    first.get_by_role("radio").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(first.get_by_label("To a moderate extent")).to_be_checked()
    page.keyboard.press("Tab")  # on to the next question's group
    page.keyboard.press("Space")
    second = page.get_by_role("group", name="I could name the CX team")
    expect(second.get_by_role("radio").first).to_be_checked()
    page.keyboard.press("Enter")  # implicit submission: moves on, never back
    page.wait_for_url(f"{live_server}/r/{token}/page/3")
    assert answers_of(reloaded(respondent)) == {
        item(survey, "AWARE_1").id: 3,
        item(survey, "AWARE_2").id: 1,
    }


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_no_serious_accessibility_violations(request, device, live_server, survey):
    page = request.getfixturevalue("phone_page" if device == "phone" else "page")
    _, token = make_respondent(survey, "executive")
    link = f"{live_server}/r/{token}"
    checked = {}

    page.goto(link)
    checked["welcome"] = serious_violations(page)
    page.goto(f"{link}/page/2")
    page.get_by_role("radio").first.check()
    checked["question page"] = serious_violations(page)
    page.goto(f"{link}/page/13")
    checked["final page"] = serious_violations(page)
    page.get_by_role("button", name="Submit my answers").click()
    page.wait_for_url(f"{link}/done")
    checked["thank-you page"] = serious_violations(page)
    page.get_by_role("link", name="Review your answers").click()
    checked["review"] = serious_violations(page)

    assert checked == {name: [] for name in checked}
