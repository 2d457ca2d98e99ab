"""From a survey in the database to its gap analysis: the single source of every result.

The dashboard, the PDF, the JSON API, the exports and ``cxalign score`` all call
:func:`analyse_survey`, so they can never disagree. Scoring itself is pure
(``cxalign.scoring``); this module only loads what it needs, in bulk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy import case, func, select

from cxalign.extensions import db
from cxalign.instruments.spec import GROUPS, InstrumentSpec
from cxalign.instruments.store import spec_from_instrument
from cxalign.models import (
    Comment,
    Item,
    OpenQuestion,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
)
from cxalign.scoring import AnswerMatrix, GapResult, ScoringSettings, score_survey

# Results count completed questionnaires only: a half-finished one near the deadline
# would otherwise move the figures while people are still answering.
COUNTED_STATUSES = (RespondentStatus.COMPLETED,)


@dataclass(frozen=True)
class SurveyAnalysis:
    survey_id: int
    instrument: InstrumentSpec
    result: GapResult
    data_version: str


def scoring_settings(survey: Survey) -> ScoringSettings:
    return ScoringSettings(
        anonymity_executive=survey.anonymity_executive,
        anonymity_cx=survey.anonymity_cx,
        gap_threshold=survey.gap_threshold,
    )


def load_answers(survey: Survey, item_codes: tuple[str, ...]) -> AnswerMatrix:
    """All counted answers of the survey as a matrix.

    Built for 10,000 respondents x 60 items (benchmarks/bench_scoring_db.py): no join to
    ``item`` (item ids map to columns through one small query); the answer and "don't
    know" folded into one integer in SQL (-1 = don't know, 0 = no value); rows read with
    a plain DB-API cursor straight into numpy instead of 600,000 SQLAlchemy rows. The SQL
    is compiled with literal binds: its only values are the survey id (an int) and the
    counted statuses (constants), never user input.
    """
    # An erased respondent keeps its row (for the audit trail) but no longer counts at all.
    counted = (
        Respondent.survey_id == survey.id,
        Respondent.status.in_(COUNTED_STATUSES),
        Respondent.erased_at.is_(None),
    )
    respondents = db.session.execute(
        select(Respondent.id, Respondent.group).where(*counted).order_by(Respondent.id)
    ).all()
    if not respondents:
        return AnswerMatrix.empty(item_codes)
    respondent_ids = np.fromiter((r.id for r in respondents), np.int64, len(respondents))
    groups = np.array([r.group for r in respondents], dtype=object)

    column_of = {code: j for j, code in enumerate(item_codes)}
    items = sorted(
        db.session.execute(
            select(Item.id, Item.code).where(Item.instrument_id == survey.instrument_id)
        ).all()
    )
    item_ids = np.array([item.id for item in items], dtype=np.int64)
    item_columns = np.array([column_of.get(item.code, -1) for item in items], dtype=np.int64)

    answer = case((Response.dont_know, -1), else_=func.coalesce(Response.value, 0))
    query = (
        select(Response.respondent_id, Response.item_id, answer)
        .join(Respondent, Respondent.id == Response.respondent_id)
        .where(*counted)
    )
    connection = db.session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    data = np.fromiter(chain.from_iterable(rows), np.int64, 3 * len(rows)).reshape(-1, 3)

    values = np.full((len(respondents), len(item_codes)), np.nan)
    dont_know = np.zeros((len(respondents), len(item_codes)), dtype=bool)
    row = np.searchsorted(respondent_ids, data[:, 0])
    column = item_columns[np.searchsorted(item_ids, data[:, 1])]
    code = data[:, 2]
    answered = (column >= 0) & (code > 0)
    values[row[answered], column[answered]] = code[answered]
    unknown = (column >= 0) & (code == -1)
    dont_know[row[unknown], column[unknown]] = True
    return AnswerMatrix(item_codes, groups, values, dont_know)


def data_version(survey: Survey) -> str:
    """A fingerprint of everything a report shows; it changes whenever an answer does.

    Aggregates instead of a counter on the survey row: hundreds of respondents saving
    at once would otherwise all queue on updating that one row.
    """
    answers = db.session.execute(
        select(func.count(Response.id), func.max(Response.updated_at), func.max(Response.id))
        .join(Respondent)
        .where(Respondent.survey_id == survey.id)
    ).one()
    people = db.session.execute(
        select(
            func.count(Respondent.id),
            func.max(Respondent.completed_at),
            func.max(Respondent.erased_at),
            func.sum(func.length(Respondent.status)),
        ).where(Respondent.survey_id == survey.id)
    ).one()
    comments = db.session.execute(
        select(func.count(Comment.id), func.max(Comment.updated_at))
        .join(Respondent)
        .where(Respondent.survey_id == survey.id)
    ).one()
    fingerprint = repr((tuple(answers), tuple(people), tuple(comments), survey.updated_at))
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:32]


def analyse_survey(survey: Survey) -> SurveyAnalysis:
    """Score the survey's counted answers with its own settings."""
    instrument = spec_from_instrument(survey.instrument)
    answers = load_answers(survey, tuple(item.code for item in instrument.items))
    result = score_survey(instrument, answers, scoring_settings(survey))
    return SurveyAnalysis(survey.id, instrument, result, data_version(survey))


def survey_summary(survey: Survey) -> dict:
    """The ``survey`` block of the results JSON."""
    return {
        "id": survey.id,
        "title": survey.title,
        "organisation": survey.organisation.name,
        "status": survey.status,
        "opens_on": survey.opens_on.isoformat() if survey.opens_on else None,
        "closes_on": survey.closes_on.isoformat() if survey.closes_on else None,
    }


def results_document(survey: Survey, analysis: SurveyAnalysis | None = None) -> dict:
    """What ``cxalign score --json`` prints and ``/api/v1/surveys/<id>/results`` returns."""
    analysis = analysis or analyse_survey(survey)
    return {"survey": survey_summary(survey)} | analysis.result.to_dict()


@dataclass(frozen=True)
class CommentGroup:
    question_code: str
    question: str
    group: str
    comments: tuple[str, ...]
    suppressed: bool  # fewer than the survey's comment minimum wrote something


def load_comments(survey: Survey, result: GapResult) -> list[CommentGroup]:
    """Free-text answers per open question, hidden for suppressed groups and small counts."""
    rows = db.session.execute(
        select(OpenQuestion.code, OpenQuestion.text, OpenQuestion.group, Comment.text)
        .join(Comment, Comment.question_id == OpenQuestion.id)
        .join(Respondent, Respondent.id == Comment.respondent_id)
        .where(
            Respondent.survey_id == survey.id,
            Respondent.status.in_(COUNTED_STATUSES),
            Respondent.group == OpenQuestion.group,
        )
        .order_by(OpenQuestion.position, Comment.id)
    ).all()
    by_question: dict[str, list[str]] = {}
    for code, _text, _group, comment in rows:
        if comment.strip():
            by_question.setdefault(code, []).append(comment.strip())
    groups = []
    for question in sorted(
        survey.instrument.open_questions, key=lambda q: (GROUPS.index(q.group), q.position)
    ):
        texts = by_question.get(question.code, [])
        hidden = result.suppressed(question.group) or len(texts) < survey.comment_minimum
        groups.append(
            CommentGroup(
                question_code=question.code,
                question=question.text,
                group=question.group,
                comments=() if hidden else tuple(texts),
                suppressed=hidden,
            )
        )
    return groups
