"""Answering a questionnaire: the page plan, saving answers, resuming and completing.

A respondent answers through a personal link, one dimension per page, then a final
page with the open questions for their group. Every page is saved on the server as
the respondent moves on, so nothing is lost when they leave and come back.

Saving is an upsert on ``(respondent, item)`` (and ``(respondent, question)`` for
comments): a page submitted twice, by a double click, a browser retry or two tabs,
writes the same rows again and can never duplicate or drop an answer. Input that is
not acceptable raises :class:`AnswerError` before anything is written.

These functions add and flush rows but never commit: the caller decides when a unit
of work is done. They read no request state.

Speed: every page view and save needs the instrument's pages and items. Once a survey has
opened, its instrument version is frozen (cxalign/instruments: editing makes a new version),
so each process keeps that outline as plain, immutable data after loading it once
(:func:`questionnaire_outline`), and a save costs a handful of small statements instead of
a lazy load per dimension. See benchmarks/README.md ("Load test") for the figures.
"""

from __future__ import annotations

import enum
import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, bindparam, case, delete, select, update

from cxalign.extensions import db
from cxalign.models import (
    Comment,
    Dimension,
    Group,
    Instrument,
    Item,
    OpenQuestion,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
    SurveyStatus,
    utcnow,
)

DONT_KNOW = "dk"
DONT_KNOW_LABEL = "Don't know / not applicable"
SECONDS_PER_ITEM = 8
COMMENT_MAX_LENGTH = 4000
# Control characters other than tab and newlines: PostgreSQL refuses NUL in text.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Answer = int | str  # a scale value 1..points, or DONT_KNOW


class AnswerError(ValueError):
    """The answers cannot be saved as given; nothing was changed.

    ``message`` is for the respondent; ``problems`` maps an item or question id to
    what is wrong with that answer.
    """

    def __init__(self, message: str, problems: dict[int, str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or {}


class AlreadyCompleted(AnswerError):
    """The respondent has submitted: their answers can no longer change."""


class SurveyNotOpen(AnswerError):
    """The survey is not open (not yet, or no longer): answers cannot change."""


# ---------------------------------------------------------------------------
# Is the survey open?
# ---------------------------------------------------------------------------


class Availability(enum.StrEnum):
    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"


@dataclass(frozen=True)
class SurveyWindow:
    """Whether a survey takes answers today, and the date to tell respondents."""

    availability: Availability
    # NOT_YET_OPEN: the day it opens (if known); CLOSED: the day it closed (if known).
    on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.availability == Availability.OPEN


def survey_window(survey: Survey, today: date | None = None) -> SurveyWindow:
    """Whether the survey takes answers on ``today`` (UTC).

    A draft is not yet open. An open survey takes answers from ``opens_on`` up to and
    including ``closes_on``; after that, or once an owner closes it, it is closed.
    """
    today = today or utcnow().date()
    if survey.status == SurveyStatus.DRAFT:
        opens_on = survey.opens_on if survey.opens_on and survey.opens_on > today else None
        return SurveyWindow(Availability.NOT_YET_OPEN, opens_on)
    if survey.status == SurveyStatus.CLOSED:
        closed_on = survey.closed_at.date() if survey.closed_at else survey.closes_on
        return SurveyWindow(Availability.CLOSED, closed_on)
    if survey.closes_on and today > survey.closes_on:
        return SurveyWindow(Availability.CLOSED, survey.closes_on)
    if survey.opens_on and today < survey.opens_on:
        return SurveyWindow(Availability.NOT_YET_OPEN, survey.opens_on)
    return SurveyWindow(Availability.OPEN)


# ---------------------------------------------------------------------------
# The instrument as the questionnaire sees it, and the page plan
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionItem:
    """What the questionnaire needs of an :class:`~cxalign.models.Item`, as plain data."""

    id: int
    code: str
    executive_text: str
    cx_text: str
    scale_labels: tuple[str, ...]
    dont_know: bool
    help_text: str | None

    @property
    def points(self) -> int:
        return len(self.scale_labels)

    def wording(self, group: str) -> str:
        return self.executive_text if group == Group.EXECUTIVE else self.cx_text


@dataclass(frozen=True)
class Question:
    """An open question of the final page, as plain data."""

    id: int
    code: str
    group: str
    text: str


@dataclass(frozen=True)
class QuestionPage:
    """One page of the questionnaire: a dimension's items, or the final page."""

    number: int  # 1-based
    title: str
    description: str
    items: tuple[QuestionItem, ...] = ()
    open_questions: tuple[Question, ...] = ()
    is_final: bool = False


@dataclass(frozen=True)
class Outline:
    """An instrument version's pages, items and open questions, immutable once loaded."""

    # (title, description, items) per dimension that has items, in the instrument's order
    dimensions: tuple[tuple[str, str, tuple[QuestionItem, ...]], ...]
    open_questions: tuple[Question, ...]
    items: dict[int, QuestionItem] = field(compare=False)
    plans: dict[str, tuple[QuestionPage, ...]] = field(compare=False)


def load_outline(instrument_id: int) -> Outline:
    """Read an instrument's outline from the database: three queries."""
    dimensions = db.session.execute(
        select(Dimension.id, Dimension.name, Dimension.description)
        .where(Dimension.instrument_id == instrument_id)
        .order_by(Dimension.position, Dimension.id)
    ).all()
    items_of: dict[int, list[QuestionItem]] = {dimension.id: [] for dimension in dimensions}
    for row in db.session.execute(
        select(
            Item.dimension_id,
            Item.id,
            Item.code,
            Item.executive_text,
            Item.cx_text,
            Item.scale_labels,
            Item.dont_know,
            Item.help_text,
        )
        .where(Item.instrument_id == instrument_id)
        .order_by(Item.position, Item.id)
    ):
        items_of[row.dimension_id].append(
            QuestionItem(
                row.id,
                row.code,
                row.executive_text,
                row.cx_text,
                tuple(row.scale_labels),
                bool(row.dont_know),
                row.help_text,
            )
        )
    questions = tuple(
        Question(row.id, row.code, row.group, row.text)
        for row in db.session.execute(
            select(OpenQuestion.id, OpenQuestion.code, OpenQuestion.group, OpenQuestion.text)
            .where(OpenQuestion.instrument_id == instrument_id)
            .order_by(OpenQuestion.position, OpenQuestion.id)
        )
    )
    outlined = tuple(
        (dimension.name, dimension.description, tuple(items_of[dimension.id]))
        for dimension in dimensions
        if items_of[dimension.id]
    )
    return Outline(
        dimensions=outlined,
        open_questions=questions,
        items={item.id: item for _, _, items in outlined for item in items},
        plans={group.value: _plan(outlined, questions, group.value) for group in Group},
    )


def _plan(dimensions, questions: tuple[Question, ...], group: str) -> tuple[QuestionPage, ...]:
    pages = [
        QuestionPage(number=number, title=title, description=description, items=items)
        for number, (title, description, items) in enumerate(dimensions, start=1)
    ]
    mine = tuple(question for question in questions if question.group == group)
    pages.append(
        QuestionPage(
            number=len(pages) + 1,
            title="Your comments" if mine else "Check and submit",
            description="",
            open_questions=mine,
            is_final=True,
        )
    )
    return tuple(pages)


# Outlines of frozen instrument versions, per process. The key includes the version's
# creation time, so a row id that SQLite hands out again after a deletion never finds
# another version's outline. Bounded: old waves' versions drop out.
_OUTLINES: OrderedDict[tuple[int, datetime | None], Outline] = OrderedDict()
_OUTLINES_LOCK = threading.Lock()
OUTLINES_KEPT = 32


def questionnaire_outline(survey: Survey) -> Outline:
    """The survey's instrument outline, from this process's cache once the survey has opened.

    A draft's instrument may still be edited in place, so it is always read afresh.
    """
    if survey.status == SurveyStatus.DRAFT:
        return load_outline(survey.instrument_id)
    instrument: Instrument = survey.instrument
    key = (instrument.id, instrument.created_at)
    with _OUTLINES_LOCK:
        outline = _OUTLINES.get(key)
        if outline is not None:
            _OUTLINES.move_to_end(key)
            return outline
    outline = load_outline(instrument.id)
    with _OUTLINES_LOCK:
        _OUTLINES[key] = outline
        while len(_OUTLINES) > OUTLINES_KEPT:
            _OUTLINES.popitem(last=False)
    return outline


def page_plan(survey: Survey, group: str) -> list[QuestionPage]:
    """The pages a respondent of ``group`` sees, in order.

    One page per dimension of the survey's instrument (in the instrument's order),
    then a final page with the group's open questions and the submit button.
    """
    return list(questionnaire_outline(survey).plans[group])


def item_count(plan: list[QuestionPage]) -> int:
    return sum(len(page.items) for page in plan)


def estimated_minutes(items: int) -> int:
    """How long the questionnaire takes: about eight seconds an item, in whole minutes."""
    return max(1, round(items * SECONDS_PER_ITEM / 60))


# ---------------------------------------------------------------------------
# Reading what a respondent has answered
# ---------------------------------------------------------------------------


def answers_of(respondent: Respondent) -> dict[int, Answer]:
    """The respondent's saved answers: item id → scale value or ``DONT_KNOW``."""
    rows = db.session.execute(
        select(Response.item_id, Response.value, Response.dont_know).where(
            Response.respondent_id == respondent.id
        )
    )
    return {item_id: DONT_KNOW if dont_know else value for item_id, value, dont_know in rows}


def comments_of(respondent: Respondent) -> dict[int, str]:
    """The respondent's saved comments: open question id → text."""
    rows = db.session.execute(
        select(Comment.question_id, Comment.text).where(Comment.respondent_id == respondent.id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class PageProgress:
    page: QuestionPage
    answered: int
    total: int

    @property
    def unanswered(self) -> int:
        return self.total - self.answered

    @property
    def state(self) -> str:
        """``complete``, ``partial`` or ``empty``: the mark in the page list."""
        if self.total and self.answered == self.total:
            return "complete"
        return "partial" if self.answered else "empty"


def progress(plan: list[QuestionPage], answers: dict[int, Answer]) -> list[PageProgress]:
    """How many items of each page have an answer (the final page has none)."""
    return [
        PageProgress(page, sum(item.id in answers for item in page.items), len(page.items))
        for page in plan
    ]


def resume_page(respondent: Respondent, plan: list[QuestionPage] | None = None) -> int:
    """The page to show a respondent who comes back: the one they were on when they left."""
    plan = plan or page_plan(respondent.survey, respondent.group)
    return min(max(respondent.last_page, 1), len(plan))


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def _check_can_answer(respondent: Respondent, today: date | None) -> None:
    if respondent.revoked_at or respondent.erased_at:
        raise AnswerError("This link no longer works.")
    if respondent.status == RespondentStatus.COMPLETED:
        raise AlreadyCompleted(
            "You have already submitted your answers, so they can no longer be changed."
        )
    window = survey_window(respondent.survey, today)
    if not window.is_open:
        if window.availability == Availability.CLOSED:
            raise SurveyNotOpen("This survey has closed: answers can no longer be changed.")
        raise SurveyNotOpen("This survey is not open yet.")


def _normalise_answer(item: QuestionItem, answer: object) -> tuple[int | None, bool]:
    """``(value, dont_know)`` for a valid answer; ValueError with a reason otherwise."""
    if answer == DONT_KNOW:
        if not item.dont_know:
            raise ValueError(f'This question does not offer "{DONT_KNOW_LABEL}".')
        return None, True
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise ValueError(f"Choose one of the {item.points} options.")
    if not 1 <= answer <= item.points:
        raise ValueError(f"Choose one of the {item.points} options (1 to {item.points}).")
    return answer, False


def clean_comment(text: str) -> str:
    """A comment as stored: control characters removed, surrounding blanks trimmed."""
    return _CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n")).strip()


def _upsert(model: type[db.Model], rows: list[dict], keys: tuple[str, ...], update_columns):
    """INSERT ... ON CONFLICT (keys) DO UPDATE: one statement, safe under concurrency."""
    dialect = db.session.get_bind().dialect.name
    statement = _upsert_statement(dialect, model.__table__, keys, tuple(update_columns))
    db.session.execute(statement, rows)


@functools.cache
def _upsert_statement(dialect: str, table, keys: tuple[str, ...], update_columns: tuple[str, ...]):
    # Built once: statements are immutable, and building ``excluded`` costs more than
    # running the statement.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - cxalign supports SQLite and PostgreSQL only
        raise RuntimeError(f"unsupported database: {dialect}")
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: statement.excluded[column] for column in update_columns},
    )


@functools.cache
def _progress_statement(with_page: bool):
    """One UPDATE: invited becomes started, and (``with_page``) the resume page is kept.

    Only an invited respondent becomes started, so a concurrent request can never move
    a respondent backwards. Built once, like ``_upsert_statement``.
    """
    table = Respondent.__table__
    invited = table.c.status == RespondentStatus.INVITED.value
    values = {
        "status": case((invited, RespondentStatus.STARTED.value), else_=table.c.status),
        "started_at": case(
            (invited, bindparam("now", type_=table.c.started_at.type)), else_=table.c.started_at
        ),
    }
    if with_page:
        values["last_page"] = bindparam("page", type_=Integer)
    return update(table).where(table.c.id == bindparam("respondent", type_=Integer)).values(values)


def save_answers(
    respondent: Respondent,
    page_answers: dict[int, Answer | None],
    comments: dict[int, str | None] | None = None,
    *,
    position: int | None = None,
    today: date | None = None,
) -> int:
    """Save a page of answers for the respondent; return how many answers were written.

    ``page_answers`` maps item ids to a scale value (1..points), ``DONT_KNOW`` (only
    where the item offers it), or None for "not answered here" (a saved answer stays).
    ``comments`` maps open-question ids of the respondent's group to text; empty text
    deletes the comment. ``position`` is the page the respondent moves on to, which is
    where their link resumes.

    Either everything is valid and saved, or :class:`AnswerError` is raised and nothing
    changes. Saving the same page again writes the same rows: never a duplicate.
    The first save marks an invited respondent as started.
    """
    _check_can_answer(respondent, today)
    outline = questionnaire_outline(respondent.survey)
    items = outline.items
    questions = {
        question.id: question
        for question in outline.open_questions
        if question.group == respondent.group
    }

    problems: dict[int, str] = {}
    now = utcnow()
    answer_rows: list[dict] = []
    for item_id, answer in page_answers.items():
        item = items.get(item_id) if isinstance(item_id, int) else None
        if item is None:
            raise AnswerError("One of these questions is not part of this questionnaire.")
        if answer is None:
            continue
        try:
            value, dont_know = _normalise_answer(item, answer)
        except ValueError as error:
            problems[item_id] = str(error)
            continue
        answer_rows.append(
            {
                "respondent_id": respondent.id,
                "item_id": item_id,
                "value": value,
                "dont_know": dont_know,
                "updated_at": now,
            }
        )

    comment_rows: list[dict] = []
    emptied: list[int] = []
    for question_id, text in (comments or {}).items():
        if question_id not in questions:
            raise AnswerError("One of these questions is not part of this questionnaire.")
        if text is None:
            continue
        if not isinstance(text, str):
            problems[question_id] = "A comment must be text."
            continue
        text = clean_comment(text)
        if len(text) > COMMENT_MAX_LENGTH:
            problems[question_id] = (
                f"Please keep your comment under {COMMENT_MAX_LENGTH:,} characters "
                f"(it has {len(text):,})."
            )
        elif text:
            comment_rows.append(
                {
                    "respondent_id": respondent.id,
                    "question_id": question_id,
                    "text": text,
                    "updated_at": now,
                }
            )
        else:
            emptied.append(question_id)

    if problems:
        raise AnswerError("Some answers could not be saved; nothing was changed.", problems)

    if answer_rows:
        _upsert(
            Response,
            answer_rows,
            ("respondent_id", "item_id"),
            ("value", "dont_know", "updated_at"),
        )
    if comment_rows:
        _upsert(Comment, comment_rows, ("respondent_id", "question_id"), ("text", "updated_at"))
    if emptied:
        db.session.execute(
            delete(Comment).where(
                Comment.respondent_id == respondent.id, Comment.question_id.in_(emptied)
            )
        )
    parameters = {"respondent": respondent.id, "now": now}
    if position is not None:
        parameters["page"] = max(0, position)
    db.session.execute(_progress_statement(position is not None), parameters)
    db.session.expire(respondent, ["status", "started_at", "last_page", "responses", "comments"])
    return len(answer_rows) + len(comment_rows) + len(emptied)


def mark_completed(respondent: Respondent, *, today: date | None = None) -> bool:
    """Record that the respondent has submitted; True the first time, False afterwards.

    Answers are final from then on. Submitting twice is harmless.
    """
    if respondent.status == RespondentStatus.COMPLETED:
        return False
    _check_can_answer(respondent, today)
    now = utcnow()
    result = db.session.execute(
        update(Respondent)
        .where(Respondent.id == respondent.id, Respondent.status != RespondentStatus.COMPLETED)
        .values(
            status=RespondentStatus.COMPLETED,
            completed_at=now,
            started_at=respondent.started_at or now,
        )
    )
    db.session.flush()
    db.session.refresh(respondent)
    return result.rowcount == 1
