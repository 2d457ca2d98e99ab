"""Inputs and outputs of the scoring engine.

The inputs (:class:`AnswerMatrix`, :class:`ScoringSettings`) are what a caller
hands to :func:`cxalign.scoring.score_survey`; the outputs (:class:`GapResult`
and everything inside it) are frozen dataclasses of plain Python values
(``float | None``, ``int``, ``str``, ``bool`` and tuples of those), never numpy
scalars or arrays, so that the dashboard, the PDF, the JSON API and the CLI can
all be drawn from one object. :meth:`GapResult.to_dict` is the JSON shape
(``score --json`` and ``/api/v1/surveys/<id>/results``).

Every definition is documented, with its source, in ``docs/methodology.md``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxalign.instruments.spec import GROUP_LABELS, GROUPS

__all__ = [
    "CLASSIFICATIONS",
    "CONFIDENCE_LABELS",
    "DONT_KNOW",
    "GROUPS",
    "LEVELS",
    "METHOD_VERSION",
    "AlignmentResult",
    "AnswerMatrix",
    "DimensionGroupStats",
    "DimensionResult",
    "GapResult",
    "GroupSummary",
    "GroupsSummary",
    "InstrumentRef",
    "ItemGroupStats",
    "ItemResult",
    "Note",
    "PriorityEntry",
    "Reliability",
    "ScoringSettings",
    "Thresholds",
]

#: Version of the scoring rules; bump when a definition in docs/methodology.md changes.
METHOD_VERSION = "cxalign-scoring/1"

#: The marker :meth:`AnswerMatrix.from_records` accepts for "Don't know / not applicable".
DONT_KNOW = "DK"

#: Four-group model (Fleenor, McCauley & Brutus 1996).
CLASSIFICATIONS = ("blind spot", "hidden strength", "shared strength", "shared weakness")
#: How large a gap is, in practical terms.
LEVELS = ("none", "notable", "major")
#: How far a gap is statistically backed.
CONFIDENCE_LABELS = (
    "supported",  # two-sample test, q < .05 after Benjamini-Hochberg
    "not supported",  # two-sample test, q >= .05
    "indicative",  # one side is a single person: no two-sample test exists
    "not testable",  # both sides have zero variance, no test statistic
    "no data",  # one side has no answers
    "suppressed",  # one side is below its anonymity threshold
)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class AnswerMatrix:
    """All answers of one survey, one row per respondent.

    ``values`` holds the raw answer (1..points of the item's scale, before any
    reverse coding) as a float, NaN where the respondent skipped the item or
    chose "Don't know"; ``dont_know`` is True exactly where "Don't know / not
    applicable" was chosen. Columns may come in any order and may omit
    instrument items (an omitted item counts as unanswered by everybody).
    """

    item_codes: tuple[str, ...]
    groups: np.ndarray
    values: np.ndarray
    dont_know: np.ndarray

    @property
    def n_respondents(self) -> int:
        return int(np.asarray(self.groups).shape[0])

    @classmethod
    def from_records(
        cls,
        item_codes: Sequence[str],
        records: Iterable[tuple[str, Mapping[str, int | float | str | None]]],
    ) -> AnswerMatrix:
        """Build a matrix from ``(group, {item_code: answer})`` pairs.

        An answer is an integer scale point, ``None`` (or a missing key) for
        unanswered, or the string ``"DK"`` for "Don't know / not applicable".
        """
        codes = tuple(item_codes)
        index = {code: j for j, code in enumerate(codes)}
        rows = list(records)
        values = np.full((len(rows), len(codes)), np.nan)
        dont_know = np.zeros((len(rows), len(codes)), dtype=bool)
        groups = []
        for i, (group, answers) in enumerate(rows):
            groups.append(group)
            for code, answer in answers.items():
                if code not in index:
                    raise ValueError(f"row {i + 1}: unknown item code {code!r}")
                if answer is None:
                    continue
                if isinstance(answer, str):
                    if answer.strip().upper() != DONT_KNOW:
                        raise ValueError(f"row {i + 1}, {code}: answer {answer!r} is not a number")
                    dont_know[i, index[code]] = True
                else:
                    values[i, index[code]] = float(answer)
        return cls(codes, np.asarray(groups, dtype=object), values, dont_know)

    @classmethod
    def empty(cls, item_codes: Sequence[str] = ()) -> AnswerMatrix:
        codes = tuple(item_codes)
        return cls(
            codes,
            np.asarray([], dtype=object),
            np.full((0, len(codes)), np.nan),
            np.zeros((0, len(codes)), dtype=bool),
        )


@dataclass(frozen=True)
class ScoringSettings:
    """The survey's knobs. Defaults are the product's defaults (docs/methodology.md).

    ``gap_threshold`` is in points on a 5-point scale (0.5 = 12.5 POMP); it is
    applied in POMP so that 7-point items need 0.75 points. ``n_resamples`` is
    the number of random permutations for permutation tests, ``n_bootstrap`` the
    number of bootstrap resamples for percentile confidence intervals (1,999 is
    the usual recommendation for 95 % percentile intervals, Davison & Hinkley
    1997; Efron & Tibshirani 1993, and keeps 10,000 respondents under a second).
    """

    anonymity_executive: int = 3
    anonymity_cx: int = 3
    gap_threshold: float = 0.5
    seed: int = 20261123
    n_resamples: int = 9999
    n_bootstrap: int = 1999

    def __post_init__(self) -> None:
        # values may come from a database or numpy: store plain ints and floats
        minimum = {"anonymity_executive": 1, "anonymity_cx": 1, "seed": 0}
        minimum |= {"n_resamples": 99, "n_bootstrap": 99}
        for name, least in minimum.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise ValueError(
                    f"{name} must be a whole number of at least {least}, got {value!r}"
                )
            object.__setattr__(self, name, int(value))
        try:
            threshold = float(self.gap_threshold)
        except (TypeError, ValueError):
            threshold = math.nan
        if isinstance(self.gap_threshold, bool) or not 0 < threshold <= 4:
            raise ValueError(f"gap_threshold must be in (0, 4] points, got {self.gap_threshold!r}")
        object.__setattr__(self, "gap_threshold", threshold)

    def threshold(self, group: str) -> int:
        return self.anonymity_executive if group == "executive" else self.anonymity_cx

    @property
    def gap_threshold_pomp(self) -> float:
        """The notable-gap threshold in POMP: points on a 5-point scale / 4 * 100."""
        return 100.0 * float(self.gap_threshold) / 4.0


# --------------------------------------------------------------------------- outputs


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: same field names, tuples as lists, NaN/inf as None."""
        return _plain(self)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    raise TypeError(f"not a plain value in a scoring result: {type(value).__name__}")


@dataclass(frozen=True)
class Note(_Serialisable):
    """Something the reader must know. ``code`` is stable; ``message`` is for people."""

    code: str
    level: str  # "info" or "warning"
    message: str


@dataclass(frozen=True)
class InstrumentRef(_Serialisable):
    key: str
    version: int
    name: str


@dataclass(frozen=True)
class Thresholds(_Serialisable):
    """The cuts used for this result, echoed so that reports can quote them."""

    gap_notable_pomp: float
    gap_major_pomp: float
    delta_notable: float
    delta_major: float
    strength_cut_pomp: float
    consensus_low: float
    consensus_min_raters: int
    fdr_q: float
    ci_level: float


@dataclass(frozen=True)
class GroupSummary(_Serialisable):
    """Who answered in one group and whether the group is shown."""

    group: str
    label: str
    n: int  # respondents passed in for this group (completed)
    n_responding: int  # of those, respondents with at least one answer or "Don't know"
    threshold: int  # anonymity threshold
    visible: bool  # n_responding >= threshold
    suppressed: bool  # not visible: no statistics of this group anywhere in the result
    reason: str | None  # why the group is hidden, None when visible


@dataclass(frozen=True)
class GroupsSummary(_Serialisable):
    executive: GroupSummary
    cx_professional: GroupSummary

    def __getitem__(self, group: str) -> GroupSummary:
        if group not in GROUPS:
            raise KeyError(group)
        return getattr(self, group)

    def __iter__(self):
        return iter((self.executive, self.cx_professional))


@dataclass(frozen=True)
class ItemGroupStats(_Serialisable):
    """One group's answers to one item, after reverse coding (high = favourable)."""

    n: int  # substantive answers (excludes "Don't know")
    n_dont_know: int
    dont_know_share: float | None  # n_dont_know / (n + n_dont_know)
    mean: float | None  # in scale points
    sd: float | None  # sample SD (n - 1), None for n < 2
    median: float | None
    mean_pomp: float | None
    sd_pomp: float | None
    distribution: tuple[int, ...]  # counts of recoded scores 1..points
    top_box_share: float | None  # share of answers at the (recoded) top point
    rwg: float | None  # James, Demaree & Wolf (1984), None for n < 2
    ad: float | None  # average deviation about the mean, points
    ad_cutoff: float  # A / 6 (Burke & Dunlap 2002)
    ad_acceptable: bool | None
    low_consensus: bool | None  # rwg < .70; None when descriptive only or n < 2
    consensus_descriptive_only: bool  # fewer than 5 raters


@dataclass(frozen=True)
class ItemResult(_Serialisable):
    code: str
    dimension: str
    points: int
    reverse: bool
    dont_know_offered: bool
    executive: ItemGroupStats | None  # None when the group is suppressed
    cx_professional: ItemGroupStats | None
    gap_points: float | None  # executive mean - CX mean
    gap_pomp: float | None
    ci_low: float | None  # 95 % CI of the gap, points
    ci_high: float | None
    ci_low_pomp: float | None
    ci_high_pomp: float | None
    ci_method: str | None  # "one_sample_t", "welch_t", "bootstrap_percentile"
    cliffs_delta: float | None
    cliffs_delta_magnitude: str | None  # negligible / small / medium / large
    p: float | None
    q: float | None  # Benjamini-Hochberg over the survey's two-sample item tests
    method: str | None  # "sign_test", "mann_whitney_exact", "mann_whitney_asymptotic"
    supported: bool
    confidence: str
    classification: str | None
    level: str | None

    def group(self, group: str) -> ItemGroupStats | None:
        return getattr(self, _check_group(group))


@dataclass(frozen=True)
class DimensionGroupStats(_Serialisable):
    """One group's dimension scores (per-respondent mean of answered items, in POMP)."""

    n: int  # respondents with a dimension score (>= 2/3 of items answered)
    n_incomplete: int  # responded to the dimension but answered < 2/3 of its items
    dont_know_share: float | None  # over all of the dimension's items
    mean: float | None  # points, only when all items share one scale
    sd: float | None
    median: float | None
    mean_pomp: float | None
    sd_pomp: float | None
    median_pomp: float | None
    rwg_j: float | None  # Lindell's r*wg(J)
    ad_pomp: float | None  # mean item AD, in POMP
    ad_cutoff_pomp: float | None
    ad_acceptable: bool | None
    low_consensus: bool | None
    consensus_descriptive_only: bool


@dataclass(frozen=True)
class Reliability(_Serialisable):
    value: float | None
    method: str | None  # "cronbach_alpha", "spearman_brown" or None
    n: int  # complete cases used (visible groups pooled)
    n_items: int


@dataclass(frozen=True)
class DimensionResult(_Serialisable):
    code: str
    name: str
    importance: float
    item_codes: tuple[str, ...]
    points: int | None  # the common scale length, None for mixed scales
    executive: DimensionGroupStats | None
    cx_professional: DimensionGroupStats | None
    reliability: Reliability
    gap_points: float | None  # only for a common scale
    gap_pomp: float | None
    ci_low: float | None
    ci_high: float | None
    ci_low_pomp: float | None
    ci_high_pomp: float | None
    ci_method: str | None
    cliffs_delta: float | None
    cliffs_delta_magnitude: str | None
    effect_size: float | None
    effect_size_kind: str | None  # "hedges_g" or "glass_delta"
    p: float | None
    q: float | None  # Benjamini-Hochberg over the dimensions' two-sample tests
    method: str | None  # "sign_test", "permutation", "welch_t"
    supported: bool
    confidence: str
    classification: str | None
    level: str | None
    level_pomp: float | None  # midpoint of the two group means (strength/weakness cut)
    performance_pomp: float | None  # CX-rated performance (importance-performance view)
    quadrant: str | None  # Martilla & James (1977) quadrant
    priority_score: float | None  # importance x |gap POMP|
    priority_rank: int | None  # position in GapResult.priorities

    def group(self, group: str) -> DimensionGroupStats | None:
        return getattr(self, _check_group(group))


@dataclass(frozen=True)
class AlignmentResult(_Serialisable):
    index: float | None  # 100 - importance-weighted mean |gap| in POMP
    band: str | None
    reading: str
    n_dimensions: int  # dimensions that entered the index
    profile_correlation: float | None
    lins_concordance: float | None
    distance: float | None  # Cronbach & Gleser D, POMP
    elevation: float | None  # components of D^2
    scatter: float | None
    shape: float | None
    elevation_share: float | None
    scatter_share: float | None
    shape_share: float | None


@dataclass(frozen=True)
class PriorityEntry(_Serialisable):
    rank: int
    dimension: str
    name: str
    kind: str  # "gap" or "shared weakness"
    classification: str
    level: str
    confidence: str
    importance: float
    gap_pomp: float
    priority_score: float
    level_pomp: float
    summary: str


@dataclass(frozen=True)
class GapResult(_Serialisable):
    """The whole gap analysis of one survey. Pure data; see :meth:`to_dict`."""

    method_version: str
    instrument: InstrumentRef
    settings: ScoringSettings
    thresholds: Thresholds
    groups: GroupsSummary
    alignment: AlignmentResult
    dimensions: tuple[DimensionResult, ...]
    items: tuple[ItemResult, ...]
    priorities: tuple[PriorityEntry, ...]
    notes: tuple[Note, ...]

    def suppressed(self, group: str) -> bool:
        """True when ``group`` is below its anonymity threshold (no statistics shown)."""
        return self.groups[_check_group(group)].suppressed

    def item(self, code: str) -> ItemResult:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def dimension(self, code: str) -> DimensionResult:
        for dim in self.dimensions:
            if dim.code == code:
                return dim
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with stable keys:

        ``method_version, instrument, settings, thresholds, groups, alignment,
        dimensions, items, priorities, notes``.
        """
        out = _plain(self)
        out["settings"]["gap_threshold_pomp"] = self.settings.gap_threshold_pomp
        return out


def _check_group(group: str) -> str:
    if group not in GROUPS:
        raise KeyError(f"unknown group {group!r}; expected one of {GROUPS}")
    return group


def group_label(group: str) -> str:
    return GROUP_LABELS[group]
