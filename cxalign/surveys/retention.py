"""Retention of respondents' personal data, and its purge once a wave is over.

A survey's ``retention_days`` is the longest time its personal data is kept after the
survey closes (empty: until an owner purges it by hand). Purging removes what points
to a person and keeps the anonymous answers, so that the dashboard, the PDF and the
exports still work:

* removed: respondents' emails, names and import ids (``external_ref``); the recipients,
  bodies and error texts of the survey's messages (a body carries the personal link, an
  SMTP error often the address); every personal link and open link stops working;
* kept: answers, comments, groups, statuses and times, and the messages' subjects
  (which name only the organisation and the survey).

Comments are kept on purpose: they are the respondents' answers and the report quotes
them (only above the survey's comment minimum). They may mention a person; when one
does, the owner can erase that respondent (``erase_respondent``) before or after a purge.

The rules, as owners expect them:

* only a *closed* survey can be purged (purging an open wave would break its links
  mid-fieldwork), and a purged survey can never reopen (``open_problems``);
* the retention period is a promise of "no longer than", not "at least": an owner may
  purge before it ends, but must say so explicitly (``early=True``: a second checkbox in
  the UI); the cron-able :func:`purge_due_surveys` purges only surveys whose period has
  passed;
* a purge can be repeated (e.g. after answers with import ids were imported into the
  closed survey), without a second "early" decision; ``personal_data_purged_at`` records
  the latest one.

Every purge and every change of the retention period is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select

from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.models import (
    EmailMessage,
    OpenLink,
    Respondent,
    Survey,
    SurveyStatus,
    User,
    new_token,
    utcnow,
)
from cxalign.surveys.operations import SurveyError

MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
PURGED = "(purged)"


def retention_problems(days: int | None) -> list[str]:
    if days is None:
        return []
    if isinstance(days, bool) or not isinstance(days, int):
        return ["The retention period must be a whole number of days."]
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        return [
            f"The retention period must be from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} "
            "days (or empty to keep personal data until you purge it)."
        ]
    return []


def set_retention(survey: Survey, days: int | None, *, user: User | None = None) -> bool:
    """Set how many days after closing personal data is kept; True when it changed."""
    problems = retention_problems(days)
    if problems:
        raise SurveyError(" ".join(problems))
    if survey.retention_days == days:
        return False
    previous = survey.retention_days
    survey.retention_days = days
    audit(
        survey.organisation_id,
        user,
        "survey.retention_changed",
        f"survey:{survey.id}",
        previous=previous,
        retention_days=days,
    )
    db.session.flush()
    return True


def purge_due_at(survey: Survey) -> datetime | None:
    """When the retention period ends: closing time + ``retention_days``; None without one
    (no period set, or the survey has not closed)."""
    if survey.retention_days is None or survey.closed_at is None:
        return None
    return survey.closed_at + timedelta(days=survey.retention_days)


def purge_refusal(
    survey: Survey, now: datetime | None = None, *, early: bool = False
) -> str | None:
    """Why the survey cannot be purged now (None when it can)."""
    now = now or utcnow()
    if survey.status != SurveyStatus.CLOSED:
        return (
            "Only a closed survey can be purged: close it first (a purge ends the wave for "
            "good: links stop working and it can never reopen)."
        )
    due = purge_due_at(survey)
    # A repeat purge (after a first one) needs no second "early" decision.
    already_purged = survey.personal_data_purged_at is not None
    if due is not None and now < due and not early and not already_purged:
        return (
            f"The retention period of {survey.retention_days} days after closing ends on "
            f"{due:%d %b %Y}. Purge early to remove the personal data now."
        )
    return None


@dataclass(frozen=True)
class PurgeSummary:
    """What a purge removed (or, in a dry run, would remove)."""

    survey_id: int
    title: str
    organisation: str
    respondents: int  # respondents whose email, name, import id or live link went
    messages: int  # messages whose recipient and body went
    open_links: int  # open links stopped
    due_at: datetime | None
    early: bool
    dry_run: bool = False

    def describe(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"survey {self.survey_id} “{self.title}” ({self.organisation}): {verb} personal "
            f"data of {self.respondents} respondent{'s' if self.respondents != 1 else ''}, "
            f"{self.messages} message{'s' if self.messages != 1 else ''}, "
            f"{self.open_links} open link{'s' if self.open_links != 1 else ''}"
        )


def _with_personal_data(survey: Survey):
    """Respondents who still carry something personal: an identifier or a live link."""
    return (
        Respondent.survey_id == survey.id,
        or_(
            Respondent.email.is_not(None),
            Respondent.name.is_not(None),
            Respondent.external_ref.is_not(None),
            Respondent.revoked_at.is_(None),
        ),
    )


def _counts(survey: Survey) -> tuple[int, int, int]:
    respondents = db.session.scalar(
        select(func.count(Respondent.id)).where(*_with_personal_data(survey))
    )
    messages = db.session.scalar(
        select(func.count(EmailMessage.id)).where(
            EmailMessage.survey_id == survey.id,
            or_(EmailMessage.recipient != PURGED, EmailMessage.body_text != PURGED),
        )
    )
    open_links = db.session.scalar(
        select(func.count(OpenLink.id)).where(
            OpenLink.survey_id == survey.id, OpenLink.revoked_at.is_(None)
        )
    )
    return respondents or 0, messages or 0, open_links or 0


def purge_personal_data(
    survey: Survey,
    *,
    user: User | None = None,
    now: datetime | None = None,
    early: bool = False,
    via: str = "web",
) -> PurgeSummary:
    """Remove the survey's personal data and keep its anonymous answers (see module doc).

    Raises :class:`SurveyError` with the reason when the survey is not closed, or its
    retention period has not passed and ``early`` is not set. Flushes; the caller commits.
    """
    now = now or utcnow()
    refusal = purge_refusal(survey, now, early=early)
    if refusal:
        raise SurveyError(refusal)
    due = purge_due_at(survey)
    was_early = due is not None and now < due and survey.personal_data_purged_at is None
    respondents, messages, open_links = _counts(survey)
    for respondent in db.session.scalars(select(Respondent).where(*_with_personal_data(survey))):
        respondent.email = None
        respondent.name = None
        respondent.external_ref = None
        respondent.revoked_at = respondent.revoked_at or now
        # A token derived under a throw-away secret: no link can ever open this record.
        respondent.issue_token(new_token())
    db.session.execute(
        EmailMessage.__table__.update()
        .where(EmailMessage.survey_id == survey.id)
        .values(
            recipient=PURGED,
            body_text=PURGED,
            error=case((EmailMessage.error.is_(None), None), else_=PURGED),
        )
    )
    db.session.execute(
        OpenLink.__table__.update()
        .where(OpenLink.survey_id == survey.id, OpenLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    survey.personal_data_purged_at = now
    db.session.expire(survey, ["open_links"])
    audit(
        survey.organisation_id,
        user,
        "survey.personal_data_purged",
        f"survey:{survey.id}",
        respondents=respondents,
        messages=messages,
        open_links=open_links,
        retention_days=survey.retention_days,
        early=was_early,
        via=via,
    )
    db.session.flush()
    return _summary(survey, (respondents, messages, open_links), due, early=was_early)


def preview_purge(survey: Survey, now: datetime | None = None) -> PurgeSummary:
    """What :func:`purge_personal_data` would remove, changing nothing."""
    now = now or utcnow()
    due = purge_due_at(survey)
    return _summary(survey, _counts(survey), due, early=due is not None and now < due, dry_run=True)


def _summary(
    survey: Survey,
    counts: tuple[int, int, int],
    due: datetime | None,
    *,
    early: bool,
    dry_run: bool = False,
) -> PurgeSummary:
    respondents, messages, open_links = counts
    return PurgeSummary(
        survey_id=survey.id,
        title=survey.title,
        organisation=survey.organisation.name,
        respondents=respondents,
        messages=messages,
        open_links=open_links,
        due_at=due,
        early=early,
        dry_run=dry_run,
    )


def due_surveys(now: datetime | None = None) -> list[Survey]:
    """Closed, not yet purged surveys whose retention period has passed, oldest first."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Survey)
        .where(
            Survey.status == SurveyStatus.CLOSED.value,
            Survey.retention_days.is_not(None),
            Survey.closed_at.is_not(None),
            Survey.personal_data_purged_at.is_(None),
        )
        .order_by(Survey.closed_at, Survey.id)
    )
    return [survey for survey in candidates if purge_due_at(survey) <= now]


def purge_due_surveys(now: datetime | None = None, *, dry_run: bool = False) -> list[PurgeSummary]:
    """Purge every survey whose retention period has passed (for cron); flushes only."""
    now = now or utcnow()
    surveys = due_surveys(now)
    if dry_run:
        return [preview_purge(survey, now) for survey in surveys]
    return [purge_personal_data(survey, now=now, via="cli") for survey in surveys]
