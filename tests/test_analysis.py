"""Loading a survey's answers from the database and scoring them: the one source of results."""

from __future__ import annotations

import numpy as np
import pytest

from cxalign.analysis import (
    analyse_survey,
    data_version,
    load_answers,
    load_comments,
    results_document,
    scoring_settings,
)
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument, spec_from_instrument
from cxalign.models import Comment, Respondent, Response, Survey, utcnow
from cxalign.scoring import AnswerMatrix, score_survey


def add_respondent(survey, group, answers: dict[str, int | str], status="completed"):
    """answers: item code -> value or "DK"."""
    respondent = Respondent(survey=survey, group=group, status=status)
    respondent.issue_token("test-secret-key")
    if status == "completed":
        respondent.completed_at = utcnow()
    db.session.add(respondent)
    items = {item.code: item for dim in survey.instrument.dimensions for item in dim.items}
    for code, answer in answers.items():
        if answer == "DK":
            db.session.add(Response(respondent=respondent, item=items[code], dont_know=True))
        else:
            db.session.add(Response(respondent=respondent, item=items[code], value=answer))
    db.session.commit()
    return respondent


@pytest.fixture
def survey(make_organisation):
    survey = Survey(
        organisation=make_organisation(),
        instrument=ensure_builtin_instrument(),
        title="Wave 1",
        anonymity_executive=1,
        anonymity_cx=3,
        comment_minimum=2,
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def codes(survey):
    return tuple(item.code for item in spec_from_instrument(survey.instrument).items)


def test_answers_land_in_the_right_cells(survey):
    first, second = codes(survey)[:2]
    exec_ = add_respondent(survey, "executive", {first: 5, second: "DK"})
    cx = add_respondent(survey, "cx_professional", {second: 2})
    add_respondent(survey, "cx_professional", {first: 1}, status="started")  # not counted

    matrix = load_answers(survey, codes(survey))
    assert matrix.n_respondents == 2
    row = {r.id: i for i, r in enumerate(sorted([exec_, cx], key=lambda r: r.id))}
    assert list(matrix.groups) == ["executive", "cx_professional"]
    assert matrix.values[row[exec_.id], 0] == 5
    assert np.isnan(matrix.values[row[exec_.id], 1]) and matrix.dont_know[row[exec_.id], 1]
    assert matrix.values[row[cx.id], 1] == 2
    assert np.isnan(matrix.values[row[cx.id], 0]) and not matrix.dont_know[row[cx.id], 0]
    assert matrix.dont_know.sum() == 1


def test_an_erased_respondent_no_longer_counts(survey):
    from cxalign.surveys.operations import erase_respondent

    first = codes(survey)[0]
    kept = add_respondent(survey, "cx_professional", {first: 4})
    erased = add_respondent(survey, "cx_professional", {first: 2})
    erase_respondent(erased)
    db.session.commit()

    matrix = load_answers(survey, codes(survey))
    assert matrix.n_respondents == 1
    assert matrix.values[0, 0] == 4 and kept.erased_at is None


def test_analysis_equals_scoring_the_same_answers_directly(survey):
    rng = np.random.default_rng(7)
    item_codes = codes(survey)
    records = []
    for group, n, centre in (("executive", 4, 4), ("cx_professional", 6, 2)):
        for _ in range(n):
            answers = {c: int(np.clip(rng.normal(centre, 1), 1, 5)) for c in item_codes[:10]}
            add_respondent(survey, group, answers)
            records.append((group, answers))
    analysis = analyse_survey(survey)
    direct = score_survey(
        spec_from_instrument(survey.instrument),
        AnswerMatrix.from_records(item_codes, records),
        scoring_settings(survey),
    )
    assert analysis.result.to_dict() == direct.to_dict()

    document = results_document(survey, analysis)
    assert document["survey"]["title"] == "Wave 1"
    assert document["alignment"] == direct.to_dict()["alignment"]


def test_data_version_changes_with_any_new_answer(survey):
    first = codes(survey)[0]
    respondent = add_respondent(survey, "executive", {first: 3})
    before = data_version(survey)
    assert data_version(survey) == before  # stable while nothing changes
    items = {item.code: item for item in survey.instrument.dimensions[0].items}
    second = next(code for code in items if code != first)
    db.session.add(Response(respondent=respondent, item=items[second], value=4))
    db.session.commit()
    assert data_version(survey) != before


def test_comments_are_hidden_below_the_minimum_and_for_suppressed_groups(survey):
    exec_question = next(q for q in survey.instrument.open_questions if q.group == "executive")
    cx_question = next(q for q in survey.instrument.open_questions if q.group == "cx_professional")
    first = codes(survey)[0]
    for text in ("Fund the CX team", "<b>Listen</b> more"):
        r = add_respondent(survey, "cx_professional", {first: 2})
        db.session.add(Comment(respondent=r, question=cx_question, text=text))
    r = add_respondent(survey, "executive", {first: 5})
    db.session.add(Comment(respondent=r, question=exec_question, text="We are great"))
    db.session.commit()

    analysis = analyse_survey(survey)
    by_code = {g.question_code: g for g in load_comments(survey, analysis.result)}
    # Two CX professionals answered: below the anonymity threshold of 3, so nothing shows.
    assert by_code[cx_question.code].suppressed and by_code[cx_question.code].comments == ()
    # One executive commented: below the comment minimum of 2.
    assert by_code[exec_question.code].suppressed

    r = add_respondent(survey, "cx_professional", {first: 3})
    db.session.add(Comment(respondent=r, question=cx_question, text="More budget"))
    db.session.commit()
    analysis = analyse_survey(survey)
    by_code = {g.question_code: g for g in load_comments(survey, analysis.result)}
    assert by_code[cx_question.code].comments == (
        "Fund the CX team",
        "<b>Listen</b> more",
        "More budget",
    )
