"""Survey waves: lifecycle, respondents, personal and open links, invitations, status.

Views, the CLI and tests call these functions; none reads request state. They add and
flush rows but never commit: the caller decides when a unit of work is done.

The rules, in one place:

* Status moves only by explicit actions: ``draft → open → closed``, and a closed survey
  may be reopened (while its personal data has not been purged). A closed survey accepts
  no answers, respondents or messages, and keeps every answer it has.
* Once a survey has opened, its instrument and opening date are fixed, and promises made
  to respondents can only get stronger: anonymity thresholds may be raised, never lowered,
  and "anonymous to staff" may be switched on, never off.
* Personal links carry a token derived from a random nonce (see ``Respondent.issue_token``);
  only the token's hash is stored. Open links store only their token's hash too.
* Reminders go only to invited respondents who have not completed, have an email address,
  and have not been contacted within the survey's reminder cooldown.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.models import (
    AuditEvent,
    Comment,
    EmailMessage,
    Group,
    Instrument,
    Item,
    OpenLink,
    Organisation,
    Respondent,
    RespondentStatus,
    Response,
    Survey,
    SurveyStatus,
    User,
    hash_token,
    new_token,
    utcnow,
)

# Limits that the forms, the CLI and these functions share.
MIN_ANONYMITY = {Group.EXECUTIVE.value: 1, Group.CX_PROFESSIONAL.value: 3}
MAX_ANONYMITY = 50
# Below this many executives, each executive's answers may be attributable to them.
ATTRIBUTABLE_BELOW = 3
MIN_GAP_THRESHOLD = 0.1
MAX_GAP_THRESHOLD = 2.0
MIN_COOLDOWN_HOURS = 1
MAX_COOLDOWN_HOURS = 24 * 30
MAX_IMPORT_ROWS = 10_000

MESSAGE_INVITATION = "invitation"
MESSAGE_REMINDER = "reminder"


class SurveyError(ValueError):
    """A survey operation that cannot go ahead, with a reason fit to show the owner."""


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


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------


def audit(
    organisation_id: int,
    user: User | None,
    action: str,
    target: str = "",
    **detail,
) -> AuditEvent:
    """Record a sensitive action. ``detail`` never holds respondents' emails or answers."""
    event = AuditEvent(
        organisation_id=organisation_id,
        user_id=user.id if user is not None else None,
        action=action,
        target=target,
        detail=detail,
    )
    db.session.add(event)
    return event


def _survey_target(survey: Survey) -> str:
    return f"survey:{survey.id}"


# ---------------------------------------------------------------------------
# Personal links and open links
# ---------------------------------------------------------------------------


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def public_url(path: str) -> str:
    """An absolute URL for emails and copy buttons, from PUBLIC_BASE_URL."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def respondent_link(respondent: Respondent) -> str:
    """The respondent's personal link (absolute), re-derived from the stored nonce."""
    return public_url(f"/r/{respondent.link_token(_secret())}")


def personal_link_url(token: str) -> str:
    return public_url(f"/r/{token}")


def open_link_url(token: str) -> str:
    return public_url(f"/join/{token}")


def _plausible_token(token: str | None) -> bool:
    return bool(token) and len(token) <= 200


def find_respondent_by_token(token: str) -> Respondent | None:
    """The respondent whose personal link carries this token, or None.

    Lookup is by the token's hash only; revoked and erased respondents are not found,
    so their links answer a plain 404.
    """
    if not _plausible_token(token):
        return None
    respondent = db.session.scalar(
        select(Respondent).where(Respondent.token_hash == hash_token(token))
    )
    if respondent is None or respondent.revoked_at or respondent.erased_at:
        return None
    return respondent


def create_open_link(survey: Survey, group: str, *, user: User | None = None) -> str:
    """Create the open link for one group and return its token (shown once, never stored).

    Any earlier open link of the group is revoked: one works at a time.
    """
    group = _group(group)
    _refuse_if_closed(survey, "A closed survey takes no new respondents.")
    now = utcnow()
    for link in survey.open_links:
        if link.group == group and link.revoked_at is None:
            link.revoked_at = now
    token = new_token()
    db.session.add(OpenLink(survey=survey, group=group, token_hash=hash_token(token)))
    audit(
        survey.organisation_id,
        user,
        "survey.open_link_created",
        _survey_target(survey),
        group=group,
    )
    db.session.flush()
    return token


def revoke_open_link(survey: Survey, group: str, *, user: User | None = None) -> bool:
    """Stop the group's open link working; True when there was one."""
    group = _group(group)
    link = active_open_link(survey, group)
    if link is None:
        return False
    link.revoked_at = utcnow()
    audit(
        survey.organisation_id,
        user,
        "survey.open_link_revoked",
        _survey_target(survey),
        group=group,
    )
    db.session.flush()
    return True


def active_open_link(survey: Survey, group: str) -> OpenLink | None:
    for link in survey.open_links:
        if link.group == group and link.revoked_at is None:
            return link
    return None


def find_open_link(token: str) -> OpenLink | None:
    """The live open link carrying this token, or None (unknown or revoked)."""
    if not _plausible_token(token):
        return None
    link = db.session.scalar(select(OpenLink).where(OpenLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None:
        return None
    return link


def join_open_link(open_link: OpenLink) -> tuple[Respondent, str]:
    """A fresh respondent of the link's group, and their personal-link token.

    The respond pages send the visitor on to ``/r/<token>`` so that reloading or coming
    back later continues the same answers rather than starting again.
    """
    respondent = Respondent(survey=open_link.survey, group=open_link.group, source="open_link")
    token = respondent.issue_token(_secret())
    db.session.add(respondent)
    db.session.flush()
    return respondent, token


# ---------------------------------------------------------------------------
# Survey lifecycle and settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySettings:
    """The owner-editable settings of a survey, validated together."""

    title: str
    introduction: str = ""
    opens_on: date | None = None
    closes_on: date | None = None
    anonymity_executive: int = 3
    anonymity_cx: int = 3
    gap_threshold: float = 0.5
    reminder_cooldown_hours: int = 48
    anonymous_to_staff: bool = True


def settings_of(survey: Survey) -> SurveySettings:
    return SurveySettings(
        title=survey.title,
        introduction=survey.introduction or "",
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
        anonymity_executive=survey.anonymity_executive,
        anonymity_cx=survey.anonymity_cx,
        gap_threshold=survey.gap_threshold,
        reminder_cooldown_hours=survey.reminder_cooldown_hours,
        anonymous_to_staff=survey.anonymous_to_staff,
    )


def settings_problems(settings: SurveySettings) -> list[str]:
    """Everything wrong with a set of settings, as sentences for the owner."""
    problems = []
    title = (settings.title or "").strip()
    if not title:
        problems.append("Give the survey a title.")
    elif len(title) > 200:
        problems.append("The title can be at most 200 characters.")
    if settings.opens_on and settings.closes_on and settings.closes_on < settings.opens_on:
        problems.append("The closing date must be on or after the opening date.")
    for group, value in (
        (Group.EXECUTIVE.value, settings.anonymity_executive),
        (Group.CX_PROFESSIONAL.value, settings.anonymity_cx),
    ):
        low = MIN_ANONYMITY[group]
        if not isinstance(value, int) or not low <= value <= MAX_ANONYMITY:
            problems.append(
                f"The anonymity threshold for {GROUP_LABELS[group].lower()} must be a whole "
                f"number from {low} to {MAX_ANONYMITY}."
            )
    gap = settings.gap_threshold
    if not isinstance(gap, int | float) or not MIN_GAP_THRESHOLD <= gap <= MAX_GAP_THRESHOLD:
        problems.append(
            f"The gap threshold must be between {MIN_GAP_THRESHOLD} and {MAX_GAP_THRESHOLD} "
            "points on a 5-point scale."
        )
    hours = settings.reminder_cooldown_hours
    if not isinstance(hours, int) or not MIN_COOLDOWN_HOURS <= hours <= MAX_COOLDOWN_HOURS:
        problems.append(
            f"The reminder cooldown must be from {MIN_COOLDOWN_HOURS} to {MAX_COOLDOWN_HOURS} "
            "hours."
        )
    return problems


def instrument_choices(organisation: Organisation) -> list[Instrument]:
    """Instruments an organisation may run: the built-ins and its own, newest first."""
    return list(
        db.session.scalars(
            select(Instrument)
            .where(
                (Instrument.organisation_id.is_(None))
                | (Instrument.organisation_id == organisation.id)
            )
            .order_by(
                Instrument.organisation_id.is_(None).desc(),
                Instrument.name,
                Instrument.version.desc(),
            )
        )
    )


def _check_instrument(organisation: Organisation, instrument: Instrument) -> None:
    if instrument.organisation_id not in (None, organisation.id):
        raise SurveyError("That instrument belongs to another organisation.")


def create_survey(
    organisation: Organisation,
    *,
    title: str,
    instrument: Instrument | None = None,
    opens_on: date | None = None,
    closes_on: date | None = None,
    anonymity_executive: int = 3,
    anonymity_cx: int = 3,
    gap_threshold: float = 0.5,
    reminder_cooldown_hours: int = 48,
    anonymous_to_staff: bool = True,
    introduction: str = "",
    created_by: User | None = None,
) -> Survey:
    """A new draft survey of ``organisation`` (the built-in instrument unless one is given)."""
    from cxalign.instruments.store import ensure_builtin_instrument

    settings = SurveySettings(
        title=title,
        introduction=introduction,
        opens_on=opens_on,
        closes_on=closes_on,
        anonymity_executive=anonymity_executive,
        anonymity_cx=anonymity_cx,
        gap_threshold=gap_threshold,
        reminder_cooldown_hours=reminder_cooldown_hours,
        anonymous_to_staff=anonymous_to_staff,
    )
    problems = settings_problems(settings)
    if problems:
        raise SurveyError(" ".join(problems))
    if instrument is None:
        instrument = ensure_builtin_instrument()
    _check_instrument(organisation, instrument)
    survey = Survey(
        organisation=organisation,
        instrument=instrument,
        status=SurveyStatus.DRAFT.value,
        created_by_id=created_by.id if created_by is not None else None,
    )
    _apply_settings(survey, settings)
    db.session.add(survey)
    db.session.flush()
    audit(
        organisation.id,
        created_by,
        "survey.created",
        _survey_target(survey),
        title=survey.title,
        instrument_id=instrument.id,
    )
    return survey


def _apply_settings(survey: Survey, settings: SurveySettings) -> None:
    survey.title = settings.title.strip()
    survey.introduction = (settings.introduction or "").strip()
    survey.opens_on = settings.opens_on
    survey.closes_on = settings.closes_on
    survey.anonymity_executive = settings.anonymity_executive
    survey.anonymity_cx = settings.anonymity_cx
    survey.gap_threshold = float(settings.gap_threshold)
    survey.reminder_cooldown_hours = settings.reminder_cooldown_hours
    survey.anonymous_to_staff = settings.anonymous_to_staff


def locked_settings(survey: Survey) -> frozenset[str]:
    """The settings that can no longer change, given the survey's status."""
    if survey.status == SurveyStatus.DRAFT:
        return frozenset()
    return frozenset({"instrument", "opens_on"})


def update_settings(
    survey: Survey,
    settings: SurveySettings,
    *,
    instrument: Instrument | None = None,
    user: User | None = None,
) -> list[str]:
    """Change a survey's settings; returns the names of the settings that changed.

    Raises ``SurveyError`` when the change breaks a rule (see the module docstring).
    """
    problems = settings_problems(settings)
    before = settings_of(survey)
    if survey.status != SurveyStatus.DRAFT:
        if instrument is not None and instrument.id != survey.instrument_id:
            problems.append("The instrument cannot change once the survey has opened.")
        if settings.opens_on != before.opens_on:
            problems.append("The opening date cannot change once the survey has opened.")
        if (
            settings.anonymity_executive < before.anonymity_executive
            or settings.anonymity_cx < before.anonymity_cx
        ):
            problems.append(
                "Anonymity thresholds can only be raised once the survey has opened: "
                "people answered under the promise of the current one."
            )
        if before.anonymous_to_staff and not settings.anonymous_to_staff:
            problems.append("This survey was opened as anonymous to staff, so it stays that way.")
    if problems:
        raise SurveyError(" ".join(problems))
    if instrument is not None:
        _check_instrument(survey.organisation, instrument)
    changed = [
        name
        for name in SurveySettings.__dataclass_fields__
        if getattr(before, name) != getattr(settings, name)
    ]
    if instrument is not None and instrument.id != survey.instrument_id:
        survey.instrument = instrument
        changed.append("instrument")
    _apply_settings(survey, settings)
    if changed:
        audit(
            survey.organisation_id,
            user,
            "survey.settings_changed",
            _survey_target(survey),
            changed=changed,
        )
    db.session.flush()
    return changed


def open_problems(survey: Survey, today: date | None = None) -> list[str]:
    """Why the survey cannot be opened now (empty when it can)."""
    today = today or utcnow().date()
    problems = []
    if survey.status == SurveyStatus.OPEN:
        problems.append("The survey is already open.")
    if survey.personal_data_purged_at is not None:
        problems.append("This survey's personal data has been purged; it cannot open again.")
    if survey.closes_on and survey.closes_on < today:
        problems.append(
            f"Its closing date ({survey.closes_on:%d %b %Y}) has passed: move it first."
        )
    item_count = db.session.scalar(
        select(func.count(Item.id)).where(Item.instrument_id == survey.instrument_id)
    )
    if not item_count:
        problems.append("Its instrument has no questions yet.")
    return problems


def open_survey(survey: Survey, *, user: User | None = None, now: datetime | None = None) -> None:
    """``draft → open`` (or reopen a closed survey): respondents can answer from now on.

    Opening is the explicit start: a planned opening date still in the future becomes
    today, because links only work from the opening date on.
    """
    now = now or utcnow()
    problems = open_problems(survey, now.date())
    if problems:
        raise SurveyError(" ".join(problems))
    previous = survey.status
    survey.status = SurveyStatus.OPEN.value
    if survey.opened_at is None:
        survey.opened_at = now
    if survey.opens_on is None or survey.opens_on > now.date():
        survey.opens_on = now.date()
    survey.closed_at = None
    action = "survey.reopened" if previous == SurveyStatus.CLOSED else "survey.opened"
    audit(survey.organisation_id, user, action, _survey_target(survey), previous=previous)
    db.session.flush()


def reopen_survey(survey: Survey, *, user: User | None = None, now: datetime | None = None) -> None:
    """``closed → open``, for late answers. Earlier answers are kept as they were."""
    if survey.status != SurveyStatus.CLOSED:
        raise SurveyError("Only a closed survey can be reopened.")
    open_survey(survey, user=user, now=now)


def close_survey(survey: Survey, *, user: User | None = None, now: datetime | None = None) -> None:
    """``open → closed``: no more answers; every answer given so far is kept."""
    if survey.status != SurveyStatus.OPEN:
        raise SurveyError(
            "Only an open survey can be closed."
            if survey.status == SurveyStatus.DRAFT
            else "The survey is already closed."
        )
    survey.status = SurveyStatus.CLOSED.value
    survey.closed_at = now or utcnow()
    audit(survey.organisation_id, user, "survey.closed", _survey_target(survey))
    db.session.flush()


def delete_draft_survey(survey: Survey, *, user: User | None = None) -> None:
    """Delete a survey that never opened (with its respondents and messages)."""
    if survey.status != SurveyStatus.DRAFT or survey.opened_at is not None:
        raise SurveyError("Only a draft survey that never opened can be deleted.")
    audit(
        survey.organisation_id, user, "survey.deleted", _survey_target(survey), title=survey.title
    )
    db.session.delete(survey)
    db.session.flush()


def executives_may_be_attributable(survey: Survey) -> bool:
    """True when the executive threshold is so low that answers may be traced to a person.

    Executives are told so before they answer.
    """
    return survey.anonymity_executive < ATTRIBUTABLE_BELOW


def past_closing_date(survey: Survey, today: date | None = None) -> bool:
    """True when an open survey's closing date has passed: its links no longer take answers."""
    today = today or utcnow().date()
    return survey.closes_on is not None and survey.closes_on < today


def _refuse_if_past_closing_date(survey: Survey, today: date | None = None) -> None:
    if past_closing_date(survey, today):
        raise SurveyError(
            "The closing date has passed, so links no longer take answers: move the closing "
            "date in the settings first."
        )


def _refuse_if_closed(survey: Survey, reason: str) -> None:
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError(reason)


# ---------------------------------------------------------------------------
# Respondents: parsing pasted lines and CSV files, adding, revoking, erasing
# ---------------------------------------------------------------------------


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


def _group(group: str) -> str:
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
    _refuse_if_closed(survey, "A closed survey takes no new respondents. Reopen it first.")
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
    secret = _secret()
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
        _survey_target(survey),
        count=len(rows),
        **{group: counts.get(group, 0) for group in GROUPS},
    )
    return respondents


def add_respondent_without_email(
    survey: Survey, group: str, *, name: str | None = None, user: User | None = None
) -> tuple[Respondent, str]:
    """A respondent the owner will hand a personal link to; returns it and the token."""
    group = _group(group)
    _refuse_if_closed(survey, "A closed survey takes no new respondents. Reopen it first.")
    name = (name or "").strip() or None
    if name and len(name) > 200:
        raise SurveyError("The label can be at most 200 characters.")
    respondent = Respondent(survey=survey, group=group, name=name, source="link")
    token = respondent.issue_token(_secret())
    db.session.add(respondent)
    db.session.flush()
    audit(
        survey.organisation_id,
        user,
        "respondents.added",
        _survey_target(survey),
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
    _refuse_if_closed(survey, "The survey is closed: reopen it before sending new links.")
    token = respondent.issue_token(_secret())
    restored = respondent.revoked_at is not None
    respondent.revoked_at = None
    audit(
        survey.organisation_id,
        user,
        "respondent.new_link",
        _survey_target(survey),
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
        _survey_target(respondent.survey),
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
        _survey_target(survey),
        respondent_id=respondent.id,
    )
    db.session.flush()


def respondent_label(respondent: Respondent) -> str:
    """How staff see a respondent in lists: email, else name, else a number."""
    if respondent.erased_at is not None:
        return f"Erased respondent #{respondent.id}"
    return respondent.email or respondent.name or f"Link-only respondent #{respondent.id}"


# ---------------------------------------------------------------------------
# Invitations and reminders
# ---------------------------------------------------------------------------


def compose_message(kind: str, respondent: Respondent) -> tuple[str, str]:
    """Subject and plain-text body of an invitation or reminder to one respondent."""
    survey = respondent.survey
    context = {
        "survey": survey,
        "organisation": survey.organisation,
        "respondent": respondent,
        "group_label": GROUP_LABELS.get(respondent.group, respondent.group),
        "is_executive": respondent.group == Group.EXECUTIVE,
        "link": respondent_link(respondent),
        "threshold": survey.anonymity_threshold(respondent.group),
        "attributable": respondent.group == Group.EXECUTIVE
        and executives_may_be_attributable(survey),
    }
    # Rendered without request context processors: emails are sent from the CLI too.
    body = current_app.jinja_env.get_template(f"emails/{kind}.txt").render(**context)
    title = " ".join(survey.title.split())
    if kind == MESSAGE_REMINDER:
        subject = f"Reminder: {title}"
    else:
        subject = f"{survey.organisation.name} asks for your view: {title}"
    return subject[:300], body


def _contactable(survey: Survey):
    """Respondents who can be emailed at all: an address, a live link, not yet done."""
    return select(Respondent).where(
        Respondent.survey_id == survey.id,
        Respondent.email.is_not(None),
        Respondent.revoked_at.is_(None),
        Respondent.erased_at.is_(None),
        Respondent.status != RespondentStatus.COMPLETED.value,
    )


def _delivered_kinds(survey: Survey, kind: str) -> dict[int, datetime]:
    """respondent id → latest delivered message of ``kind`` (sent or put in the outbox)."""
    rows = db.session.execute(
        select(EmailMessage.respondent_id, func.max(EmailMessage.created_at))
        .where(
            EmailMessage.survey_id == survey.id,
            EmailMessage.kind == kind,
            EmailMessage.status != "failed",
            EmailMessage.respondent_id.is_not(None),
        )
        .group_by(EmailMessage.respondent_id)
    )
    return {respondent_id: _aware(when) for respondent_id, when in rows}


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def uninvited_respondents(survey: Survey) -> list[Respondent]:
    """Contactable respondents who have not been sent an invitation yet."""
    invited = _delivered_kinds(survey, MESSAGE_INVITATION)
    return [
        r
        for r in db.session.scalars(_contactable(survey).order_by(Respondent.id))
        if r.id not in invited
    ]


def send_invitations(
    survey: Survey,
    respondents: Iterable[Respondent] | None = None,
    *,
    user: User | None = None,
) -> int:
    """Email each respondent their personal link; returns how many were delivered.

    Without ``respondents``: everyone with an email who has not had an invitation yet.
    Completed, revoked and erased respondents are never emailed. Failures are recorded
    on the message (status "failed") and the respondent stays uninvited, so the next
    call tries again.
    """
    from cxalign.mail import smtp_connection

    if survey.status != SurveyStatus.OPEN:
        raise SurveyError("Open the survey before sending invitations: links work only then.")
    _refuse_if_past_closing_date(survey)
    if respondents is None:
        targets = uninvited_respondents(survey)
    else:
        allowed = {r.id for r in db.session.scalars(_contactable(survey))}
        targets = [r for r in respondents if r.id in allowed]
    delivered = 0
    with smtp_connection() as connection:
        for respondent in targets:
            if _send(MESSAGE_INVITATION, respondent, connection).status != "failed":
                delivered += 1
    if targets:
        audit(
            survey.organisation_id,
            user,
            "survey.invitations_sent",
            _survey_target(survey),
            delivered=delivered,
            failed=len(targets) - delivered,
        )
    db.session.flush()
    return delivered


def _send(kind: str, respondent: Respondent, connection) -> EmailMessage:
    from cxalign.mail import send_message

    subject, body = compose_message(kind, respondent)
    return send_message(
        kind,
        respondent.email,
        subject,
        body,
        organisation_id=respondent.survey.organisation_id,
        survey_id=respondent.survey_id,
        respondent_id=respondent.id,
        connection=connection,
    )


@dataclass(frozen=True)
class ReminderPlan:
    """Who a reminder would go to now, and when the others become due."""

    due: list[Respondent]
    cooling: int  # not completed and invited, but contacted within the cooldown
    next_allowed_at: datetime | None  # when the first of those becomes due
    not_invited: int  # contactable but never invited: send invitations instead


def reminder_plan(survey: Survey, now: datetime | None = None) -> ReminderPlan:
    """Apply the cooldown: a respondent is due when their last invitation or reminder
    is at least ``survey.reminder_cooldown_hours`` old."""
    now = now or utcnow()
    cooldown = timedelta(hours=survey.reminder_cooldown_hours)
    invited = _delivered_kinds(survey, MESSAGE_INVITATION)
    reminded = _delivered_kinds(survey, MESSAGE_REMINDER)
    due, waiting, not_invited = [], [], 0
    for respondent in db.session.scalars(_contactable(survey).order_by(Respondent.id)):
        if respondent.id not in invited:
            not_invited += 1
            continue
        contacts = [
            invited[respondent.id],
            reminded.get(respondent.id),
            _aware(respondent.last_reminded_at),
        ]
        last = max(c for c in contacts if c is not None)
        if now - last >= cooldown:
            due.append(respondent)
        else:
            waiting.append(last + cooldown)
    return ReminderPlan(
        due=due,
        cooling=len(waiting),
        next_allowed_at=min(waiting) if waiting else None,
        not_invited=not_invited,
    )


def send_reminders(survey: Survey, now: datetime | None = None, *, user: User | None = None) -> int:
    """Remind invited respondents who have not completed; returns how many were delivered.

    Skips completed, revoked, erased and email-less respondents and anyone contacted
    within the survey's cooldown. Each delivered reminder is recorded on the respondent
    (``last_reminded_at``, ``reminder_count``) and as an ``EmailMessage``.
    """
    from cxalign.mail import smtp_connection

    if survey.status != SurveyStatus.OPEN:
        raise SurveyError("Reminders can only be sent while the survey is open.")
    now = now or utcnow()
    _refuse_if_past_closing_date(survey, now.date())
    plan = reminder_plan(survey, now)
    delivered = 0
    with smtp_connection() as connection:
        for respondent in plan.due:
            message = _send(MESSAGE_REMINDER, respondent, connection)
            if message.status != "failed":
                message.created_at = now
                respondent.last_reminded_at = now
                respondent.reminder_count = (respondent.reminder_count or 0) + 1
                delivered += 1
    if plan.due:
        audit(
            survey.organisation_id,
            user,
            "survey.reminders_sent",
            _survey_target(survey),
            delivered=delivered,
            failed=len(plan.due) - delivered,
        )
    db.session.flush()
    return delivered


def failed_messages_since(survey: Survey, since: datetime) -> int:
    """How many messages of this survey failed since ``since`` (for the owner's notice)."""
    return (
        db.session.scalar(
            select(func.count(EmailMessage.id)).where(
                EmailMessage.survey_id == survey.id,
                EmailMessage.status == "failed",
                EmailMessage.created_at >= since,
            )
        )
        or 0
    )


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStatus:
    group: str
    label: str
    invited: int  # every live respondent of the group (personal and open links)
    started: int  # began answering (including those who completed)
    completed: int
    threshold: int

    @property
    def in_progress(self) -> int:
        return self.started - self.completed

    @property
    def not_started(self) -> int:
        return self.invited - self.started

    @property
    def response_rate(self) -> float | None:
        """Completed as a share of invited, 0..1; None with nobody invited."""
        return self.completed / self.invited if self.invited else None

    @property
    def threshold_passed(self) -> bool:
        return self.completed >= self.threshold

    @property
    def missing_for_threshold(self) -> int:
        return max(0, self.threshold - self.completed)

    def percent(self, count: int) -> float:
        return 100.0 * count / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class PendingRespondent:
    """Someone who has not completed, as shown to owners of non-anonymous surveys."""

    label: str
    group: str
    status: str
    last_reminded_at: datetime | None


@dataclass(frozen=True)
class SurveyStatusReport:
    survey_id: int
    title: str
    status: str
    opens_on: date | None
    closes_on: date | None
    days_left: int | None  # None when closed or without a closing date
    groups: list[GroupStatus]
    anonymous_to_staff: bool
    # None when the survey is anonymous to staff: nobody may see who has not answered.
    pending: list[PendingRespondent] | None = field(default=None)

    @property
    def invited(self) -> int:
        return sum(g.invited for g in self.groups)

    @property
    def started(self) -> int:
        return sum(g.started for g in self.groups)

    @property
    def completed(self) -> int:
        return sum(g.completed for g in self.groups)

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.invited if self.invited else None

    @property
    def all_thresholds_passed(self) -> bool:
        return all(g.threshold_passed for g in self.groups)


def days_left(survey: Survey, today: date | None = None) -> int | None:
    if survey.status == SurveyStatus.CLOSED or survey.closes_on is None:
        return None
    today = today or utcnow().date()
    return max(0, (survey.closes_on - today).days)


def survey_status(survey: Survey, today: date | None = None) -> SurveyStatusReport:
    """Counts per group, days left, thresholds, and (only when allowed) who is pending."""
    live = (
        Respondent.survey_id == survey.id,
        Respondent.revoked_at.is_(None),
        Respondent.erased_at.is_(None),
    )
    counts = {
        (group, status): count
        for group, status, count in db.session.execute(
            select(Respondent.group, Respondent.status, func.count(Respondent.id))
            .where(*live)
            .group_by(Respondent.group, Respondent.status)
        )
    }
    groups = []
    for group in GROUPS:
        invited_count = sum(counts.get((group, s.value), 0) for s in RespondentStatus)
        completed = counts.get((group, RespondentStatus.COMPLETED.value), 0)
        started = completed + counts.get((group, RespondentStatus.STARTED.value), 0)
        groups.append(
            GroupStatus(
                group=group,
                label=GROUP_LABELS[group],
                invited=invited_count,
                started=started,
                completed=completed,
                threshold=survey.anonymity_threshold(group),
            )
        )
    pending = None
    if not survey.anonymous_to_staff:
        pending = [
            PendingRespondent(
                label=respondent_label(r),
                group=r.group,
                status=r.status,
                last_reminded_at=r.last_reminded_at,
            )
            for r in db.session.scalars(
                select(Respondent)
                .where(*live, Respondent.status != RespondentStatus.COMPLETED.value)
                # Executives first ("executive" sorts after "cx_professional").
                .order_by(Respondent.group.desc(), Respondent.email, Respondent.id)
            )
        ]
    return SurveyStatusReport(
        survey_id=survey.id,
        title=survey.title,
        status=survey.status,
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
        days_left=days_left(survey, today),
        groups=groups,
        anonymous_to_staff=survey.anonymous_to_staff,
        pending=pending,
    )


def response_counts(survey_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """survey id → (completed, invited) over live respondents, for lists of surveys."""
    if not survey_ids:
        return {}
    rows = db.session.execute(
        select(
            Respondent.survey_id,
            func.count(Respondent.id),
            func.sum((Respondent.status == RespondentStatus.COMPLETED.value).cast(db.Integer)),
        )
        .where(
            Respondent.survey_id.in_(survey_ids),
            Respondent.revoked_at.is_(None),
            Respondent.erased_at.is_(None),
        )
        .group_by(Respondent.survey_id)
    )
    return {survey_id: (int(done or 0), invited) for survey_id, invited, done in rows}


def percent(value: float | None) -> str:
    """A share 0..1 as a whole percentage for display ("—" when undefined)."""
    return "—" if value is None or math.isnan(value) else f"{round(100 * value)}%"
