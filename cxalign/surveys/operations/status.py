"""Where a survey stands: response rates per group, who is pending, days left."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.models import (
    Respondent,
    RespondentStatus,
    Survey,
    SurveyStatus,
    utcnow,
)
from cxalign.surveys.operations.respondents import respondent_label


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
