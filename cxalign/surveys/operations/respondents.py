"""Respondents: parsing pasted lines and CSV files, adding, new links, revoking, erasing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.instruments.spec import GROUPS
from cxalign.models import (
    Comment,
    EmailMessage,
    Group,
    Respondent,
    Response,
    Survey,
    User,
    new_token,
    utcnow,
)
from cxalign.surveys.operations.lifecycle import refuse_if_closed
from cxalign.surveys.operations.rules import MAX_IMPORT_ROWS, SurveyError, secret_key, survey_target


class RespondentImportError(SurveyError):
    """Rows that cannot be imported. Nothing was added: imports are all or nothing.

    ``errors`` lists ``(line number, reason)`` pairs, in line order.
    """

    def __init__(self, errors: Sequence[tuple[int, str]]):
        self.errors = sorted(errors)
        count = len(self.errors)
        super().__init__(
            f"{count} {'row has a problem' if count == 1 else 'rows have problems'}; "
            "nothing was imported."
        )


@dataclass(frozen=True)
class RespondentRow:
    """One respondent to add, with the line it came from."""

    line: int
    email: str
    group: str
    name: str | None = None


_GROUP_ALIASES = {
    "executive": Group.EXECUTIVE.value,
    "executives": Group.EXECUTIVE.value,
    "exec": Group.EXECUTIVE.value,
    "execs": Group.EXECUTIVE.value,
    "cx_professional": Group.CX_PROFESSIONAL.value,
    "cx_professionals": Group.CX_PROFESSIONAL.value,
    "cx_pro": Group.CX_PROFESSIONAL.value,
    "cx": Group.CX_PROFESSIONAL.value,
}


def normalise_group(text: str) -> str | None:
    """``executive`` or ``cx_professional`` for the spellings people paste; else None."""
    key = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    return _GROUP_ALIASES.get(key)


def require_group(group: str) -> str:
    value = normalise_group(group or "")
    if value is None:
        raise SurveyError(f"Unknown group {group!r}: use executive or cx_professional.")
    return value


def normalise_respondent_email(text: str) -> str:
    """A checked, lower-cased email address; ``EmailNotValidError`` when it is not one."""
    return validate_email(text.strip(), check_deliverability=False).normalized.lower()


def _row_problems(
    line: int, cells: list[str], seen: dict[str, int]
) -> tuple[RespondentRow | None, list[str]]:
    email_text = cells[0].strip() if cells else ""
    group_text = cells[1].strip() if len(cells) > 1 else ""
    name = cells[2].strip() if len(cells) > 2 else ""
    problems = []
    email = None
    if not email_text:
        problems.append("missing email")
    else:
        try:
            email = normalise_respondent_email(email_text)
        except EmailNotValidError:
            problems.append(f"bad email {email_text!r}")
    group = normalise_group(group_text) if group_text else None
    if not group_text:
        problems.append("missing group (executive or cx_professional)")
    elif group is None:
        problems.append(f"unknown group {group_text!r} (use executive or cx_professional)")
    if len(name) > 200:
        problems.append("name longer than 200 characters")
    if email is not None:
        if email in seen:
            problems.append(f"duplicate of line {seen[email]} ({email})")
        else:
            seen[email] = line
    if problems:
        return None, problems
    return RespondentRow(line=line, email=email, group=group, name=name or None), []


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    """Column positions by name when ``cells`` is a header row (it names an email column)."""
    names = [cell.strip().lower().lstrip("\ufeff").replace("e-mail", "email") for cell in cells]
    if "email" not in names:
        return None
    return {name: position for position, name in reversed(list(enumerate(names)))}


def _parse_rows(
    records: Iterable[tuple[int, list[str]]], *, max_columns: int
) -> list[RespondentRow]:
    rows: list[RespondentRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    header_checked = False
    columns: dict[str, int] | None = None
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if not header_checked:
            header_checked = True
            columns = _header_columns(cells)
            if columns is not None:
                if "group" not in columns:
                    errors.append((line, "the header has no 'group' column"))
                    break
                continue
        if columns is not None:
            ordered = [
                cells[columns[name]] if columns.get(name, len(cells)) < len(cells) else ""
                for name in ("email", "group", "name")
            ]
        else:
            if len(cells) > max_columns:
                errors.append(
                    (line, f"{len(cells)} columns; expected email, group and an optional name")
                )
                continue
            ordered = cells
        row, problems = _row_problems(line, ordered, seen)
        if problems:
            errors.append((line, "; ".join(problems)))
        else:
            rows.append(row)
        if len(rows) + len(errors) > MAX_IMPORT_ROWS:
            errors.append((line, f"more than {MAX_IMPORT_ROWS} rows; split the list"))
            break
    if errors:
        raise RespondentImportError(errors)
    if not rows:
        raise RespondentImportError([(1, "no respondents found")])
    return rows


def _delimiter(text: str) -> str:
    if "\t" in text:
        return "\t"
    if ";" in text and "," not in text:
        return ";"
    return ","


def parse_respondent_lines(text: str) -> list[RespondentRow]:
    """Parse pasted ``email, group[, name]`` lines (commas, semicolons or tabs).

    Blank lines are skipped, an ``email,group`` header is allowed. Every bad line is
    reported at once, with its number, in a ``RespondentImportError``.
    """
    lines = (text or "").splitlines()
    delimiter = _delimiter(text or "")
    records = (
        (number, next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), []))
        for number, line in enumerate(lines, start=1)
    )
    return _parse_rows(records, max_columns=3)


def decode_upload(data: bytes) -> str:
    """Text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1252 from Excel."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RespondentImportError([(1, "the file is not text: save it as CSV (UTF-8)")])


def parse_respondent_csv(data: bytes) -> list[RespondentRow]:
    """Parse an uploaded CSV of ``email,group[,name]`` rows (a header row is optional).

    With a header, columns are found by name (``email``, ``group``, ``name``) and other
    columns are ignored. Line numbers are the file's own.
    """
    if b"\x00" in data[:4096]:
        raise RespondentImportError([(1, "the file is not text: save it as CSV (UTF-8)")])
    text = decode_upload(data)
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records():
        line = 1
        try:
            for cells in reader:
                yield line, cells
                line = reader.line_num + 1
        except csv.Error as error:
            raise RespondentImportError([(reader.line_num, f"not valid CSV: {error}")]) from None

    return _parse_rows(records(), max_columns=3)


def add_respondents(
    survey: Survey, rows: Sequence[RespondentRow], *, user: User | None = None
) -> list[Respondent]:
    """Add parsed rows as invited respondents, all or nothing.

    Emails already in the survey are refused with their line numbers; nothing is added
    unless every row can be.
    """
    refuse_if_closed(survey, "A closed survey takes no new respondents. Reopen it first.")
    existing = set(
        db.session.scalars(
            select(Respondent.email).where(
                Respondent.survey_id == survey.id, Respondent.email.is_not(None)
            )
        )
    )
    errors = [
        (row.line, f"{row.email} is already a respondent of this survey")
        for row in rows
        if row.email in existing
    ]
    seen: dict[str, int] = {}
    for row in rows:
        if row.email in seen:
            errors.append((row.line, f"duplicate of line {seen[row.email]} ({row.email})"))
        seen.setdefault(row.email, row.line)
    if errors:
        raise RespondentImportError(errors)
    secret = secret_key()
    respondents = []
    for row in rows:
        respondent = Respondent(
            survey=survey, group=row.group, email=row.email, name=row.name, source="invited"
        )
        respondent.issue_token(secret)
        respondents.append(respondent)
    db.session.add_all(respondents)
    db.session.flush()
    counts = Counter(row.group for row in rows)
    audit(
        survey.organisation_id,
        user,
        "respondents.added",
        survey_target(survey),
        count=len(rows),
        **{group: counts.get(group, 0) for group in GROUPS},
    )
    return respondents


def add_respondent_without_email(
    survey: Survey, group: str, *, name: str | None = None, user: User | None = None
) -> tuple[Respondent, str]:
    """A respondent the owner will hand a personal link to; returns it and the token."""
    group = require_group(group)
    refuse_if_closed(survey, "A closed survey takes no new respondents. Reopen it first.")
    name = (name or "").strip() or None
    if name and len(name) > 200:
        raise SurveyError("The label can be at most 200 characters.")
    respondent = Respondent(survey=survey, group=group, name=name, source="link")
    token = respondent.issue_token(secret_key())
    db.session.add(respondent)
    db.session.flush()
    audit(
        survey.organisation_id,
        user,
        "respondents.added",
        survey_target(survey),
        count=1,
        **{g: int(g == group) for g in GROUPS},
        without_email=True,
    )
    return respondent, token


def issue_new_link(respondent: Respondent, *, user: User | None = None) -> str:
    """A new personal link for the respondent: the old one stops working at once.

    A revoked respondent is restored by this (their answers were never removed).
    """
    if respondent.erased_at is not None:
        raise SurveyError("This respondent was erased.")
    survey = respondent.survey
    refuse_if_closed(survey, "The survey is closed: reopen it before sending new links.")
    token = respondent.issue_token(secret_key())
    restored = respondent.revoked_at is not None
    respondent.revoked_at = None
    audit(
        survey.organisation_id,
        user,
        "respondent.new_link",
        survey_target(survey),
        respondent_id=respondent.id,
        restored=restored,
    )
    db.session.flush()
    return token


def revoke_respondent(respondent: Respondent, *, user: User | None = None) -> None:
    """Stop the respondent's link working. Answers already given are kept."""
    if respondent.revoked_at is not None or respondent.erased_at is not None:
        return
    respondent.revoked_at = utcnow()
    audit(
        respondent.survey.organisation_id,
        user,
        "respondent.revoked",
        survey_target(respondent.survey),
        respondent_id=respondent.id,
    )
    db.session.flush()


def erase_respondent(respondent: Respondent, *, user: User | None = None) -> None:
    """Remove a person from a survey: their answers, comments, name, email and messages.

    The row stays (marked erased, its link dead) so that the audit trail still makes sense.
    """
    if respondent.erased_at is not None:
        return
    survey = respondent.survey
    now = utcnow()
    db.session.execute(Response.__table__.delete().where(Response.respondent_id == respondent.id))
    db.session.execute(Comment.__table__.delete().where(Comment.respondent_id == respondent.id))
    db.session.execute(
        EmailMessage.__table__.update()
        .where(EmailMessage.respondent_id == respondent.id)
        .values(recipient="(erased)", body_text="(erased at the respondent's request)")
    )
    respondent.email = None
    respondent.name = None
    respondent.external_ref = None
    respondent.erased_at = now
    respondent.revoked_at = respondent.revoked_at or now
    # A fresh, never-shown token: nothing can open the erased record any more.
    respondent.issue_token(new_token())
    db.session.expire(respondent, ["responses", "comments"])
    audit(
        survey.organisation_id,
        user,
        "respondent.erased",
        survey_target(survey),
        respondent_id=respondent.id,
    )
    db.session.flush()


def respondent_label(respondent: Respondent) -> str:
    """How staff see a respondent in lists: email, else name, else a number."""
    if respondent.erased_at is not None:
        return f"Erased respondent #{respondent.id}"
    return respondent.email or respondent.name or f"Link-only respondent #{respondent.id}"
