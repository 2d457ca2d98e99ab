"""A survey's lifecycle and settings: create, open, close, reopen, delete a draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS
from cxalign.models import (
    Group,
    Instrument,
    Item,
    Organisation,
    Survey,
    SurveyStatus,
    User,
    utcnow,
)
from cxalign.surveys.operations.rules import (
    ATTRIBUTABLE_BELOW,
    MAX_ANONYMITY,
    MAX_COOLDOWN_HOURS,
    MAX_GAP_THRESHOLD,
    MIN_ANONYMITY,
    MIN_COOLDOWN_HOURS,
    MIN_GAP_THRESHOLD,
    SurveyError,
    survey_target,
)


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


def check_instrument(organisation: Organisation, instrument: Instrument) -> None:
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
    check_instrument(organisation, instrument)
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
        survey_target(survey),
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
        check_instrument(survey.organisation, instrument)
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
            survey_target(survey),
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
    audit(survey.organisation_id, user, action, survey_target(survey), previous=previous)
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
    audit(survey.organisation_id, user, "survey.closed", survey_target(survey))
    db.session.flush()


def delete_draft_survey(survey: Survey, *, user: User | None = None) -> None:
    """Delete a survey that never opened (with its respondents and messages)."""
    if survey.status != SurveyStatus.DRAFT or survey.opened_at is not None:
        raise SurveyError("Only a draft survey that never opened can be deleted.")
    audit(survey.organisation_id, user, "survey.deleted", survey_target(survey), title=survey.title)
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


def refuse_if_past_closing_date(survey: Survey, today: date | None = None) -> None:
    if past_closing_date(survey, today):
        raise SurveyError(
            "The closing date has passed, so links no longer take answers: move the closing "
            "date in the settings first."
        )


def refuse_if_closed(survey: Survey, reason: str) -> None:
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError(reason)
