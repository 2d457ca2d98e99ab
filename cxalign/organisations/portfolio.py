"""A consultant's portfolio: every client organisation at a glance, and a benchmark.

Plain data (dataclasses of primitive values) built from the same scoring result as the
dashboard (:func:`cxalign.analysis.analyse_survey`), so the figures always agree.

* A client's **latest survey** is its newest survey, whatever its status.
* Its **scored survey** is its newest open or closed survey in which neither group is
  below its anonymity threshold. Only scored surveys give an alignment index or take
  part in a benchmark, so a benchmark never draws on figures the client cannot see.
* The **benchmark** puts each dimension's gap (POMP) next to the median gap of the same
  dimension across the user's *other* clients. It is shown only when at least
  :data:`BENCHMARK_MINIMUM` other clients have a scored survey, and a dimension's median
  only when that many of them measured it, so one peer's figures can never be read off.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import func, select

from cxalign.access import memberships_of
from cxalign.analysis import analyse_survey
from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.models import (
    Respondent,
    RespondentStatus,
    Role,
    Survey,
    SurveyStatus,
    User,
)

BENCHMARK_MINIMUM = 3
SCORED_STATUSES = (SurveyStatus.OPEN, SurveyStatus.CLOSED)


@dataclass(frozen=True)
class GroupRate:
    group: str
    label: str
    invited: int
    completed: int

    @property
    def rate(self) -> float | None:
        return self.completed / self.invited if self.invited else None


@dataclass(frozen=True)
class DimensionGap:
    code: str
    name: str
    gap_pomp: float | None


@dataclass(frozen=True)
class ScoredSurvey:
    survey_id: int
    title: str
    alignment_index: float | None
    alignment_band: str | None
    dimensions: tuple[DimensionGap, ...]


@dataclass(frozen=True)
class ClientSummary:
    organisation_id: int
    organisation_name: str
    role: str
    survey_id: int | None  # the latest survey
    survey_title: str | None
    survey_status: str | None
    rates: tuple[GroupRate, ...]
    scored: ScoredSurvey | None
    unscored_reason: str | None  # why there is no alignment index

    @property
    def latest_is_scored(self) -> bool:
        return self.scored is not None and self.scored.survey_id == self.survey_id


@dataclass(frozen=True)
class BenchmarkRow:
    code: str
    name: str
    gap_pomp: float | None
    median_pomp: float | None  # across the other clients; None below the minimum
    peers: int  # other clients that measured this dimension

    @property
    def difference(self) -> float | None:
        if self.gap_pomp is None or self.median_pomp is None:
            return None
        return abs(self.gap_pomp) - abs(self.median_pomp)


@dataclass(frozen=True)
class ClientBenchmark:
    organisation_id: int
    organisation_name: str
    peers: int  # other clients with a scored survey
    rows: tuple[BenchmarkRow, ...]
    notice: str | None  # why no benchmark is shown

    @property
    def shown(self) -> bool:
        return self.notice is None


@dataclass(frozen=True)
class Portfolio:
    clients: tuple[ClientSummary, ...]
    benchmarks: tuple[ClientBenchmark, ...]
    minimum: int = BENCHMARK_MINIMUM


def has_portfolio(user: User) -> bool:
    """Portfolios are for users with a consultant membership somewhere."""
    return any(m.role == Role.CONSULTANT for m in memberships_of(user))


def response_rates(survey: Survey) -> tuple[GroupRate, ...]:
    """Completed over invited per group; revoked and erased respondents are not counted."""
    rows = db.session.execute(
        select(
            Respondent.group,
            func.count(Respondent.id),
            func.count(Respondent.id).filter(Respondent.status == RespondentStatus.COMPLETED),
        )
        .where(
            Respondent.survey_id == survey.id,
            Respondent.revoked_at.is_(None),
            Respondent.erased_at.is_(None),
        )
        .group_by(Respondent.group)
    ).all()
    counts = {group: (invited, completed) for group, invited, completed in rows}
    return tuple(
        GroupRate(group, GROUP_LABELS.get(group, group), *counts.get(group, (0, 0)))
        for group in GROUPS
    )


def _could_pass_thresholds(survey: Survey) -> bool:
    """A cheap check before scoring: enough completed questionnaires in both groups."""
    completed = dict(
        db.session.execute(
            select(Respondent.group, func.count(Respondent.id))
            .where(
                Respondent.survey_id == survey.id,
                Respondent.status == RespondentStatus.COMPLETED,
            )
            .group_by(Respondent.group)
        ).all()
    )
    return all(completed.get(group, 0) >= survey.anonymity_threshold(group) for group in GROUPS)


def scored_survey(surveys: list[Survey]) -> ScoredSurvey | None:
    """The newest open or closed survey of ``surveys`` (newest first) that passed both
    groups' anonymity thresholds, with its alignment index and dimension gaps."""
    for survey in surveys:
        if survey.status not in SCORED_STATUSES or not _could_pass_thresholds(survey):
            continue
        result = analyse_survey(survey).result
        if any(result.suppressed(group) for group in GROUPS):
            continue
        return ScoredSurvey(
            survey_id=survey.id,
            title=survey.title,
            alignment_index=result.alignment.index,
            alignment_band=result.alignment.band,
            dimensions=tuple(DimensionGap(d.code, d.name, d.gap_pomp) for d in result.dimensions),
        )
    return None


def _client_summary(membership) -> ClientSummary:
    organisation = membership.organisation
    surveys = list(
        db.session.scalars(
            select(Survey)
            .where(Survey.organisation_id == organisation.id)
            .order_by(Survey.created_at.desc(), Survey.id.desc())
        )
    )
    latest = surveys[0] if surveys else None
    scored = scored_survey(surveys)
    reason = None
    if latest is None:
        reason = "No survey yet."
    elif scored is None:
        reason = "No open or closed survey has passed both groups' anonymity thresholds yet."
    return ClientSummary(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        role=membership.role,
        survey_id=latest.id if latest else None,
        survey_title=latest.title if latest else None,
        survey_status=latest.status if latest else None,
        rates=response_rates(latest) if latest else (),
        scored=scored,
        unscored_reason=reason,
    )


def benchmark(client: ClientSummary, others: list[ClientSummary]) -> ClientBenchmark:
    """``client``'s dimension gaps next to the median across ``others`` with scored surveys."""
    peers = [other for other in others if other.scored is not None]
    if client.scored is None:
        return ClientBenchmark(
            client.organisation_id,
            client.organisation_name,
            len(peers),
            (),
            "This client has no survey that passed its anonymity thresholds yet.",
        )
    if len(peers) < BENCHMARK_MINIMUM:
        return ClientBenchmark(
            client.organisation_id,
            client.organisation_name,
            len(peers),
            (),
            f"A benchmark needs at least {BENCHMARK_MINIMUM} other clients with a survey "
            f"that passed its anonymity thresholds; you have {len(peers)}. "
            "Fewer would let one client's figures be read off the median.",
        )
    rows = []
    for dimension in client.scored.dimensions:
        gaps = [
            d.gap_pomp
            for peer in peers
            for d in peer.scored.dimensions
            if d.code == dimension.code and d.gap_pomp is not None
        ]
        median = statistics.median(gaps) if len(gaps) >= BENCHMARK_MINIMUM else None
        rows.append(
            BenchmarkRow(dimension.code, dimension.name, dimension.gap_pomp, median, len(gaps))
        )
    return ClientBenchmark(
        client.organisation_id, client.organisation_name, len(peers), tuple(rows), None
    )


def build_portfolio(user: User) -> Portfolio:
    """Every organisation the user belongs to, with a benchmark for each client."""
    clients = [_client_summary(m) for m in memberships_of(user)]
    benchmarks = tuple(
        benchmark(client, [other for other in clients if other is not client]) for client in clients
    )
    return Portfolio(tuple(clients), benchmarks)
