"""Invitations and reminders: composing them, who gets one, and sending."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS
from cxalign.models import (
    EmailMessage,
    Group,
    Respondent,
    RespondentStatus,
    Survey,
    SurveyStatus,
    User,
    utcnow,
)
from cxalign.surveys.operations.lifecycle import (
    executives_may_be_attributable,
    refuse_if_past_closing_date,
)
from cxalign.surveys.operations.links import respondent_link
from cxalign.surveys.operations.rules import SurveyError, survey_target

MESSAGE_INVITATION = "invitation"
MESSAGE_REMINDER = "reminder"


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
    refuse_if_past_closing_date(survey)
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
            survey_target(survey),
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
    refuse_if_past_closing_date(survey, now.date())
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
            survey_target(survey),
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
