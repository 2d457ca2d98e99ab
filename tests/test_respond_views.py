"""Answering over HTTP: the welcome page, pages, every kind of bad input, completion, links."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.models import (
    Comment,
    OpenLink,
    Respondent,
    RespondentStatus,
    SurveyStatus,
    User,
    hash_token,
    new_token,
    utcnow,
)
from cxalign.respond.answers import DONT_KNOW, answers_of, comments_of, save_answers
from tests.test_respond_answers import item, make_respondent, make_survey, question, response_count

# Page 2 of the built-in instrument: "Awareness of CX initiatives", items AWARE_1..4;
# AWARE_2 and AWARE_4 offer "Don't know".
PAGE_2 = {"item_AWARE_1": "4", "item_AWARE_2": "dk", "item_AWARE_3": "2", "item_AWARE_4": "5"}


@pytest.fixture
def survey():
    return make_survey(closes_on=date.today() + timedelta(days=30))


@pytest.fixture
def executive(survey):
    return make_respondent(survey, "executive")


@pytest.fixture
def cx(survey):
    return make_respondent(survey, "cx_professional")


def refreshed(respondent: Respondent) -> Respondent:
    db.session.expire_all()
    return db.session.get(Respondent, respondent.id)


def checked_values(html: str) -> dict[str, str]:
    """name → value of every checked radio on a page."""
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html):
        if " checked" in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            found[name] = re.search(r'value="([^"]+)"', tag).group(1)
    return found


# ---------------------------------------------------------------------------
# Welcome page
# ---------------------------------------------------------------------------


def test_welcome_page_says_who_how_long_how_answers_are_used_and_until_when(client, survey, cx):
    token = cx[1]
    user = User(email="jane@acme.example", name="Jane Whitfield", password_hash="-")
    db.session.add(user)
    db.session.flush()
    survey.created_by_id = user.id
    survey.introduction = "We want to hear from you.\n\nIt matters."
    survey.comment_minimum = 4
    db.session.commit()

    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    text = response.text
    assert "Acme Insurance" in text
    assert "Customer experience alignment 2026" in text
    assert "<p>We want to hear from you.</p>" in text and "<p>It matters.</p>" in text
    assert "About 6 minutes" in text
    assert f"Open until {survey.closes_on.day} " in text
    assert "Only group results are shown" in text
    assert "at least 4 CX professionals have written comments" in text
    assert "at least 3 of them have answered" in text
    assert "Jane Whitfield is the contact" in text
    assert "may be attributable" not in text
    assert f'href="/r/{token}/page/1"' in text
    assert "Start the questionnaire" in text


@pytest.mark.parametrize("threshold", [1, 2])
def test_executives_are_warned_before_they_start_when_their_group_threshold_is_low(
    client, survey, executive, threshold
):
    survey.anonymity_executive = threshold
    db.session.commit()
    text = client.get(f"/r/{executive[1]}").text
    assert "Your answers may be attributable to you" in text
    assert text.index("attributable") < text.index("Start the questionnaire")


def test_cx_professionals_are_not_warned_about_the_executive_threshold(client, survey, cx):
    survey.anonymity_executive = 1
    db.session.commit()
    assert "attributable" not in client.get(f"/r/{cx[1]}").text


def test_visibility_of_taking_part_follows_the_survey_setting(client, survey, cx):
    assert "cannot see who has answered" in client.get(f"/r/{cx[1]}").text
    survey.anonymous_to_staff = False
    db.session.commit()
    assert "can see whether you have completed" in client.get(f"/r/{cx[1]}").text


def test_survey_text_is_escaped(client, survey, cx):
    survey.title = "<script>alert(1)</script>"
    survey.introduction = "<b>bold</b>"
    db.session.commit()
    text = client.get(f"/r/{cx[1]}").text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert "<b>bold</b>" not in text


# ---------------------------------------------------------------------------
# Privacy of the link
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/page/1", "/page/13", "/done", "/review", "/page/99"])
def test_respondent_pages_are_never_cached_and_never_leak_the_link(client, executive, path):
    response = client.get(f"/r/{executive[1]}{path}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("status", ["unknown", "revoked", "erased"])
def test_unknown_revoked_and_erased_links_are_a_plain_404(client, survey, executive, status):
    respondent, token = executive
    if status == "unknown":
        token = new_token()
    else:
        setattr(respondent, f"{status}_at", utcnow())
        db.session.commit()
    for path in ("", "/page/1", "/done", "/review"):
        response = client.get(f"/r/{token}{path}")
        assert response.status_code == 404
        assert "Acme" not in response.text and survey.title not in response.text
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.post(f"/r/{token}/page/2", data=PAGE_2).status_code == 404
    assert client.post(f"/r/{token}/autosave", data={"page": "2", **PAGE_2}).status_code == 404
    assert response_count(respondent) == 0


@pytest.mark.parametrize("number", [0, 14, 1000])
def test_pages_outside_the_plan_are_404(client, executive, number):
    assert client.get(f"/r/{executive[1]}/page/{number}").status_code == 404
    assert client.post(f"/r/{executive[1]}/page/{number}", data=PAGE_2).status_code == 404


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


def test_a_page_is_one_dimension_in_the_respondents_wording_with_radio_groups(
    client, executive, cx
):
    exec_page = client.get(f"/r/{executive[1]}/page/2").text
    cx_page = client.get(f"/r/{cx[1]}/page/2").text
    assert '<h1 class="q-title">Awareness of CX initiatives</h1>' in exec_page
    assert (
        "Page 2 of 13" in exec_page
        and '<progress class="q-progress-bar" max="13" value="2"' in exec_page
    )
    assert "To what extent are you aware of the customer experience" in exec_page
    assert "To what extent are our executives aware" in cx_page
    assert "To what extent are our executives aware" not in exec_page
    assert exec_page.count("<fieldset") == 4 and exec_page.count("<legend") == 4
    assert exec_page.count('type="radio"') == 4 * 5 + 2  # two items offer "Don't know"
    assert (
        "Don&#39;t know / not applicable" in exec_page or "Don't know / not applicable" in exec_page
    )
    # Every radio has its own visible label.
    for radio_id in re.findall(r'<input[^>]*id="([^"]+)"[^>]*type="radio"', exec_page):
        assert f'for="{radio_id}"' in exec_page
    assert "reverse" not in exec_page.lower()


def test_next_saves_the_page_and_moves_on(client, survey, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{token}/page/3"
    saved = answers_of(respondent)
    assert saved == {
        item(survey, "AWARE_1").id: 4,
        item(survey, "AWARE_2").id: DONT_KNOW,
        item(survey, "AWARE_3").id: 2,
        item(survey, "AWARE_4").id: 5,
    }
    respondent = refreshed(respondent)
    assert respondent.status == RespondentStatus.STARTED
    assert respondent.last_page == 3


def test_saved_answers_are_filled_in_when_the_page_is_shown_again(client, executive):
    token = executive[1]
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    assert checked_values(client.get(f"/r/{token}/page/2").text) == PAGE_2


def test_back_also_saves_what_was_entered(client, survey, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={"item_AWARE_1": "1", "nav": "back"})
    assert response.headers["Location"] == f"/r/{token}/page/1"
    assert answers_of(respondent) == {item(survey, "AWARE_1").id: 1}
    response = client.post(f"/r/{token}/page/1", data={"item_LEAD_FOCUS_1": "2", "nav": "back"})
    assert response.headers["Location"] == f"/r/{token}"
    assert len(answers_of(respondent)) == 2


def test_going_to_another_page_from_the_page_list_saves_first(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "goto-9"})
    assert response.headers["Location"] == f"/r/{token}/page/9"
    assert len(answers_of(respondent)) == 4


def test_no_button_means_next(client, executive):
    response = client.post(f"/r/{executive[1]}/page/2", data=PAGE_2)
    assert response.headers["Location"].endswith("/page/3")


def test_skipping_questions_is_allowed(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={"item_AWARE_3": "3", "nav": "next"})
    assert response.status_code == 302
    assert len(answers_of(respondent)) == 1
    # An unanswered question sent as empty is simply not answered.
    response = client.post(f"/r/{token}/page/4", data={"item_STRATEGY_1": "", "nav": "next"})
    assert response.status_code == 302
    assert len(answers_of(respondent)) == 1


def test_a_question_left_out_keeps_its_earlier_answer(client, survey, executive):
    respondent, token = executive
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    client.post(f"/r/{token}/page/2", data={"item_AWARE_1": "1", "nav": "next"})
    saved = answers_of(respondent)
    assert saved[item(survey, "AWARE_1").id] == 1
    assert saved[item(survey, "AWARE_3").id] == 2


def test_submitting_a_page_twice_never_duplicates(client, executive):
    respondent, token = executive
    for _ in range(3):
        assert client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"}).status_code == 302
    assert response_count(respondent) == 4


def test_leaving_and_coming_back_resumes_where_the_respondent_stopped(client, executive):
    token = executive[1]
    client.post(f"/r/{token}/page/1", data={"item_LEAD_FOCUS_1": "3", "nav": "next"})
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})

    welcome = client.get(f"/r/{token}").text
    assert "Welcome back" in welcome
    assert "You have answered 5 of 48 questions" in welcome
    assert f'href="/r/{token}/page/3"' in welcome
    assert "Continue where you left off" in welcome


# ---------------------------------------------------------------------------
# Bad input: a clear error and nothing changes
# ---------------------------------------------------------------------------


def assert_nothing_saved(respondent: Respondent, before: dict) -> None:
    db.session.expire_all()
    assert answers_of(respondent) == before
    assert refreshed(respondent).status == RespondentStatus.INVITED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("item_AWARE_1", "6", "not one of the options"),
        ("item_AWARE_1", "0", "not one of the options"),
        ("item_AWARE_1", "-1", "not one of the options"),
        ("item_AWARE_1", "3.5", "not one of the options"),
        ("item_AWARE_1", "abc", "not one of the options"),
        ("item_AWARE_1", "dk", "not one of the options"),  # AWARE_1 offers no "Don't know"
        ("item_AWARE_1", "4" * 5000, "not one of the options"),
    ],
)
def test_a_value_outside_the_items_scale_is_refused(client, executive, field, value, message):
    respondent, token = executive
    data = {**PAGE_2, field: value, "nav": "next"}
    response = client.post(f"/r/{token}/page/2", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert "Nothing on this page was saved yet" in response.text
    assert 'role="alert"' in response.text
    assert_nothing_saved(respondent, {})


def test_an_unknown_item_is_refused(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "item_NOPE": "3"})
    assert response.status_code == 400
    assert "questions that are not on it" in response.text
    assert_nothing_saved(respondent, {})


def test_an_item_of_another_page_is_refused(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "item_LEAD_FOCUS_1": "3"})
    assert response.status_code == 400
    assert_nothing_saved(respondent, {})


def test_a_comment_on_a_page_without_open_questions_is_refused(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "comment_OPEN_EXEC_ASK": "x"})
    assert response.status_code == 400
    assert_nothing_saved(respondent, {})


def test_the_other_groups_open_question_is_refused(client, executive):
    respondent, token = executive
    response = client.post(
        f"/r/{token}/page/13", data={"comment_OPEN_CX_UNDERSTAND": "x", "nav": "submit"}
    )
    assert response.status_code == 400
    assert comments_of(respondent) == {}
    assert refreshed(respondent).status == RespondentStatus.INVITED


def test_two_answers_for_one_question_are_refused(client, executive):
    respondent, token = executive
    response = client.post(
        f"/r/{token}/page/2",
        data={"item_AWARE_1": ["2", "5"], "nav": "next"},
    )
    assert response.status_code == 400
    assert "Choose only one answer" in response.text
    assert_nothing_saved(respondent, {})


@pytest.mark.parametrize("nav", ["jump", "goto-0", "goto-14", "goto-x", "submit"])
def test_an_unknown_navigation_is_refused(client, executive, nav):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": nav})
    assert response.status_code == 400
    assert "could not tell where you wanted to go" in response.text
    assert_nothing_saved(respondent, {})


def test_next_is_not_a_button_of_the_final_page(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/page/13", data={"nav": "next"})
    assert response.status_code == 400
    assert refreshed(respondent).status == RespondentStatus.INVITED


def test_an_overlong_comment_is_explained_next_to_the_question(client, executive):
    respondent, token = executive
    response = client.post(
        f"/r/{token}/page/13", data={"comment_OPEN_EXEC_CHANGE": "x" * 4001, "nav": "submit"}
    )
    assert response.status_code == 400
    assert "Please keep this under 4,000 characters" in response.text
    assert 'id="comment_OPEN_EXEC_CHANGE-error"' in response.text
    assert comments_of(respondent) == {}
    assert refreshed(respondent).status == RespondentStatus.INVITED


def test_the_errors_page_keeps_what_the_respondent_chose(client, executive):
    token = executive[1]
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "item_AWARE_3": "9"})
    assert response.status_code == 400
    chosen = checked_values(response.text)
    assert chosen["item_AWARE_1"] == "4" and chosen["item_AWARE_2"] == "dk"
    assert 'href="#item_AWARE_3-0"' in response.text  # the summary links to the question


def test_a_missing_or_stale_csrf_token_keeps_the_choices_and_saves_nothing(
    app, client, executive, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    respondent, token = executive
    response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    assert response.status_code == 400
    assert "could not save it safely" in response.text
    assert checked_values(response.text) == PAGE_2
    assert_nothing_saved(respondent, {})

    # The page that came back carries a fresh token: pressing the button again works.
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
    response = client.post(
        f"/r/{token}/page/2", data={**PAGE_2, "nav": "next", "csrf_token": fresh.group(1)}
    )
    assert response.status_code == 302
    assert len(answers_of(respondent)) == 4


# ---------------------------------------------------------------------------
# Final page, completion, thank you, review
# ---------------------------------------------------------------------------


def test_the_final_page_has_the_groups_open_questions_and_lists_unanswered_pages(client, executive):
    token = executive[1]
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    text = client.get(f"/r/{token}/page/13").text
    assert "What one change would most improve" in text
    assert "What would you like to hear from the CX team" in text
    assert "What do you most want our executives to understand" not in text
    assert "You have answered <strong>4 of 48</strong> questions" in text
    assert 'value="goto-1">Page 1: Leadership customer focus' in text
    missing = text.split('class="missing-list"')[1].split("</ul>")[0]
    assert "goto-1" in missing and "goto-2" not in missing
    assert "Submit my answers" in text


def test_submitting_completes_saves_comments_and_thanks(client, survey, executive):
    respondent, token = executive
    change = question(survey, "OPEN_EXEC_CHANGE")
    response = client.post(
        f"/r/{token}/page/13",
        data={"comment_OPEN_EXEC_CHANGE": "Talk to customers", "nav": "submit"},
    )
    assert response.headers["Location"] == f"/r/{token}/done"
    respondent = refreshed(respondent)
    assert respondent.status == RespondentStatus.COMPLETED
    assert respondent.completed_at is not None
    assert comments_of(respondent) == {change.id: "Talk to customers"}

    thanks = client.get(f"/r/{token}/done")
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text and "Review your answers" in thanks.text


def test_the_final_page_back_button_saves_comments_without_completing(client, executive):
    respondent, token = executive
    response = client.post(
        f"/r/{token}/page/13", data={"comment_OPEN_EXEC_ASK": "Numbers", "nav": "back"}
    )
    assert response.headers["Location"] == f"/r/{token}/page/12"
    assert list(comments_of(respondent).values()) == ["Numbers"]
    assert refreshed(respondent).status == RespondentStatus.STARTED


def test_submitting_twice_changes_nothing_the_second_time(client, survey, executive):
    respondent, token = executive
    client.post(f"/r/{token}/page/13", data={"comment_OPEN_EXEC_ASK": "First", "nav": "submit"})
    completed_at = refreshed(respondent).completed_at
    again = client.post(
        f"/r/{token}/page/13", data={"comment_OPEN_EXEC_ASK": "Second", "nav": "submit"}
    )
    assert again.headers["Location"] == f"/r/{token}/done"
    assert refreshed(respondent).completed_at == completed_at
    assert list(comments_of(respondent).values()) == ["First"]
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


def test_a_completed_respondent_sees_that_they_are_done_and_cannot_change_answers(
    client, survey, executive
):
    respondent, token = executive
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    client.post(f"/r/{token}/page/13", data={"nav": "submit"})

    for path in ("", "/page/2"):
        response = client.get(f"/r/{token}{path}")
        assert response.headers["Location"] == f"/r/{token}/done"
    response = client.post(f"/r/{token}/page/2", data={"item_AWARE_1": "1", "nav": "next"})
    assert response.headers["Location"] == f"/r/{token}/done"
    assert answers_of(respondent)[item(survey, "AWARE_1").id] == 4
    done = client.get(f"/r/{token}/done").text
    assert "You completed this questionnaire on" in done
    assert "already submitted your answers, so nothing was changed" in done


def test_the_review_shows_the_answers_read_only(client, survey, executive):
    token = executive[1]
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    client.post(
        f"/r/{token}/page/13",
        data={"comment_OPEN_EXEC_CHANGE": "<script>x</script>", "nav": "submit"},
    )
    review = client.get(f"/r/{token}/review")
    assert review.status_code == 200
    text = review.text
    assert "To a large extent" in text  # AWARE_1 = 4
    assert "Don&#39;t know / not applicable" in text or "Don't know / not applicable" in text
    assert "Not answered" in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x</script>" not in text
    assert "<form" not in text.split('id="main"')[1]


def test_without_review_the_owner_allows_none(client, survey, executive):
    survey.allow_review = False
    db.session.commit()
    token = executive[1]
    client.post(f"/r/{token}/page/13", data={"nav": "submit"})
    assert "Review your answers" not in client.get(f"/r/{token}/done").text
    assert client.get(f"/r/{token}/review").status_code == 404


def test_done_and_review_before_completing_lead_back_to_the_questionnaire(client, executive):
    token = executive[1]
    assert client.get(f"/r/{token}/done").headers["Location"] == f"/r/{token}"
    assert client.get(f"/r/{token}/review").headers["Location"] == f"/r/{token}"


# ---------------------------------------------------------------------------
# Surveys that are not open
# ---------------------------------------------------------------------------


def test_a_draft_survey_is_not_yet_open(client, survey, executive):
    survey.status = SurveyStatus.DRAFT
    survey.opens_on = date.today() + timedelta(days=5)
    db.session.commit()
    for path in ("", "/page/1"):
        response = client.get(f"/r/{executive[1]}{path}")
        assert response.status_code == 200
        assert "This survey is not open yet" in response.text
        assert "It opens on" in response.text


@pytest.mark.parametrize("how", ["closed", "past_closing_date"])
def test_a_closed_survey_says_when_it_closed_and_keeps_answers(client, survey, executive, how):
    respondent, token = executive
    client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    if how == "closed":
        survey.status = SurveyStatus.CLOSED
        survey.closed_at = utcnow()
        closed_on = survey.closed_at.date()
    else:
        survey.closes_on = closed_on = date.today() - timedelta(days=3)
    db.session.commit()

    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    assert f"This survey closed on {closed_on.day} " in response.text
    assert "The 4 answers you gave before it closed are kept" in response.text
    assert "Traceback" not in response.text

    response = client.post(f"/r/{token}/page/2", data={"item_AWARE_1": "1", "nav": "next"})
    assert response.status_code == 409
    assert "This survey closed on" in response.text
    assert answers_of(respondent)[item(survey, "AWARE_1").id] == 4
    assert client.post(f"/r/{token}/page/13", data={"nav": "submit"}).status_code == 409
    assert refreshed(respondent).status == RespondentStatus.STARTED


def test_a_completed_respondent_of_a_closed_survey_still_sees_the_thank_you(
    client, survey, executive
):
    token = executive[1]
    client.post(f"/r/{token}/page/13", data={"nav": "submit"})
    survey.status = SurveyStatus.CLOSED
    db.session.commit()
    assert client.get(f"/r/{token}").headers["Location"] == f"/r/{token}/done"
    assert "Thank you" in client.get(f"/r/{token}/done").text


# ---------------------------------------------------------------------------
# Autosave (used by respond.js)
# ---------------------------------------------------------------------------


def test_autosave_saves_without_moving_the_respondent(client, executive):
    respondent, token = executive
    response = client.post(f"/r/{token}/autosave", data={"page": "2", **PAGE_2})
    assert response.status_code == 204
    assert len(answers_of(respondent)) == 4
    respondent = refreshed(respondent)
    assert respondent.status == RespondentStatus.STARTED
    assert respondent.last_page == 0


def test_autosave_of_comments(client, survey, executive):
    respondent, token = executive
    data = {"page": "13", "comment_OPEN_EXEC_ASK": "Draft thought"}
    assert client.post(f"/r/{token}/autosave", data=data).status_code == 204
    assert comments_of(respondent) == {question(survey, "OPEN_EXEC_ASK").id: "Draft thought"}
    assert refreshed(respondent).status == RespondentStatus.STARTED


@pytest.mark.parametrize(
    "data",
    [
        {"page": "2", "item_AWARE_1": "6"},
        {"page": "2", "item_LEAD_FOCUS_1": "3"},
        {"page": "99", "item_AWARE_1": "3"},
        {"page": "x", "item_AWARE_1": "3"},
        {"item_AWARE_1": "3"},
    ],
)
def test_autosave_refuses_bad_input(client, executive, data):
    respondent, token = executive
    response = client.post(f"/r/{token}/autosave", data=data)
    assert response.status_code == 400
    assert response.is_json
    assert answers_of(respondent) == {}


def test_autosave_refuses_after_completion_and_when_closed(client, survey, executive):
    respondent, token = executive
    survey.status = SurveyStatus.CLOSED
    db.session.commit()
    assert client.post(f"/r/{token}/autosave", data={"page": "2", **PAGE_2}).status_code == 409
    survey.status = SurveyStatus.OPEN
    db.session.commit()
    client.post(f"/r/{token}/page/13", data={"nav": "submit"})
    assert client.post(f"/r/{token}/autosave", data={"page": "2", **PAGE_2}).status_code == 409
    assert answers_of(respondent) == {}


def test_autosave_needs_the_csrf_token(app, client, executive, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    respondent, token = executive
    assert client.post(f"/r/{token}/autosave", data={"page": "2", **PAGE_2}).status_code == 400
    assert answers_of(respondent) == {}


# ---------------------------------------------------------------------------
# Open links
# ---------------------------------------------------------------------------


def make_open_link(survey, group="cx_professional") -> str:
    token = new_token()
    db.session.add(OpenLink(survey=survey, group=group, token_hash=hash_token(token)))
    db.session.commit()
    return token


def respondent_total() -> int:
    return db.session.scalar(select(func.count()).select_from(Respondent))


def test_an_open_link_gives_each_visitor_their_own_personal_link(app, client, survey):
    token = make_open_link(survey)
    response = client.get(f"/join/{token}")
    assert response.status_code == 302
    assert response.headers["Referrer-Policy"] == "no-referrer"
    location = response.headers["Location"]
    assert location.startswith("/r/")
    joined = db.session.scalar(select(Respondent))
    assert joined.group == "cx_professional" and joined.source == "open_link"
    assert joined.token_hash == hash_token(location.removeprefix("/r/"))

    # Reloading in the same browser continues the same questionnaire.
    assert client.get(f"/join/{token}").headers["Location"] == location
    assert respondent_total() == 1
    # Someone else gets their own.
    other = app.test_client().get(f"/join/{token}").headers["Location"]
    assert other != location
    assert respondent_total() == 2

    page = client.get(location + "/page/1").text
    assert "How often do our executives talk to employees" in page


def test_an_open_link_after_the_remembered_respondent_was_erased_makes_a_new_one(client, survey):
    token = make_open_link(survey)
    first = client.get(f"/join/{token}").headers["Location"]
    db.session.scalar(select(Respondent)).erased_at = utcnow()
    db.session.commit()
    assert client.get(f"/join/{token}").headers["Location"] != first
    assert respondent_total() == 2


def test_unknown_and_revoked_open_links_are_404(client, survey):
    assert client.get(f"/join/{new_token()}").status_code == 404
    token = make_open_link(survey)
    db.session.scalar(select(OpenLink)).revoked_at = utcnow()
    db.session.commit()
    response = client.get(f"/join/{token}")
    assert response.status_code == 404
    assert "Acme" not in response.text
    assert respondent_total() == 0


def test_an_open_link_of_a_survey_that_is_not_open_creates_nobody(client, survey):
    token = make_open_link(survey)
    survey.status = SurveyStatus.CLOSED
    db.session.commit()
    response = client.get(f"/join/{token}")
    assert response.status_code == 200
    assert "This survey" in response.text and "closed" in response.text
    assert respondent_total() == 0


def test_domain_and_http_agree_on_dont_know(client, survey, executive):
    """A "Don't know" saved by the domain shows as the checked option on the page."""
    respondent, token = executive
    save_answers(respondent, {item(survey, "AWARE_4").id: DONT_KNOW})
    db.session.commit()
    assert checked_values(client.get(f"/r/{token}/page/2").text) == {"item_AWARE_4": "dk"}
