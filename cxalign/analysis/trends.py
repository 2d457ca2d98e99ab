"""Trends across the waves of a series: how the alignment index and each gap moved.

Every figure here is read from each wave's own scoring result
(:func:`cxalign.analysis.analyse_survey`), never recomputed from answers: a wave's
trend figures are exactly its dashboard's. What this module adds is the comparison, as
defined in docs/methodology.md, "Trends across waves":

* a standard error read back from each 95 % confidence interval,
  ``SE = (high − low) / (2 z)`` with ``z = Φ⁻¹(0.975)``;
* for the alignment index, which scoring gives without an interval, the bound
  ``SE(AI) ≤ Σ w_j SE(Δ_j)`` (importance weights ``w_j`` summing to 1). It holds
  whatever the correlation between the dimensions' gaps, because
  ``SD(|X|) ≤ SD(X)`` and the SD of a sum is at most the sum of the SDs; it is
  therefore a conservative ("at most") uncertainty;
* the change since the previous wave with figures, ``c = x₂ − x₁``, with
  ``SE(c) = √(SE₁² + SE₂²)`` (waves are treated as independent samples, which is
  conservative when the same people answer both), its interval ``c ± z SE(c)``, and
  *larger than its uncertainty* exactly when that interval excludes 0.

A wave in which a group is below its anonymity threshold shows no figures at all
(withheld, with scoring's reason), and nothing is compared with it.

Dimensions are matched across waves by code: a dimension is compared only between
waves whose instruments both have it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from scipy import stats as sps

from cxalign.analysis import SurveyAnalysis, analyse_survey, data_version
from cxalign.analysis.series import series_of
from cxalign.models import Survey, SurveyStatus
from cxalign.scoring import GapResult

__all__ = [
    "Change",
    "DimensionCell",
    "DimensionTrend",
    "Trend",
    "WaveFigures",
    "WaveMeta",
    "alignment_se",
    "build_trend",
    "change_between",
    "se_from_ci",
    "series_data_version",
    "survey_trend",
    "trend_waves",
]

# Wave states
RESULTS = "results"
WITHHELD = "withheld"  # a group is below its anonymity threshold
NO_RESULTS = "no results"  # nothing to compare yet (no answers from both groups)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class WaveMeta:
    """What the trend says about a wave itself (not computed by scoring)."""

    survey_id: int
    number: int  # position in the series, from 1
    title: str
    status: str
    opens_on: date | None
    closes_on: date | None

    @property
    def label(self) -> str:
        return f"Wave {self.number}"

    @property
    def chart_label(self) -> str:
        return f"{self.label} ({self.opens_on:%b %Y})" if self.opens_on else self.label


@dataclass(frozen=True)
class Change:
    """A change since an earlier wave, with its 95 % interval (None: not assessable)."""

    since_survey_id: int
    since_label: str
    value: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    beyond_uncertainty: bool | None  # the interval excludes 0; None when not assessable

    @property
    def verdict(self) -> str:
        if self.beyond_uncertainty is None:
            return "uncertainty unknown"
        return "larger than uncertainty" if self.beyond_uncertainty else "within uncertainty"


@dataclass(frozen=True)
class DimensionCell:
    """One dimension's gap in one wave (POMP, executives − CX professionals)."""

    gap_pomp: float | None  # None: no figure (suppressed wave, or no answers)
    ci_low_pomp: float | None
    ci_high_pomp: float | None
    se: float | None
    confidence: str
    change: Change | None  # change of the gap since the previous wave with this figure

    @property
    def direction(self) -> str | None:
        """How the gap moved: "narrower", "wider", "reversed" or "unchanged"."""
        if self.change is None or self.gap_pomp is None:
            return None
        before = self.gap_pomp - self.change.value
        if before * self.gap_pomp < 0:
            return "reversed"
        if abs(self.gap_pomp) < abs(before):
            return "narrower"
        if abs(self.gap_pomp) > abs(before):
            return "wider"
        return "unchanged"


@dataclass(frozen=True)
class WaveFigures:
    meta: WaveMeta
    is_current: bool
    state: str  # RESULTS, WITHHELD or NO_RESULTS
    reason: str | None  # why there are no figures
    n_executive: int
    n_cx_professional: int
    alignment_index: float | None
    alignment_se: float | None  # an upper bound (see the module docstring)
    alignment_ci_low: float | None
    alignment_ci_high: float | None
    alignment_change: Change | None
    dimensions: dict[str, DimensionCell]  # by dimension code; absent: not in the instrument
    data_version: str

    @property
    def has_results(self) -> bool:
        return self.state == RESULTS


@dataclass(frozen=True)
class DimensionTrend:
    """One row of the dimensions × waves table (dimensions of the current wave)."""

    code: str
    name: str
    cells: tuple[DimensionCell | None, ...]  # per wave; None: not asked in that wave

    @property
    def latest_change(self) -> Change | None:
        return self.cells[-1].change if self.cells and self.cells[-1] else None


@dataclass(frozen=True)
class Trend:
    survey_id: int
    ci_level: float
    waves: tuple[WaveFigures, ...]  # wave order, ending with the current survey
    dimensions: tuple[DimensionTrend, ...]
    data_version: str  # changes when any included wave's data does

    @property
    def waves_with_results(self) -> int:
        return sum(1 for w in self.waves if w.has_results)

    @property
    def has_trend(self) -> bool:
        """At least two waves with figures: something to compare."""
        return self.waves_with_results >= 2

    @property
    def current(self) -> WaveFigures:
        return self.waves[-1]


# --------------------------------------------------------------------------- arithmetic


def z_value(ci_level: float) -> float:
    return float(sps.norm.ppf(0.5 + ci_level / 2.0))


def se_from_ci(low: float | None, high: float | None, ci_level: float = 0.95) -> float | None:
    """The standard error a symmetric ``ci_level`` interval implies: width / (2 z)."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return (high - low) / (2.0 * z_value(ci_level))


def alignment_se(result: GapResult) -> float | None:
    """An upper bound on the alignment index's standard error (module docstring).

    The dimensions and weights are those scoring used for the index: every dimension
    with a gap, weighted by importance (equally when all importances are 0). None when
    there is no index, or when a dimension in it has no interval.
    """
    if result.alignment.index is None:
        return None
    used = [d for d in result.dimensions if d.gap_pomp is not None]
    ses = [se_from_ci(d.ci_low_pomp, d.ci_high_pomp, result.thresholds.ci_level) for d in used]
    if not used or any(se is None for se in ses):
        return None
    weights = np.array([d.importance for d in used], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    return float(weights @ np.array(ses, dtype=float) / weights.sum())


def change_between(
    previous: float,
    previous_se: float | None,
    current: float,
    current_se: float | None,
    *,
    since: WaveMeta,
    ci_level: float = 0.95,
) -> Change:
    """``current − previous`` with ``SE = √(SE₁² + SE₂²)`` and its interval."""
    value = current - previous
    if previous_se is None or current_se is None:
        return Change(since.survey_id, since.label, value, None, None, None, None)
    se = math.hypot(previous_se, current_se)
    half = z_value(ci_level) * se
    low, high = value - half, value + half
    return Change(since.survey_id, since.label, value, se, low, high, low > 0 or high < 0)


# --------------------------------------------------------------------------- building


def _state(result: GapResult) -> tuple[str, str | None]:
    hidden = [g for g in result.groups if g.suppressed]
    if hidden:
        return WITHHELD, " ".join(g.reason or f"{g.label}: below the threshold." for g in hidden)
    if result.alignment.index is None:
        return NO_RESULTS, result.alignment.reading
    return RESULTS, None


def _wave(meta: WaveMeta, analysis: SurveyAnalysis, is_current: bool) -> WaveFigures:
    """One wave's figures, read from its scoring result; nothing at all when withheld."""
    result = analysis.result
    state, reason = _state(result)
    counts = {g.group: g.n_responding for g in result.groups}
    cells: dict[str, DimensionCell] = {}
    index = se = low = high = None
    if state == RESULTS:
        level = result.thresholds.ci_level
        for d in result.dimensions:
            cells[d.code] = DimensionCell(
                gap_pomp=d.gap_pomp,
                ci_low_pomp=d.ci_low_pomp,
                ci_high_pomp=d.ci_high_pomp,
                se=se_from_ci(d.ci_low_pomp, d.ci_high_pomp, level),
                confidence=d.confidence,
                change=None,
            )
        index = result.alignment.index
        se = alignment_se(result)
        if se is not None:
            half = z_value(level) * se
            low, high = max(0.0, index - half), min(100.0, index + half)
    else:
        cells = {
            d.code: DimensionCell(None, None, None, None, d.confidence, None)
            for d in result.dimensions
        }
    return WaveFigures(
        meta=meta,
        is_current=is_current,
        state=state,
        reason=reason,
        n_executive=counts["executive"],
        n_cx_professional=counts["cx_professional"],
        alignment_index=index,
        alignment_se=se,
        alignment_ci_low=low,
        alignment_ci_high=high,
        alignment_change=None,
        dimensions=cells,
        data_version=analysis.data_version,
    )


def combined_version(versions: Sequence[tuple[int, str]]) -> str:
    """One fingerprint of the included waves (ids and their data versions, in order)."""
    text = "|".join(f"{survey_id}:{version}" for survey_id, version in versions)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def build_trend(
    waves: Sequence[tuple[WaveMeta, SurveyAnalysis]], *, names: dict[str, str] | None = None
) -> Trend:
    """The trend from each wave's scoring result (pure; the last wave is the current one).

    ``names`` gives the table's dimension rows (code → name, in order); by default the
    current wave's dimensions.
    """
    if not waves:
        raise ValueError("a trend needs at least one wave")
    last = len(waves) - 1
    figures = [_wave(meta, analysis, i == last) for i, (meta, analysis) in enumerate(waves)]
    ci_level = waves[-1][1].result.thresholds.ci_level

    # Each figure is compared with the latest earlier wave that has the same figure.
    with_changes = []
    for i, wave in enumerate(figures):
        if wave.state != RESULTS:
            with_changes.append(wave)
            continue
        earlier = [w for w in with_changes[:i] if w.state == RESULTS]
        alignment_change = None
        if earlier and wave.alignment_index is not None:
            before = earlier[-1]
            alignment_change = change_between(
                before.alignment_index,
                before.alignment_se,
                wave.alignment_index,
                wave.alignment_se,
                since=before.meta,
                ci_level=ci_level,
            )
        cells = {}
        for code, cell in wave.dimensions.items():
            change = None
            previous = next(
                (
                    w
                    for w in reversed(earlier)
                    if code in w.dimensions and w.dimensions[code].gap_pomp is not None
                ),
                None,
            )
            if previous is not None and cell.gap_pomp is not None:
                before_cell = previous.dimensions[code]
                change = change_between(
                    before_cell.gap_pomp,
                    before_cell.se,
                    cell.gap_pomp,
                    cell.se,
                    since=previous.meta,
                    ci_level=ci_level,
                )
            cells[code] = DimensionCell(
                cell.gap_pomp, cell.ci_low_pomp, cell.ci_high_pomp, cell.se, cell.confidence, change
            )
        with_changes.append(replace(wave, alignment_change=alignment_change, dimensions=cells))

    current = waves[-1][1].result
    names = names or {d.code: d.name for d in current.dimensions}
    rows = tuple(
        DimensionTrend(
            code=code,
            name=name,
            cells=tuple(
                w.dimensions.get(code) if _asked(waves[i][1], code) else None
                for i, w in enumerate(with_changes)
            ),
        )
        for code, name in names.items()
    )
    return Trend(
        survey_id=waves[-1][0].survey_id,
        ci_level=ci_level,
        waves=tuple(with_changes),
        dimensions=rows,
        data_version=combined_version([(m.survey_id, a.data_version) for m, a in waves]),
    )


def _asked(analysis: SurveyAnalysis, code: str) -> bool:
    return any(d.code == code for d in analysis.result.dimensions)


# --------------------------------------------------------------------------- database


def trend_waves(survey: Survey) -> list[Survey]:
    """The waves a survey's trend shows: its series up to and including it, in order.

    Drafts other than the survey itself are left out: they have not run.
    """
    series = series_of(survey)
    upto = series[: next(i for i, s in enumerate(series) if s.id == survey.id) + 1]
    return [s for s in upto if s.id == survey.id or s.status != SurveyStatus.DRAFT]


def _meta(survey: Survey, number: int) -> WaveMeta:
    return WaveMeta(
        survey_id=survey.id,
        number=number,
        title=survey.title,
        status=survey.status,
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
    )


def _numbered(survey: Survey) -> list[tuple[int, Survey]]:
    numbers = {s.id: i for i, s in enumerate(series_of(survey), start=1)}
    return [(numbers[s.id], s) for s in trend_waves(survey)]


def series_data_version(survey: Survey) -> str:
    """The trend's data version without scoring anything (for cache keys).

    Equal to ``survey_trend(survey).data_version``: it changes when an answer, comment
    or setting of any included wave changes, or when a wave joins or leaves the series.
    """
    return combined_version([(s.id, data_version(s)) for _, s in _numbered(survey)])


def survey_trend(survey: Survey, analysis: SurveyAnalysis | None = None) -> Trend:
    """Score every included wave (reusing ``analysis`` for the survey itself) and compare."""
    waves = []
    for number, member in _numbered(survey):
        if member.id == survey.id and analysis is not None:
            waves.append((_meta(member, number), analysis))
        else:
            waves.append((_meta(member, number), analyse_survey(member)))
    return build_trend(waves)
