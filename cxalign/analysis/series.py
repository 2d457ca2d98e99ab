"""The waves of a study: which surveys form a survey's series, and in what order.

A *series* is the set of surveys of one organisation that share a ``series_key`` (by
convention the first wave's id); each later wave also points at the wave it follows
(``previous_survey_id``). Trends read the series; ``cxalign.surveys.waves`` starts its
next wave.
"""

from __future__ import annotations

from sqlalchemy import select

from cxalign.extensions import db
from cxalign.models import Survey


def wave_order_key(survey: Survey) -> tuple:
    """Waves run one after another: order by when each started (opened, else created).

    A next wave can only be started from a wave that has opened, so this order always
    puts a wave after the one it follows.
    """
    started = survey.opened_at or survey.created_at
    return (started, survey.created_at, survey.id)


def series_of(survey: Survey) -> list[Survey]:
    """Every wave of the survey's series, in wave order, within its organisation.

    Waves that share the series key, plus the chain of previous waves (for data made
    before series keys were set). Never a survey of another organisation.
    """
    members = {survey.id: survey}
    if survey.series_key:
        for member in db.session.scalars(
            select(Survey).where(
                Survey.organisation_id == survey.organisation_id,
                Survey.series_key == survey.series_key,
            )
        ):
            members[member.id] = member
    current = survey
    while current.previous_survey_id and current.previous_survey_id not in members:
        previous = db.session.get(Survey, current.previous_survey_id)
        if previous is None or previous.organisation_id != survey.organisation_id:
            break
        members[previous.id] = previous
        current = previous
    return sorted(members.values(), key=wave_order_key)
