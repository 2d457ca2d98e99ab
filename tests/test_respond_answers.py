"""Answering a questionnaire, without HTTP: the page plan, saving, idempotency, completing.

The helpers ``make_survey`` and ``make_respondent`` are shared by the other respond tests.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    Comment,
    Item,
    OpenQuestion,
    Organisation,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
    SurveyStatus,
    utcnow,
)
from cxalign.respond.answers import (
    DONT_KNOW,
    AlreadyCompleted,
    AnswerError,
    Availability,
    SurveyNotOpen,
    answers_of,
    comments_of,
    estimated_minutes,
    item_count,
    mark_completed,
    page_plan,
    progress,
    resume_page,
    save_answers,
    survey_window,
)

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def make_survey(
    organisation: Organisation | None = None, *, status: str = SurveyStatus.OPEN, **settings
) -> Survey:
    """An open survey of the built-in instrument (12 dimensions, 48 items)."""
    organisation = organisation or Organisation(name="Acme Insurance")
    survey = Survey(
        organisation=organisation,
        instrument=ensure_builtin_instrument(),
        title=settings.pop("title", "Customer experience alignment 2026"),
        status=status,
        opened_at=utcnow() if status != SurveyStatus.DRAFT else None,
        **settings,
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def make_respondent(survey: Survey, group: str = "executive", **fields) -> tuple[Respondent, str]:
    """A respondent of the survey and the token of their personal link."""
    respondent = Respondent(survey=survey, group=group, **fields)
    token = respondent.issue_token(current_app.config["SECRET_KEY"])
    db.session.add(respondent)
    db.session.commit()
    return respondent, token


def item(survey: Survey, code: str) -> Item:
    return db.session.scalar(
        select(Item).where(Item.instrument_id == survey.instrument_id, Item.code == code)
    )


def question(survey: Survey, code: str) -> OpenQuestion:
    return db.session.scalar(
        select(OpenQuestion).where(
            OpenQuestion.instrument_id == survey.instrument_id, OpenQuestion.code == code
        )
    )


def response_count(respondent: Respondent) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Response).where(Response.respondent_id == respondent.id)
    )


@pytest.fixture
def survey() -> Survey:
    return make_survey()


@pytest.fixture
def executive(survey) -> Respondent:
    return make_respondent(survey, "executive")[0]


# ---------------------------------------------------------------------------
# Page plan and timing
# ---------------------------------------------------------------------------


def test_one_page_per_dimension_in_order_then_a_final_page(survey):
    plan = page_plan(survey, "executive")
    dimensions = survey.instrument.dimensions
    assert len(plan) == len(dimensions) + 1 == 13
    assert [page.title for page in plan[:-1]] == [d.name for d in dimensions]
    assert [page.number for page in plan] == list(range(1, 14))
    assert item_count(plan) == 48
    final = plan[-1]
    assert final.is_final and not final.items
    assert [q.code for q in final.open_questions] == ["OPEN_EXEC_CHANGE", "OPEN_EXEC_ASK"]
    cx_final = page_plan(survey, "cx_professional")[-1]
    assert [q.code for q in cx_final.open_questions] == ["OPEN_CX_CHANGE", "OPEN_CX_UNDERSTAND"]


def test_items_are_worded_for_the_respondents_group(survey):
    first = page_plan(survey, "executive")[0].items[0]
    assert first.wording("executive").startswith("How often do you talk")
    assert first.wording("cx_professional").startswith("How often do our executives")


@pytest.mark.parametrize(("items", "minutes"), [(48, 6), (0, 1), (1, 1), (10, 1), (20, 3)])
def test_estimated_time_is_about_eight_seconds_an_item(items, minutes):
    assert estimated_minutes(items) == minutes


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def test_saving_a_page_stores_values_and_dont_know_and_starts_the_respondent(survey, executive):
    aware_1, aware_2 = item(survey, "AWARE_1"), item(survey, "AWARE_2")
    assert executive.status == RespondentStatus.INVITED

    written = save_answers(executive, {aware_1.id: 4, aware_2.id: DONT_KNOW}, position=3)
    db.session.commit()

    assert written == 2
    assert answers_of(executive) == {aware_1.id: 4, aware_2.id: DONT_KNOW}
    stored = db.session.scalar(select(Response).where(Response.item_id == aware_2.id))
    assert stored.value is None and stored.dont_know is True
    db.session.refresh(executive)
    assert executive.status == RespondentStatus.STARTED
    assert executive.started_at is not None
    assert executive.last_page == 3
    assert resume_page(executive) == 3


def test_saving_the_same_page_twice_never_duplicates_and_keeps_the_latest(survey, executive):
    aware_1 = item(survey, "AWARE_1")
    save_answers(executive, {aware_1.id: 2})
    db.session.commit()
    started_at = executive.started_at
    save_answers(executive, {aware_1.id: 2})
    save_answers(executive, {aware_1.id: 5})
    db.session.commit()

    assert response_count(executive) == 1
    assert answers_of(executive) == {aware_1.id: 5}
    db.session.refresh(executive)
    assert executive.started_at == started_at  # the first save started it; later ones do not


def test_a_value_can_change_to_dont_know_and_back(survey, executive):
    aware_2 = item(survey, "AWARE_2")
    save_answers(executive, {aware_2.id: 3})
    save_answers(executive, {aware_2.id: DONT_KNOW})
    assert answers_of(executive) == {aware_2.id: DONT_KNOW}
    save_answers(executive, {aware_2.id: 1})
    db.session.commit()
    assert answers_of(executive) == {aware_2.id: 1}
    assert response_count(executive) == 1


def test_none_means_not_answered_here_and_keeps_an_earlier_answer(survey, executive):
    aware_1, aware_3 = item(survey, "AWARE_1"), item(survey, "AWARE_3")
    save_answers(executive, {aware_1.id: 4})
    save_answers(executive, {aware_1.id: None, aware_3.id: None})
    db.session.commit()
    assert answers_of(executive) == {aware_1.id: 4}


def test_seven_point_items_take_values_up_to_seven(survey, executive):
    cust_view = item(survey, "CUST_VIEW_1")
    assert cust_view.points == 7
    save_answers(executive, {cust_view.id: 7})
    assert answers_of(executive) == {cust_view.id: 7}
    with pytest.raises(AnswerError):
        save_answers(executive, {cust_view.id: 8})


@pytest.mark.parametrize("bad", [0, 6, -1, True, "3", 2.5, "yes", ""])
def test_a_value_outside_the_scale_changes_nothing(survey, executive, bad):
    aware_1, aware_3 = item(survey, "AWARE_1"), item(survey, "AWARE_3")
    save_answers(executive, {aware_1.id: 2})
    db.session.commit()

    with pytest.raises(AnswerError) as raised:
        save_answers(executive, {aware_1.id: 5, aware_3.id: bad})
    db.session.rollback()

    assert aware_3.id in raised.value.problems
    assert answers_of(executive) == {aware_1.id: 2}  # the valid answer was not saved either


def test_dont_know_is_refused_where_the_item_does_not_offer_it(survey, executive):
    aware_1 = item(survey, "AWARE_1")
    assert not aware_1.dont_know
    with pytest.raises(AnswerError) as raised:
        save_answers(executive, {aware_1.id: DONT_KNOW})
    assert "does not offer" in raised.value.problems[aware_1.id]
    assert answers_of(executive) == {}


def test_an_unknown_item_changes_nothing(survey, executive):
    aware_1 = item(survey, "AWARE_1")
    with pytest.raises(AnswerError, match="not part of this questionnaire"):
        save_answers(executive, {aware_1.id: 3, 999_999: 3})
    with pytest.raises(AnswerError):
        save_answers(executive, {"AWARE_1": 3})
    db.session.rollback()
    assert answers_of(executive) == {}
    assert executive.status == RespondentStatus.INVITED


def test_an_item_of_another_instrument_is_unknown(survey, executive):
    from cxalign.instruments.loader import load_builtin
    from cxalign.instruments.store import save_instrument

    spec = load_builtin()
    other = save_instrument(spec, organisation_id=survey.organisation_id)
    foreign = next(i for i in other.dimensions[0].items)
    with pytest.raises(AnswerError):
        save_answers(executive, {foreign.id: 3})


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


def test_comments_are_saved_updated_cleaned_and_deleted_when_emptied(survey, executive):
    change = question(survey, "OPEN_EXEC_CHANGE")
    ask = question(survey, "OPEN_EXEC_ASK")
    save_answers(executive, {}, {change.id: "  Listen to customers.\x00  ", ask.id: "More data"})
    db.session.commit()
    assert comments_of(executive) == {change.id: "Listen to customers.", ask.id: "More data"}
    assert executive.status == RespondentStatus.STARTED

    save_answers(executive, {}, {change.id: "Listen harder.", ask.id: "   "})
    save_answers(executive, {}, {change.id: "Listen harder."})  # twice: no duplicate
    db.session.commit()
    assert comments_of(executive) == {change.id: "Listen harder."}
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1

    save_answers(executive, {}, {change.id: None})  # not sent: kept
    assert comments_of(executive) == {change.id: "Listen harder."}


def test_a_question_of_the_other_group_is_refused(survey, executive):
    cx_question = question(survey, "OPEN_CX_UNDERSTAND")
    with pytest.raises(AnswerError):
        save_answers(executive, {}, {cx_question.id: "Sneaky"})
    db.session.rollback()
    assert comments_of(executive) == {}


def test_an_overlong_comment_changes_nothing(survey, executive):
    change = question(survey, "OPEN_EXEC_CHANGE")
    aware_1 = item(survey, "AWARE_1")
    with pytest.raises(AnswerError) as raised:
        save_answers(executive, {aware_1.id: 3}, {change.id: "x" * 4001})
    db.session.rollback()
    assert "4,000" in raised.value.problems[change.id]
    assert answers_of(executive) == {} and comments_of(executive) == {}


# ---------------------------------------------------------------------------
# Completing
# ---------------------------------------------------------------------------


def test_completing_is_recorded_once_and_freezes_the_answers(survey, executive):
    aware_1 = item(survey, "AWARE_1")
    save_answers(executive, {aware_1.id: 4})
    assert mark_completed(executive) is True
    db.session.commit()
    completed_at = executive.completed_at
    assert executive.status == RespondentStatus.COMPLETED and completed_at is not None

    assert mark_completed(executive) is False  # a second submit is harmless
    assert executive.completed_at == completed_at
    with pytest.raises(AlreadyCompleted):
        save_answers(executive, {aware_1.id: 1})
    db.session.rollback()
    assert answers_of(executive) == {aware_1.id: 4}


def test_completing_without_any_answer_is_allowed(survey, executive):
    assert mark_completed(executive) is True
    db.session.commit()
    assert executive.started_at is not None and executive.completed_at is not None


# ---------------------------------------------------------------------------
# Survey windows
# ---------------------------------------------------------------------------


def test_survey_windows():
    today = date(2026, 6, 15)
    draft = make_survey(status=SurveyStatus.DRAFT, opens_on=date(2026, 7, 1))
    assert survey_window(draft, today).availability == Availability.NOT_YET_OPEN
    assert survey_window(draft, today).on == date(2026, 7, 1)
    assert survey_window(draft, date(2026, 8, 1)).on is None  # a past opening date is not news

    open_survey = make_survey(closes_on=date(2026, 6, 30), opens_on=date(2026, 6, 1))
    assert survey_window(open_survey, today).is_open
    assert survey_window(open_survey, date(2026, 6, 30)).is_open  # open all of the last day
    closed = survey_window(open_survey, date(2026, 7, 1))
    assert closed.availability == Availability.CLOSED and closed.on == date(2026, 6, 30)
    early = survey_window(open_survey, date(2026, 5, 31))
    assert early.availability == Availability.NOT_YET_OPEN and early.on == date(2026, 6, 1)

    closed_survey = make_survey(status=SurveyStatus.CLOSED, closes_on=date(2026, 6, 30))
    closed_survey.closed_at = utcnow().replace(year=2026, month=6, day=10)
    assert survey_window(closed_survey, today).on == date(2026, 6, 10)


@pytest.mark.parametrize(
    "settings",
    [
        {"status": SurveyStatus.DRAFT},
        {"status": SurveyStatus.CLOSED},
        {"closes_on": date.today() - timedelta(days=2)},
    ],
)
def test_a_survey_that_is_not_open_refuses_answers_and_keeps_earlier_ones(settings):
    survey = make_survey()
    respondent, _ = make_respondent(survey)
    aware_1 = item(survey, "AWARE_1")
    save_answers(respondent, {aware_1.id: 4})
    db.session.commit()

    for name, value in settings.items():
        setattr(survey, name, value)
    db.session.commit()
    with pytest.raises(SurveyNotOpen):
        save_answers(respondent, {aware_1.id: 1})
    with pytest.raises(SurveyNotOpen):
        mark_completed(respondent)
    db.session.rollback()
    assert answers_of(respondent) == {aware_1.id: 4}
    assert respondent.status == RespondentStatus.STARTED


# ---------------------------------------------------------------------------
# Resuming and progress
# ---------------------------------------------------------------------------


def test_resume_page_is_where_the_respondent_stopped(survey, executive):
    assert resume_page(executive) == 1
    save_answers(executive, {}, position=7)
    assert resume_page(executive) == 7
    save_answers(executive, {}, position=4)  # went back: resume where they are
    assert resume_page(executive) == 4
    executive.last_page = 99
    assert resume_page(executive) == 13


def test_progress_counts_answers_per_page(survey, executive):
    plan = page_plan(survey, "executive")
    page_two = plan[1]
    save_answers(executive, {page_two.items[0].id: 3, page_two.items[1].id: DONT_KNOW})
    save_answers(executive, {i.id: 4 for i in plan[0].items})
    states = progress(plan, answers_of(executive))
    assert (states[0].state, states[0].answered, states[0].unanswered) == ("complete", 4, 0)
    assert (states[1].state, states[1].answered) == ("partial", 2)
    assert states[2].state == "empty"
    assert states[-1].total == 0


# ---------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------


def test_concurrent_submits_of_one_page_never_duplicate_or_lose(app, survey, executive):
    """Two tabs (or a double click) saving the same page at the same moment."""
    page = page_plan(survey, "executive")[2]
    answers = {i.id: 3 for i in page.items}
    respondent_id = executive.id
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def submit(value: int) -> None:
        try:
            with app.app_context():
                respondent = db.session.get(Respondent, respondent_id)
                barrier.wait(timeout=10)
                save_answers(respondent, dict.fromkeys(answers, value), position=4)
                db.session.commit()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(v,)) for v in (3, 3, 4, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    db.session.expire_all()
    saved = answers_of(db.session.get(Respondent, respondent_id))
    assert set(saved) == set(answers)  # every item once: nothing duplicated, nothing lost
    assert set(saved.values()) <= {3, 4}
    assert response_count(executive) == len(answers)
