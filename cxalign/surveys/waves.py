"""Waves of one study: the series a survey belongs to, and starting its next wave.

A *series* is the set of surveys of one organisation that share a ``series_key``
(by convention the first wave's id); each later wave also points at the wave it
follows (``previous_survey_id``). Trends across waves (``cxalign.analysis.trends``) are drawn
from this series.

Like ``operations``, these functions add and flush rows but never commit, and read no
request state; the views check that only owners call :func:`start_next_wave`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from cxalign.analysis.series import series_of, wave_order_key
from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.models import (
    Instrument,
    Respondent,
    RespondentStatus,
    Survey,
    SurveyStatus,
    User,
)
from cxalign.surveys.operations import (
    SurveyError,
    check_instrument,
    create_survey,
    secret_key,
    survey_target,
)

# Respondents the owner put on the list themselves. People who joined through an open
# link are anonymous strangers to the survey, and imported respondents stand for answers
# collected elsewhere (the next import brings them again), so neither is carried over.
CARRIED_SOURCES = ("invited", "link")
MAX_TITLE = 200
_WAVE_SUFFIX = re.compile(r"\s*[—–-]\s*wave\s+\d+\s*$", re.IGNORECASE)


# ---------------------------------------------------------------------------
# The series (which surveys form it: cxalign.analysis.series)
# ---------------------------------------------------------------------------


def wave_number(survey: Survey, series: list[Survey] | None = None) -> int:
    """The survey's position in its series, from 1."""
    series = series if series is not None else series_of(survey)
    return next(i for i, member in enumerate(series, start=1) if member.id == survey.id)


def next_waves(survey: Survey) -> list[Survey]:
    """Waves started from this one (usually none or one), oldest first."""
    return sorted(
        db.session.scalars(
            select(Survey).where(
                Survey.organisation_id == survey.organisation_id,
                Survey.previous_survey_id == survey.id,
            )
        ),
        key=wave_order_key,
    )


def previous_wave(survey: Survey) -> Survey | None:
    if survey.previous_survey_id is None:
        return None
    previous = db.session.get(Survey, survey.previous_survey_id)
    if previous is None or previous.organisation_id != survey.organisation_id:
        return None
    return previous


def default_next_title(survey: Survey, series: list[Survey] | None = None) -> str:
    """``"<title> — wave N+1"``, replacing a "— wave N" the title already ends with."""
    series = series if series is not None else series_of(survey)
    base = _WAVE_SUFFIX.sub("", survey.title).strip() or survey.title
    suffix = f" — wave {len(series) + 1}"
    return base[: MAX_TITLE - len(suffix)].rstrip() + suffix


def carried_respondents(survey: Survey) -> list[Respondent]:
    """The people a next wave would invite again: listed by the owner, live, not erased."""
    return list(
        db.session.scalars(
            select(Respondent)
            .where(
                Respondent.survey_id == survey.id,
                Respondent.source.in_(CARRIED_SOURCES),
                Respondent.revoked_at.is_(None),
                Respondent.erased_at.is_(None),
            )
            .order_by(Respondent.id)
        )
    )


def shared_dimension_codes(first: Instrument, second: Instrument) -> list[str]:
    """Dimension codes present in both instruments, in ``second``'s order.

    Trends compare a dimension across waves only when both waves' instruments have it.
    """
    codes = {d.code for d in first.dimensions}
    return [d.code for d in second.dimensions if d.code in codes]


# ---------------------------------------------------------------------------
# Starting the next wave
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NextWave:
    survey: Survey
    carried_over: int
    shared_dimensions: int  # dimensions the trend can compare with the source wave


def start_next_wave(
    survey: Survey,
    *,
    title: str | None = None,
    instrument: Instrument | None = None,
    carry_over_respondents: bool,
    user: User | None,
) -> NextWave:
    """A new draft wave that follows ``survey`` in its series.

    Copies every setting (anonymity thresholds, comment minimum, gap threshold, reminder
    cooldown, anonymous to staff, review, retention, introduction); leaves the dates
    empty, since the owner sets them when planning the wave. The instrument defaults to
    the same version; a newer version or another of the organisation's instruments works
    too, as long as it shares at least one dimension (by code) to compare.

    With ``carry_over_respondents``, everyone the owner had listed (not revoked, not
    erased, not joined through an open link) is invited again as a new respondent with
    a fresh personal link: links of the old wave keep opening only the old wave.
    """
    if survey.status == SurveyStatus.DRAFT:
        raise SurveyError(
            "A draft has not run yet, so it cannot have a next wave: open it, or edit it."
        )
    instrument = instrument or survey.instrument
    check_instrument(survey.organisation, instrument)
    shared = shared_dimension_codes(survey.instrument, instrument)
    if not shared:
        raise SurveyError(
            f"{instrument.label} has no dimension in common with {survey.instrument.label}, "
            "so the two waves could not be compared: create a new survey instead."
        )
    if carry_over_respondents and survey.personal_data_purged_at is not None:
        raise SurveyError(
            "This survey's personal data has been purged, so there is nobody to carry over."
        )
    series = series_of(survey)
    title = (title or "").strip() or default_next_title(survey, series)

    wave = create_survey(
        survey.organisation,
        title=title,
        instrument=instrument,
        anonymity_executive=survey.anonymity_executive,
        anonymity_cx=survey.anonymity_cx,
        gap_threshold=survey.gap_threshold,
        reminder_cooldown_hours=survey.reminder_cooldown_hours,
        anonymous_to_staff=survey.anonymous_to_staff,
        introduction=survey.introduction or "",
        created_by=user,
    )
    wave.comment_minimum = survey.comment_minimum
    wave.allow_review = survey.allow_review
    wave.retention_days = survey.retention_days
    if not survey.series_key:
        survey.series_key = str(survey.id)  # the first wave's id, by convention
    wave.series_key = survey.series_key
    wave.previous_survey_id = survey.id

    carried = 0
    if carry_over_respondents:
        secret = secret_key()
        for person in carried_respondents(survey):
            respondent = Respondent(
                survey=wave,
                group=person.group,
                email=person.email,
                name=person.name,
                external_ref=person.external_ref,
                source=person.source,
                status=RespondentStatus.INVITED.value,
            )
            respondent.issue_token(secret)
            db.session.add(respondent)
            carried += 1
    db.session.flush()
    audit(
        survey.organisation_id,
        user,
        "survey.next_wave_started",
        survey_target(wave),
        previous_survey_id=survey.id,
        series_key=wave.series_key,
        instrument_id=instrument.id,
        respondents_carried_over=carried,
    )
    return NextWave(wave, carried, len(shared))
