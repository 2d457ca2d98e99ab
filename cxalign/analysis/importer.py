"""Importing answers collected elsewhere (paper, another survey tool) from a CSV file.

The format, one row per respondent::

    respondent,group,LEAD_FOCUS_1,LEAD_FOCUS_2,...,OPEN_EXEC_CHANGE,...

* ``respondent``: an identifier from the source (at most 100 characters), unique within
  the file and not already used in the survey (``Respondent.external_ref``).
* ``group``: ``executive`` or ``cx_professional``.
* one column per item code of the survey's instrument (any subset, in any order): an
  empty cell is unanswered, ``DK`` is "don't know" (only where the item offers it), and
  anything else must be a whole number from 1 to the number of points of the item's scale.
  Values are the answers as given, before any reverse coding.
* one column per open-question code (optional): the comment text. A comment is an
  error in the row of a respondent of the other group (that question was never asked).

:func:`import_responses` validates the whole file first and reports every problem with
its line (the file's own line number) and column; if there is any, nothing is imported.
Otherwise every respondent, answer and comment is added with bulk inserts, so that the
caller's single commit makes the import atomic.

Surveys in any status but ``draft`` accept imports. A draft's instrument can still be
changed (and a draft can be deleted with its respondents), so answers imported into it
could end up pointing at items the survey no longer asks, or be lost: open the survey
first. A closed survey does accept imports: collecting paper answers after the online
wave closed is the usual case, and only staff can import.

Imported respondents are ``completed`` at the moment of the import, with ``source =
"import"``. They get a personal link like everyone else (its token is never shown), so
that the uniqueness of link tokens holds for every row.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from cxalign.extensions import db
from cxalign.instruments.spec import GROUPS
from cxalign.models import (
    AuditEvent,
    Comment,
    Item,
    OpenQuestion,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
    SurveyStatus,
    User,
    derive_link_token,
    hash_token,
    utcnow,
)

RESPONDENT_COLUMN = "respondent"
GROUP_COLUMN = "group"
DONT_KNOW = "DK"
SOURCE = "import"

MAX_ROWS = 50_000
MAX_REF_LENGTH = 100  # Respondent.external_ref
MAX_COMMENT_LENGTH = 4_000  # as in the questionnaire (cxalign.respond.answers)
_GROUP_NOUNS = {"executive": "executives", "cx_professional": "CX professionals"}
# Rows are inserted in chunks so that memory stays flat for large files.
INSERT_CHUNK = 5_000


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One thing wrong with the file. ``line`` and ``column`` are None for the whole file."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ResponseImportError(ValueError):
    """The file cannot be imported; nothing was. ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[ImportProblem]):
        self.errors = sorted(errors, key=_problem_order)  # stable
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun} found; nothing was imported.")


def _problem_order(problem: ImportProblem) -> int:
    # By line; within a line, in the order found (the file's column order).
    return problem.line or 0


@dataclass(frozen=True)
class ImportSummary:
    """What an import added."""

    survey_id: int
    respondents: int
    by_group: dict[str, int] = field(default_factory=dict)
    answers: int = 0  # scale answers
    dont_know: int = 0
    comments: int = 0

    def describe(self) -> str:
        """One line for people, e.g. ``12 respondents (2 executives, 10 CX professionals), …``."""
        executives = self.by_group.get("executive", 0)
        cx = self.by_group.get("cx_professional", 0)
        return (
            f"{_count(self.respondents, 'respondent')} ({_count(executives, 'executive')}, "
            f"{_count(cx, 'CX professional')}), {_count(self.answers, 'answer')}, "
            f'{self.dont_know:,} "don\'t know", {_count(self.comments, "comment")}'
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Columns:
    """The header, resolved against the instrument."""

    respondent: int
    group: int
    items: tuple[tuple[int, Item], ...]
    questions: tuple[tuple[int, OpenQuestion], ...]
    names: tuple[str, ...]


@dataclass
class _Row:
    line: int
    ref: str
    group: str
    answers: list[tuple[int, int | None]]  # (item id, value or None for "don't know")
    comments: list[tuple[int, str]]  # (question id, text)


def decode(data: bytes | str) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else Windows-1252."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if b"\x00" in data[:4096]:
        raise ResponseImportError([ImportProblem(None, None, _NOT_TEXT)])
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ResponseImportError([ImportProblem(None, None, _NOT_TEXT)])


_NOT_TEXT = "the file is not text: save it as CSV (UTF-8)"


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every record, with the file's own line numbers."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise ResponseImportError(
            [ImportProblem(reader.line_num, None, f"not valid CSV: {error}")]
        ) from None


def _read_header(
    line: int, cells: list[str], items: dict[str, Item], questions: dict[str, OpenQuestion]
) -> tuple[_Columns | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    names = tuple(cell.strip() for cell in cells)
    by_upper_item = {code.upper(): item for code, item in items.items()}
    by_upper_question = {code.upper(): q for code, q in questions.items()}
    seen: dict[str, int] = {}
    respondent = group = None
    item_columns: list[tuple[int, Item]] = []
    question_columns: list[tuple[int, OpenQuestion]] = []
    for index, name in enumerate(names):
        label = name or f"#{index + 1}"
        key = name.upper()
        if not name:
            problems.append(ImportProblem(line, label, "the header is empty: name every column"))
            continue
        if key in seen:
            problems.append(
                ImportProblem(line, name, f"duplicate column (also column {seen[key] + 1})")
            )
            continue
        seen[key] = index
        if key == RESPONDENT_COLUMN.upper():
            respondent = index
        elif key == GROUP_COLUMN.upper():
            group = index
        elif key in by_upper_item:
            item_columns.append((index, by_upper_item[key]))
        elif key in by_upper_question:
            question_columns.append((index, by_upper_question[key]))
        else:
            problems.append(
                ImportProblem(
                    line,
                    name,
                    "unknown column: not an item or open-question code of this survey's instrument",
                )
            )
    if respondent is None:
        problems.append(ImportProblem(line, None, "the header has no 'respondent' column"))
    if group is None:
        problems.append(ImportProblem(line, None, "the header has no 'group' column"))
    if not item_columns and not problems:
        problems.append(
            ImportProblem(line, None, "the header names no item of this survey's instrument")
        )
    if problems:
        return None, problems
    return (
        _Columns(respondent, group, tuple(item_columns), tuple(question_columns), names),
        [],
    )


def _scale_text(item: Item) -> str:
    offered = f" or {DONT_KNOW}" if item.dont_know else ""
    return f"1-{item.points}{offered}"


def _read_value(line: int, item: Item, raw: str) -> tuple[object, ImportProblem | None]:
    """``None`` (unanswered), ``DONT_KNOW`` or an int; or the problem with the cell."""
    value = raw.strip()
    if not value:
        return None, None
    if value.upper() == DONT_KNOW:
        if item.dont_know:
            return DONT_KNOW, None
        return None, ImportProblem(
            line, item.code, "DK (don't know) is not offered for this item; leave it empty"
        )
    try:
        number = int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            as_float = math.nan
        if math.isfinite(as_float) and as_float.is_integer():
            number = int(as_float)  # "4.0" from a spreadsheet
        else:
            return None, ImportProblem(
                line,
                item.code,
                f"{value!r} is not an answer: expected a whole number {_scale_text(item)}",
            )
    if not 1 <= number <= item.points:
        return None, ImportProblem(
            line, item.code, f"{number} is outside the scale 1-{item.points}"
        )
    return number, None


def parse_responses(survey: Survey, data: bytes | str) -> tuple[list[_Row], list[ImportProblem]]:
    """Read and check every row of the file against the survey; nothing is written."""
    items = {
        item.code: item
        for item in db.session.scalars(
            select(Item).where(Item.instrument_id == survey.instrument_id)
        )
    }
    questions = {
        q.code: q
        for q in db.session.scalars(
            select(OpenQuestion).where(OpenQuestion.instrument_id == survey.instrument_id)
        )
    }
    records = _records(decode(data))
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        return [], [
            ImportProblem(None, None, "the file is empty: the first line must be the header row")
        ]
    columns, problems = _read_header(header[0], header[1], items, questions)
    if columns is None:
        return [], problems

    existing = set(
        db.session.scalars(
            select(Respondent.external_ref).where(
                Respondent.survey_id == survey.id, Respondent.external_ref.is_not(None)
            )
        )
    )
    first_line_of: dict[str, int] = {}
    rows: list[_Row] = []
    width = len(columns.names)
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, often at the end of a file
        if len(rows) >= MAX_ROWS:
            problems.append(
                ImportProblem(line, None, f"more than {MAX_ROWS:,} respondents: split the file")
            )
            break
        if len(cells) != width:
            problems.append(
                ImportProblem(line, None, f"{len(cells)} cells, but the header has {width} columns")
            )
            continue
        row, row_problems = _read_row(line, cells, columns)
        problems.extend(row_problems)
        if row is None:
            continue
        if row.ref:
            if row.ref in first_line_of:
                problems.append(
                    ImportProblem(
                        line,
                        RESPONDENT_COLUMN,
                        f"duplicate respondent {row.ref!r} (first on line "
                        f"{first_line_of[row.ref]})",
                    )
                )
            elif row.ref in existing:
                problems.append(
                    ImportProblem(
                        line,
                        RESPONDENT_COLUMN,
                        f"respondent {row.ref!r} is already in this survey",
                    )
                )
            first_line_of.setdefault(row.ref, line)
        rows.append(row)
    if not rows and not problems:
        problems.append(ImportProblem(None, None, "the file has a header but no respondents"))
    return rows, problems


def _read_row(line: int, cells: list[str], columns: _Columns) -> tuple[_Row | None, list]:
    problems: list[ImportProblem] = []
    ref = cells[columns.respondent].strip()
    if not ref:
        problems.append(ImportProblem(line, RESPONDENT_COLUMN, "the respondent id is empty"))
    elif len(ref) > MAX_REF_LENGTH:
        problems.append(
            ImportProblem(
                line,
                RESPONDENT_COLUMN,
                f"the respondent id is longer than {MAX_REF_LENGTH} characters",
            )
        )
    group = cells[columns.group].strip().lower()
    if group not in GROUPS:
        shown = cells[columns.group].strip()
        problems.append(
            ImportProblem(
                line,
                GROUP_COLUMN,
                f"unknown group {shown!r}: use executive or cx_professional"
                if shown
                else "the group is empty: use executive or cx_professional",
            )
        )
        group = ""
    answers: list[tuple[int, int | None]] = []
    for index, item in columns.items:
        value, problem = _read_value(line, item, cells[index])
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            answers.append((item.id, None if value == DONT_KNOW else value))
    comments: list[tuple[int, str]] = []
    for index, question in columns.questions:
        text = cells[index].strip()
        if not text:
            continue
        if group and question.group != group:
            problems.append(
                ImportProblem(
                    line,
                    question.code,
                    f"a comment for {_GROUP_NOUNS[question.group]}, but this "
                    f"respondent is in the group {group}",
                )
            )
        elif len(text) > MAX_COMMENT_LENGTH:
            problems.append(
                ImportProblem(
                    line,
                    question.code,
                    f"the comment is longer than {MAX_COMMENT_LENGTH:,} characters",
                )
            )
        else:
            comments.append((question.id, text))
    if not problems and not answers and not comments:
        problems.append(ImportProblem(line, None, "no answers and no comments: leave this row out"))
    return _Row(line, ref, group, answers, comments), problems


# --------------------------------------------------------------------------- import


def import_responses(
    survey: Survey, file_text: bytes | str, *, user: User | None = None
) -> ImportSummary:
    """Import a CSV of completed questionnaires into ``survey``, all or nothing.

    Raises :class:`ResponseImportError` listing every problem (line, column, reason) when
    anything in the file is wrong, or when the survey is a draft; nothing is written then.
    Otherwise adds the respondents, answers and comments (bulk inserts, flushed, not
    committed: the caller's commit makes the import one transaction) and records an
    audit event. If the caller's commit is not reached, roll back.
    """
    if survey.status == SurveyStatus.DRAFT:
        raise ResponseImportError(
            [
                ImportProblem(
                    None,
                    None,
                    f"survey {survey.id} is a draft: open it first, so that its instrument "
                    "is fixed before answers arrive",
                )
            ]
        )
    rows, problems = parse_responses(survey, file_text)
    if problems:
        raise ResponseImportError(problems)
    try:
        summary = _insert(survey, rows)
    except IntegrityError:
        # Only a concurrent import of the same respondent ids can get here.
        raise ResponseImportError(
            [
                ImportProblem(
                    None,
                    RESPONDENT_COLUMN,
                    "some of these respondents were added to the survey while the file was "
                    "being imported; nothing was imported, try again",
                )
            ]
        ) from None
    db.session.add(
        AuditEvent(
            organisation_id=survey.organisation_id,
            user_id=user.id if user is not None else None,
            action="responses.imported",
            target=f"survey:{survey.id}",
            detail={
                "respondents": summary.respondents,
                **summary.by_group,
                "answers": summary.answers,
                "dont_know": summary.dont_know,
                "comments": summary.comments,
            },
        )
    )
    db.session.flush()
    return summary


def _insert(survey: Survey, rows: list[_Row]) -> ImportSummary:
    secret = current_app.config["SECRET_KEY"]
    now = utcnow()
    respondent_rows = []
    for row in rows:
        nonce = secrets.token_hex(16)
        respondent_rows.append(
            {
                "survey_id": survey.id,
                "group": row.group,
                "external_ref": row.ref,
                "token_hash": hash_token(derive_link_token(secret, nonce)),
                "link_nonce": nonce,
                "status": RespondentStatus.COMPLETED.value,
                "source": SOURCE,
                "last_page": 0,
                "created_at": now,
                "started_at": now,
                "completed_at": now,
            }
        )
    db.session.flush()  # anything pending goes first, so that the bulk inserts stand alone
    respondent_table = Respondent.__table__
    insert_respondents = insert(respondent_table).returning(
        respondent_table.c.id, sort_by_parameter_order=True
    )
    ids: list[int] = []
    for start in range(0, len(respondent_rows), INSERT_CHUNK):
        chunk = respondent_rows[start : start + INSERT_CHUNK]
        ids.extend(db.session.scalars(insert_respondents, chunk))

    response_rows: list[tuple] = []
    comment_rows: list[tuple] = []
    answers = dont_know = 0
    for respondent_id, row in zip(ids, rows, strict=True):
        for item_id, value in row.answers:
            response_rows.append((respondent_id, item_id, value, value is None, now))
            if value is None:
                dont_know += 1
            else:
                answers += 1
        for question_id, text in row.comments:
            comment_rows.append((respondent_id, question_id, text, now))
    response_columns = ("respondent_id", "item_id", "value", "dont_know", "updated_at")
    comment_columns = ("respondent_id", "question_id", "text", "updated_at")
    for start in range(0, len(response_rows), INSERT_CHUNK * 10):
        bulk_insert(
            Response.__table__, response_columns, response_rows[start : start + INSERT_CHUNK * 10]
        )
    for start in range(0, len(comment_rows), INSERT_CHUNK):
        bulk_insert(Comment.__table__, comment_columns, comment_rows[start : start + INSERT_CHUNK])
    counts = Counter(row.group for row in rows)
    return ImportSummary(
        survey_id=survey.id,
        respondents=len(rows),
        by_group={group: counts.get(group, 0) for group in GROUPS},
        answers=answers,
        dont_know=dont_know,
        comments=len(comment_rows),
    )


def bulk_insert(table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert many rows of plain values in the session's transaction, as fast as the driver can.

    Hundreds of thousands of answers are more than SQLAlchemy's per-row statement
    machinery should carry (it binds and processes every value of every row), so rows go
    to the driver as tuples: ``COPY ... FROM STDIN`` on PostgreSQL (psycopg 3), one
    ``executemany`` of a prepared ``INSERT`` elsewhere (SQLite). Values still pass through
    each column type's bind processor (a UTC datetime becomes what the dialect stores),
    once per distinct value; only columns whose type has a processor are touched.
    """
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    rows = _processed(table, columns, rows, dialect)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    placeholders = ", ".join([marker] * len(columns))
    statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})"
    connection.exec_driver_sql(statement, list(rows))


def _processed(table: Table, columns: Sequence[str], rows: Sequence[tuple], dialect) -> list:
    processors = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor, {}))
    if not processors:
        return list(rows)
    processed = []
    for row in rows:
        values = list(row)
        for index, processor, cache in processors:
            value = values[index]
            key = (type(value), value)  # True and 1 are different values here
            if key not in cache:
                cache[key] = None if value is None else processor(value)
            values[index] = cache[key]
        processed.append(tuple(values))
    return processed
