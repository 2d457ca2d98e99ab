"""What keeps the answer-saving request fast, without timing anything.

The load test (benchmarks/load_test.py) measures the speed; these tests pin down the
means: a page save runs a fixed handful of statements, the instrument's outline is read
once per process for an opened survey (and always afresh for a draft, which can still
change), and the shortcuts change nothing a respondent sees.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from cxalign.extensions import db
from cxalign.models import Item, Respondent, SurveyStatus, new_token, utcnow
from cxalign.respond.answers import (
    answers_of,
    load_outline,
    page_plan,
    questionnaire_outline,
)
from cxalign.surveys.operations import find_respondent_by_token
from tests.test_respond_answers import make_respondent, make_survey
from tests.test_respond_views import PAGE_2, checked_values


@contextmanager
def statements():
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def survey():
    return make_survey()


@pytest.fixture
def executive(survey):
    return make_respondent(survey, "executive")


def test_saving_a_page_runs_three_statements(client, executive):
    respondent, token = executive
    respondent_id = respondent.id
    client.post(f"/r/{token}/page/1", data={"nav": "next"})  # the outline is now cached
    db.session.remove()  # a new request starts with an empty session
    with statements() as seen:
        response = client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"})
    assert response.status_code == 302
    kinds = [statement.split()[0].upper() for statement in seen]
    # The respondent with their survey and its instrument (one query), the answers
    # (one upsert for the page), the respondent's progress (one update).
    assert kinds == ["SELECT", "INSERT", "UPDATE"], seen
    assert len(answers_of(db.session.get(Respondent, respondent_id))) == 4


def test_an_opened_surveys_outline_is_read_once(survey):
    first = questionnaire_outline(survey)
    with statements() as seen:
        again = questionnaire_outline(survey)
    assert again is first
    assert not [s for s in seen if "FROM item" in s or "FROM dimension" in s]
    assert page_plan(survey, "executive") == list(first.plans["executive"])


def test_a_drafts_outline_is_always_read_afresh(survey):
    survey.status = SurveyStatus.DRAFT
    survey.opened_at = None
    db.session.commit()
    before = page_plan(survey, "executive")[0].items[0]
    item = db.session.get(Item, before.id)
    item.cx_text = "Edited while the survey is still a draft"
    db.session.commit()
    after = page_plan(survey, "executive")[0].items[0]
    assert after.wording("cx_professional") == "Edited while the survey is still a draft"


def test_the_cache_key_tells_apart_a_version_that_reuses_an_id(survey, monkeypatch):
    """A row id handed out again (SQLite can after a deletion) never finds the old outline."""
    cached = questionnaire_outline(survey)
    instrument = survey.instrument
    instrument.created_at = utcnow()
    db.session.commit()
    fresh = questionnaire_outline(survey)
    assert fresh is not cached
    assert fresh == load_outline(instrument.id)


@pytest.mark.parametrize("case", ["valid", "unknown", "revoked", "erased", "overlong", "empty"])
def test_the_pages_find_respondents_by_the_same_rules_as_the_surveys_module(
    client, survey, executive, case
):
    respondent, token = executive
    if case == "unknown":
        token = new_token()
    elif case in ("revoked", "erased"):
        setattr(respondent, f"{case}_at", utcnow())
        db.session.commit()
    elif case == "overlong":
        token = token + "x" * 200
    elif case == "empty":
        token = ""
    expected = find_respondent_by_token(token)
    response = client.get(f"/r/{token}/page/1")
    assert response.status_code == (200 if expected is not None else 404)
    if expected is not None:
        assert expected.id == respondent.id


def test_a_refused_page_still_shows_saved_answers_for_the_questions_not_sent(client, executive):
    respondent, token = executive
    assert client.post(f"/r/{token}/page/2", data={**PAGE_2, "nav": "next"}).status_code == 302
    # Only two questions sent this time, one of them out of range.
    response = client.post(
        f"/r/{token}/page/2", data={"item_AWARE_1": "1", "item_AWARE_3": "9", "nav": "next"}
    )
    assert response.status_code == 400
    chosen = checked_values(response.text)
    assert chosen["item_AWARE_1"] == "1"  # what was sent
    assert chosen["item_AWARE_2"] == "dk" and chosen["item_AWARE_4"] == "5"  # saved earlier
    assert "item_AWARE_3" not in chosen
    assert re.search(r'href="#item_AWARE_3-0"', response.text)
    saved = answers_of(respondent)
    aware_1 = db.session.scalar(
        select(Item.id).where(
            Item.instrument_id == respondent.survey.instrument_id, Item.code == "AWARE_1"
        )
    )
    assert saved[aware_1] == 4  # nothing was written
