"""``score_survey``: answers in, gap analysis out. A pure function (numpy/scipy, no Flask).

The steps follow docs/methodology.md section by section:

1. preparation: validate, put columns in instrument order, reverse-code,
   separate "Don't know";
2. groups and anonymity (the one place where suppression happens);
3. items: group statistics from counts, gap, Cliff's delta, test chosen by the
   number of answers, Benjamini-Hochberg, level and classification;
4. dimensions: per-respondent POMP scores, the same figures plus Hedges' g /
   Glass's Delta, consensus, reliability, importance-performance;
5. alignment index and profile comparison; 6. priorities; 7. notes.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats as sps

from cxalign.instruments.spec import GROUP_LABELS, GROUPS, InstrumentSpec, ItemSpec
from cxalign.scoring import readings
from cxalign.scoring import stats as st
from cxalign.scoring.model import (
    METHOD_VERSION,
    AlignmentResult,
    AnswerMatrix,
    DimensionGroupStats,
    DimensionResult,
    GapResult,
    GroupsSummary,
    GroupSummary,
    InstrumentRef,
    ItemGroupStats,
    ItemResult,
    Note,
    PriorityEntry,
    Reliability,
    ScoringSettings,
    Thresholds,
)

__all__ = ["score_survey"]

EXEC, CX = GROUPS  # "executive", "cx_professional"

DELTA_NOTABLE = 0.33  # Cliff's delta "medium" (Romano et al. 2006)
DELTA_MAJOR = 0.474  # Cliff's delta "large"
STRENGTH_CUT_POMP = 62.5  # halfway between the neutral midpoint and "agree" (3.5 of 5)
CONSENSUS_LOW = 0.70  # r_wg below this: low consensus (James et al. 1984; Lance et al. 2006)
CONSENSUS_MIN_RATERS = 5  # fewer raters: consensus is descriptive only
LARGE_SAMPLE = 10  # both groups at least this large: asymptotic tests and bootstrap
FDR_Q = 0.05
CI_LEVEL = 0.95
SCORE_DECIMALS = 9  # dimension scores are rounded to this many decimals of POMP
EPS = 1e-9  # tolerance for threshold comparisons of means of integers

TWO_SAMPLE_ITEM = ("mann_whitney_exact", "mann_whitney_asymptotic")
TWO_SAMPLE_DIM = ("permutation", "welch_t")


def score_survey(
    instrument: InstrumentSpec,
    answers: AnswerMatrix,
    settings: ScoringSettings = ScoringSettings(),
) -> GapResult:
    """Score one survey: every figure of the gap analysis, as plain data.

    Deterministic: random streams are seeded from ``settings.seed`` and the
    item or dimension code, so the same input always gives the same result
    (and an item's figures do not depend on the other columns).
    """
    data = _prepare(instrument, answers)
    notes: list[Note] = []
    groups = _groups(data, settings, notes)
    visible = {g: groups[g].visible for g in GROUPS}

    items, item_summaries = _score_items(data, settings, visible)
    dimensions = _score_dimensions(instrument, data, settings, visible, item_summaries)
    alignment = _alignment(dimensions, settings, visible)
    priorities = _priorities(dimensions)
    rank = {p.dimension: p.rank for p in priorities}
    dimensions = tuple(replace(d, priority_rank=rank.get(d.code)) for d in dimensions)
    _data_notes(data, items, settings, visible, notes)

    thresholds = Thresholds(
        gap_notable_pomp=settings.gap_threshold_pomp,
        gap_major_pomp=2.0 * settings.gap_threshold_pomp,
        delta_notable=DELTA_NOTABLE,
        delta_major=DELTA_MAJOR,
        strength_cut_pomp=STRENGTH_CUT_POMP,
        consensus_low=CONSENSUS_LOW,
        consensus_min_raters=CONSENSUS_MIN_RATERS,
        fdr_q=FDR_Q,
        ci_level=CI_LEVEL,
    )
    return GapResult(
        method_version=METHOD_VERSION,
        instrument=InstrumentRef(instrument.key, int(instrument.version), instrument.name),
        settings=settings,
        thresholds=thresholds,
        groups=groups,
        alignment=alignment,
        dimensions=dimensions,
        items=items,
        priorities=priorities,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- 1. preparation


@dataclass
class _Data:
    items: tuple[ItemSpec, ...]
    dim_of: dict[str, str]
    values: np.ndarray  # (n, k) recoded answers, NaN = unanswered or DK
    dk: np.ndarray  # (n, k) bool
    masks: dict[str, np.ndarray]  # group -> (n,) bool
    counts: dict[str, np.ndarray]  # group -> (k, max_points) answer counts of recoded scores
    dk_counts: dict[str, np.ndarray]  # group -> (k,)
    n_rows: int


def _prepare(instrument: InstrumentSpec, answers: AnswerMatrix) -> _Data:
    items = instrument.items
    index = {item.code: j for j, item in enumerate(items)}
    if len(index) != len(items):
        raise ValueError("the instrument has duplicate item codes")
    for item in items:
        if item.scale.points < 2:
            raise ValueError(f"item {item.code}: a scale needs at least 2 points")

    codes = tuple(answers.item_codes)
    if len(set(codes)) != len(codes):
        raise ValueError("answer columns repeat an item code")
    unknown = [c for c in codes if c not in index]
    if unknown:
        raise ValueError(f"answer columns are not items of the instrument: {', '.join(unknown)}")

    group_arr = np.asarray(answers.groups)
    raw = np.asarray(answers.values, dtype=float)
    dk_in = np.asarray(answers.dont_know, dtype=bool)
    n = group_arr.shape[0] if group_arr.ndim == 1 else -1
    if group_arr.ndim != 1 or raw.shape != (n, len(codes)) or dk_in.shape != raw.shape:
        raise ValueError(
            f"shape mismatch: groups {group_arr.shape}, values {raw.shape}, "
            f"dont_know {dk_in.shape} for {len(codes)} item codes"
        )
    group_str = np.array([str(g) for g in group_arr.tolist()], dtype=object)
    bad = sorted({g for g in group_str.tolist() if g not in GROUPS})
    if bad:
        raise ValueError(f"unknown group(s) {bad}; expected one of {GROUPS}")

    k = len(items)
    values = np.full((n, k), np.nan)
    dk = np.zeros((n, k), dtype=bool)
    for col, code in enumerate(codes):
        j = index[code]
        item = items[j]
        x = raw[:, col]
        d = dk_in[:, col]
        answered = ~np.isnan(x)
        xa = x[answered]
        points = item.scale.points
        if xa.size and (
            not np.all(np.isfinite(xa))
            or np.any(xa != np.round(xa))
            or xa.min() < 1
            or xa.max() > points
        ):
            rows = np.flatnonzero(answered)[
                ~(np.isfinite(xa) & (xa == np.round(xa)) & (xa >= 1) & (xa <= points))
            ]
            raise ValueError(
                f"item {code}: answer {x[rows[0]]!r} in row {rows[0] + 1} is not a whole "
                f"number from 1 to {points}"
            )
        if np.any(d & answered):
            row = int(np.flatnonzero(d & answered)[0])
            raise ValueError(f"item {code}: row {row + 1} has both an answer and 'Don't know'")
        if item.reverse:
            x = (1 + points) - x  # x' = min + max - x
        values[:, j] = x
        dk[:, j] = d

    masks = {g: group_str == g for g in GROUPS}
    max_points = max((item.scale.points for item in items), default=2)
    counts = {}
    dk_counts = {}
    for g in GROUPS:
        sub = values[masks[g]]
        c = np.empty((k, max_points), dtype=np.int64)
        for p in range(max_points):
            c[:, p] = np.count_nonzero(sub == p + 1, axis=0)
        counts[g] = c
        dk_counts[g] = np.count_nonzero(dk[masks[g]], axis=0)
    dim_of = {item.code: dim.code for dim in instrument.dimensions for item in dim.items}
    return _Data(items, dim_of, values, dk, masks, counts, dk_counts, n)


def _rng(settings: ScoringSettings, purpose: str, code: str) -> np.random.Generator:
    """One independent, reproducible stream per (seed, purpose, item/dimension code)."""
    return np.random.default_rng(
        [settings.seed, zlib.crc32(purpose.encode()), zlib.crc32(code.encode())]
    )


# --------------------------------------------------------------------------- 2. groups


def _groups(data: _Data, settings: ScoringSettings, notes: list[Note]) -> GroupsSummary:
    responded = (~np.isnan(data.values) | data.dk).any(axis=1)
    out = {}
    for g in GROUPS:
        n = int(np.count_nonzero(data.masks[g]))
        n_resp = int(np.count_nonzero(responded & data.masks[g]))
        threshold = settings.threshold(g)
        visible = n_resp >= threshold
        reason = None if visible else readings.suppression_reason(g, n_resp, threshold)
        out[g] = GroupSummary(
            g, GROUP_LABELS[g], n, n_resp, threshold, visible, not visible, reason
        )
    if data.n_rows == 0 or not np.any(responded):
        notes.append(Note("no_responses", "warning", "Nobody has answered yet: nothing to score."))
    for g in GROUPS:
        s = out[g]
        if not s.visible:
            if s.n_responding > 0 or data.n_rows > 0:
                notes.append(Note("group_suppressed", "warning", s.reason or ""))
        elif s.n_responding == 1:
            notes.append(Note("single_respondent", "warning", readings.single_respondent(g)))
        elif s.n_responding < CONSENSUS_MIN_RATERS:
            notes.append(
                Note("few_respondents", "info", readings.few_respondents(g, s.n_responding))
            )
    return GroupsSummary(out[EXEC], out[CX])


# --------------------------------------------------------------------------- shared helpers


def _level(gap_pomp: float, delta: float, settings: ScoringSettings) -> str:
    t = settings.gap_threshold_pomp
    if abs(gap_pomp) >= 2.0 * t - EPS and abs(delta) >= DELTA_MAJOR - EPS:
        return "major"
    if abs(gap_pomp) >= t - EPS and abs(delta) >= DELTA_NOTABLE - EPS:
        return "notable"
    return "none"


def _classify(level: str, gap_pomp: float, level_pomp: float) -> str:
    """Four-group model (Fleenor, McCauley & Brutus 1996)."""
    if level != "none":
        return "blind spot" if gap_pomp > 0 else "hidden strength"
    return "shared strength" if level_pomp >= STRENGTH_CUT_POMP - EPS else "shared weakness"


def _confidence(method: str | None, p: float | None, q: float | None, single: bool) -> str:
    if single:
        return "indicative"
    if method is None or p is None:
        return "not testable"
    return "supported" if q is not None and q < FDR_Q else "not supported"


def _apply_bh(pvalues: dict[int, float]) -> dict[int, float]:
    keys = sorted(pvalues)
    return dict(zip(keys, st.bh_qvalues([pvalues[k] for k in keys]), strict=True))


# --------------------------------------------------------------------------- 3. items


def _item_group_stats(
    counts: np.ndarray, n_dk: int, points: int
) -> tuple[ItemGroupStats, st.CountSummary]:
    s = st.summarise_counts(counts)
    to_pomp = 100.0 / (points - 1)
    rwg = st.rwg(s.var, points)
    ad = st.ad_from_counts(counts, s.mean)
    cutoff = points / 6.0
    descriptive = s.n < CONSENSUS_MIN_RATERS
    judged = not descriptive and rwg is not None
    total = s.n + n_dk
    stats = ItemGroupStats(
        n=s.n,
        n_dont_know=int(n_dk),
        dont_know_share=(n_dk / total) if total else None,
        mean=s.mean,
        sd=s.sd,
        median=s.median,
        mean_pomp=None if s.mean is None else (s.mean - 1.0) * to_pomp,
        sd_pomp=None if s.sd is None else s.sd * to_pomp,
        distribution=tuple(int(c) for c in counts),
        top_box_share=s.top_box_share,
        rwg=rwg,
        ad=ad,
        ad_cutoff=cutoff,
        ad_acceptable=(ad <= cutoff + EPS) if (judged and ad is not None) else None,
        low_consensus=(rwg < CONSENSUS_LOW) if judged else None,
        consensus_descriptive_only=descriptive,
    )
    return stats, s


def _score_items(data: _Data, settings: ScoringSettings, visible: dict[str, bool]):
    partial: list[dict] = []
    summaries: dict[str, list] = {g: [] for g in GROUPS}
    for j, item in enumerate(data.items):
        points = item.scale.points
        per_group = {}
        for g in GROUPS:
            counts = data.counts[g][j, :points]
            stats, summary = _item_group_stats(counts, int(data.dk_counts[g][j]), points)
            summaries[g].append(summary if visible[g] else None)
            per_group[g] = stats if visible[g] else None
        fields = {
            "code": item.code,
            "dimension": data.dim_of[item.code],
            "points": points,
            "reverse": bool(item.reverse),
            "dont_know_offered": bool(item.dont_know),
            "executive": per_group[EXEC],
            "cx_professional": per_group[CX],
        }
        fields.update(_item_gap(data, j, item, settings, visible, summaries))
        partial.append(fields)

    tested = {
        j: f["p"]
        for j, f in enumerate(partial)
        if f["method"] in TWO_SAMPLE_ITEM and f["p"] is not None
    }
    qvalues = _apply_bh(tested)
    items = []
    for j, f in enumerate(partial):
        q = qvalues.get(j)
        single = f.pop("_single")
        f["q"] = q
        f["confidence"] = f["confidence"] or _confidence(f["method"], f["p"], q, single)
        f["supported"] = f["confidence"] == "supported"
        items.append(ItemResult(**f))
    return tuple(items), summaries


_EMPTY_GAP = {
    "gap_points": None,
    "gap_pomp": None,
    "ci_low": None,
    "ci_high": None,
    "ci_low_pomp": None,
    "ci_high_pomp": None,
    "ci_method": None,
    "cliffs_delta": None,
    "cliffs_delta_magnitude": None,
    "p": None,
    "method": None,
    "classification": None,
    "level": None,
    "_single": False,
}


def _item_gap(data, j, item, settings, visible, summaries) -> dict:
    if not (visible[EXEC] and visible[CX]):
        return {**_EMPTY_GAP, "confidence": "suppressed"}
    sx, sy = summaries[EXEC][j], summaries[CX][j]
    if sx.n == 0 or sy.n == 0:
        return {**_EMPTY_GAP, "confidence": "no data"}
    points = item.scale.points
    values = np.arange(1, points + 1, dtype=float)
    cx = data.counts[EXEC][j, :points]
    cy = data.counts[CX][j, :points]
    to_pomp = 100.0 / (points - 1)
    gap = sx.mean - sy.mean
    delta = st.cliffs_delta_from_counts(cx, cy)
    single = sx.n == 1 or sy.n == 1
    ci = None
    p = None
    method = ci_method = None
    if single:
        if sx.n == 1 and sy.n == 1:
            pass  # two people: nothing to compare against
        elif sx.n == 1:
            method = "sign_test"
            p = st.sign_test(values, cy, sx.mean)
            interval = st.one_sample_t_ci(sy.mean, sy.sd, sy.n, CI_LEVEL)
            ci = None if interval is None else (sx.mean - interval[1], sx.mean - interval[0])
        else:
            method = "sign_test"
            p = st.sign_test(values, cx, sy.mean)
            interval = st.one_sample_t_ci(sx.mean, sx.sd, sx.n, CI_LEVEL)
            ci = None if interval is None else (interval[0] - sy.mean, interval[1] - sy.mean)
        ci_method = "one_sample_t" if ci is not None else None
    elif sx.n >= LARGE_SAMPLE and sy.n >= LARGE_SAMPLE:
        method = "mann_whitney_asymptotic"
        p = st.mann_whitney_asymptotic(cx, cy)
        ci = st.bootstrap_mean_diff(
            values,
            cx,
            values,
            cy,
            settings.n_bootstrap,
            _rng(settings, "item-bootstrap", item.code),
            CI_LEVEL,
        )
        ci_method = "bootstrap_percentile" if ci is not None else None
    else:
        method = "mann_whitney_exact"
        p = st.mann_whitney_exact(cx, cy)
        ci = st.welch_t_ci(sx.mean, sx.var, sx.n, sy.mean, sy.var, sy.n, CI_LEVEL)
        ci_method = "welch_t" if ci is not None else None
    gap_pomp = gap * to_pomp
    level = _level(gap_pomp, delta, settings)
    level_pomp = ((sx.mean - 1.0) + (sy.mean - 1.0)) / 2.0 * to_pomp
    return {
        "gap_points": gap,
        "gap_pomp": gap_pomp,
        "ci_low": None if ci is None else ci[0],
        "ci_high": None if ci is None else ci[1],
        "ci_low_pomp": None if ci is None else ci[0] * to_pomp,
        "ci_high_pomp": None if ci is None else ci[1] * to_pomp,
        "ci_method": ci_method,
        "cliffs_delta": delta,
        "cliffs_delta_magnitude": st.cliffs_magnitude(delta),
        "p": p,
        "method": method,
        "classification": _classify(level, gap_pomp, level_pomp),
        "level": level,
        "confidence": None,
        "_single": single,
    }


# --------------------------------------------------------------------------- 4. dimensions


def _score_dimensions(instrument, data, settings, visible, item_summaries):
    index = {item.code: j for j, item in enumerate(data.items)}
    points_all = np.array([item.scale.points for item in data.items], dtype=float)
    with np.errstate(invalid="ignore"):
        pomp_all = (data.values - 1.0) * (100.0 / (points_all - 1.0))
    answered_all = ~np.isnan(data.values)
    either_visible = (data.masks[EXEC] & visible[EXEC]) | (data.masks[CX] & visible[CX])
    mean_importance = (
        float(np.mean([d.importance for d in instrument.dimensions]))
        if instrument.dimensions
        else 0.5
    )

    partial = []
    for dim in instrument.dimensions:
        cols = [index[item.code] for item in dim.items]
        k = len(cols)
        scales = {item.scale.points for item in dim.items}
        common = next(iter(scales)) if len(scales) == 1 else None
        if k:
            sub = pomp_all[:, cols]
            answered = answered_all[:, cols]
            n_ans = answered.sum(axis=1)
            has_score = (3 * n_ans >= 2 * k) & (n_ans > 0)
            sums = np.where(answered, sub, 0.0).sum(axis=1)
            scores = np.divide(sums, n_ans, out=np.full(data.n_rows, np.nan), where=has_score)
            # equal scores reached by different sums must tie exactly (Cliff's delta, tests)
            scores = np.round(scores, SCORE_DECIMALS)
            responded = (answered | data.dk[:, cols]).any(axis=1)
        else:
            answered = np.zeros((data.n_rows, 0), dtype=bool)
            has_score = np.zeros(data.n_rows, dtype=bool)
            scores = np.full(data.n_rows, np.nan)
            responded = has_score

        samples = {}
        per_group = {}
        for g in GROUPS:
            if not visible[g]:
                per_group[g] = None
                continue
            mask = data.masks[g]
            x = np.sort(scores[mask & has_score])  # sorted: row order cannot matter
            samples[g] = x
            n_dk = int(np.count_nonzero(data.dk[mask][:, cols])) if k else 0
            n_answers = int(np.count_nonzero(answered[mask]))
            per_group[g] = _dimension_group_stats(
                x,
                n_incomplete=int(np.count_nonzero(mask & responded & ~has_score)),
                n_dk=n_dk,
                n_answers=n_answers,
                common=common,
                item_stats=[(data.items[c].scale.points, item_summaries[g][c]) for c in cols],
                item_counts=[data.counts[g][c, : data.items[c].scale.points] for c in cols],
            )

        rel_data = None
        if k:
            # complete cases of the visible groups, pooled; rows sorted so row order cannot matter
            rel_data = pomp_all[np.ix_(either_visible & answered.all(axis=1), cols)]
            rel_data = rel_data[np.lexsort(rel_data.T[::-1])]
        if k >= 3:
            reliability = Reliability(
                st.cronbach_alpha(rel_data), "cronbach_alpha", len(rel_data), k
            )
        elif k == 2:
            reliability = Reliability(
                st.spearman_brown(rel_data), "spearman_brown", len(rel_data), k
            )
        else:
            reliability = Reliability(None, None, 0 if rel_data is None else len(rel_data), k)

        fields = {
            "code": dim.code,
            "name": dim.name,
            "importance": float(dim.importance),
            "item_codes": tuple(item.code for item in dim.items),
            "points": common,
            "executive": per_group[EXEC],
            "cx_professional": per_group[CX],
            "reliability": reliability,
        }
        fields.update(_dimension_gap(dim, samples, per_group, common, settings, visible))
        cx_stats = per_group[CX]
        performance = cx_stats.mean_pomp if cx_stats is not None else None
        fields["performance_pomp"] = performance
        fields["quadrant"] = _quadrant(float(dim.importance), performance, mean_importance)
        fields["priority_rank"] = None
        partial.append(fields)

    tested = {
        j: f["p"]
        for j, f in enumerate(partial)
        if f["method"] in TWO_SAMPLE_DIM and f["p"] is not None
    }
    qvalues = _apply_bh(tested)
    out = []
    for j, f in enumerate(partial):
        q = qvalues.get(j)
        single = f.pop("_single")
        f["q"] = q
        f["confidence"] = f["confidence"] or _confidence(f["method"], f["p"], q, single)
        f["supported"] = f["confidence"] == "supported"
        out.append(DimensionResult(**f))
    return tuple(out)


def _dimension_group_stats(x, *, n_incomplete, n_dk, n_answers, common, item_stats, item_counts):
    n = int(x.size)
    mean = sd = median = None
    if n:
        mean = float(np.mean(x))
        median = float(np.median(x))
    if n >= 2:
        sd = float(np.std(x, ddof=1))
    # consensus from the items (Lindell, Brandt & Whitney 1999; Burke & Dunlap 2002)
    ratios, ads, cutoffs = [], [], []
    for (points, summary), counts in zip(item_stats, item_counts, strict=True):
        if summary is None or summary.n < 2:
            continue
        ratios.append(summary.var / ((points**2 - 1) / 12.0))
        ad = st.ad_from_counts(counts, summary.mean)
        ads.append(ad * 100.0 / (points - 1))
        cutoffs.append(points / 6.0 * 100.0 / (points - 1))
    rwg_j = ad_pomp = cutoff = None
    if n >= 2 and ratios:
        rwg_j = 1.0 - float(np.mean(ratios))
        ad_pomp = float(np.mean(ads))
        cutoff = float(np.mean(cutoffs))
    descriptive = n < CONSENSUS_MIN_RATERS
    judged = not descriptive and rwg_j is not None
    scale = None if common is None else (common - 1) / 100.0
    total = n_dk + n_answers
    return DimensionGroupStats(
        n=n,
        n_incomplete=n_incomplete,
        dont_know_share=(n_dk / total) if total else None,
        mean=None if (scale is None or mean is None) else 1.0 + mean * scale,
        sd=None if (scale is None or sd is None) else sd * scale,
        median=None if (scale is None or median is None) else 1.0 + median * scale,
        mean_pomp=mean,
        sd_pomp=sd,
        median_pomp=median,
        rwg_j=rwg_j,
        ad_pomp=ad_pomp,
        ad_cutoff_pomp=cutoff,
        ad_acceptable=(ad_pomp <= cutoff + EPS) if judged else None,
        low_consensus=(rwg_j < CONSENSUS_LOW) if judged else None,
        consensus_descriptive_only=descriptive,
    )


_EMPTY_DIM_GAP = {
    "gap_points": None,
    "gap_pomp": None,
    "ci_low": None,
    "ci_high": None,
    "ci_low_pomp": None,
    "ci_high_pomp": None,
    "ci_method": None,
    "cliffs_delta": None,
    "cliffs_delta_magnitude": None,
    "effect_size": None,
    "effect_size_kind": None,
    "p": None,
    "method": None,
    "classification": None,
    "level": None,
    "level_pomp": None,
    "priority_score": None,
    "_single": False,
}


def _unique_counts(x: np.ndarray, y: np.ndarray):
    pooled, inverse = np.unique(np.concatenate([x, y]), return_inverse=True)
    cx = np.bincount(inverse[: x.size], minlength=pooled.size)
    cy = np.bincount(inverse[x.size :], minlength=pooled.size)
    return pooled, cx, cy


def _dimension_gap(dim, samples, per_group, common, settings, visible) -> dict:
    if not (visible[EXEC] and visible[CX]):
        return {**_EMPTY_DIM_GAP, "confidence": "suppressed"}
    sx, sy = per_group[EXEC], per_group[CX]
    if sx.n == 0 or sy.n == 0:
        return {**_EMPTY_DIM_GAP, "confidence": "no data"}
    x, y = samples[EXEC], samples[CX]
    var_x = float(np.var(x, ddof=1)) if x.size >= 2 else None
    var_y = float(np.var(y, ddof=1)) if y.size >= 2 else None
    pooled, cx, cy = _unique_counts(x, y)
    delta = st.cliffs_delta_from_counts(cx, cy)
    gap = sx.mean_pomp - sy.mean_pomp
    single = sx.n == 1 or sy.n == 1
    ci = p = effect = None
    method = ci_method = effect_kind = None
    if single:
        if sx.n == 1 and sy.n >= 2:
            c = float(x[0])
            method = "sign_test"
            p = st.sign_test(y, None, c)
            interval = st.one_sample_t_ci(sy.mean_pomp, sy.sd_pomp, sy.n, CI_LEVEL)
            ci = None if interval is None else (c - interval[1], c - interval[0])
            effect = st.glass_delta(c, sy.mean_pomp, sy.sd_pomp)
        elif sy.n == 1 and sx.n >= 2:
            c = float(y[0])
            method = "sign_test"
            p = st.sign_test(x, None, c)
            interval = st.one_sample_t_ci(sx.mean_pomp, sx.sd_pomp, sx.n, CI_LEVEL)
            ci = None if interval is None else (interval[0] - c, interval[1] - c)
            g = st.glass_delta(c, sx.mean_pomp, sx.sd_pomp)
            effect = None if g is None else -g
        effect_kind = "glass_delta" if effect is not None else None
        ci_method = "one_sample_t" if ci is not None else None
    else:
        if sx.n >= LARGE_SAMPLE and sy.n >= LARGE_SAMPLE:
            method = "welch_t"
            if var_x / sx.n + var_y / sy.n > 0:
                p = float(
                    sps.ttest_ind_from_stats(
                        sx.mean_pomp,
                        math.sqrt(var_x),
                        sx.n,
                        sy.mean_pomp,
                        math.sqrt(var_y),
                        sy.n,
                        equal_var=False,
                    ).pvalue
                )
            ci = st.bootstrap_mean_diff(
                pooled,
                cx,
                pooled,
                cy,
                settings.n_bootstrap,
                _rng(settings, "dimension-bootstrap", dim.code),
                CI_LEVEL,
            )
            ci_method = "bootstrap_percentile" if ci is not None else None
        else:
            method = "permutation"
            p = st.permutation_sum_test(
                x,
                y,
                settings.n_resamples,
                _rng(settings, "dimension-permutation", dim.code),
            )
            ci = st.welch_t_ci(sx.mean_pomp, var_x, sx.n, sy.mean_pomp, var_y, sy.n, CI_LEVEL)
            ci_method = "welch_t" if ci is not None else None
        if sx.n >= 5 and sy.n >= 5:
            effect = st.hedges_g(sx.mean_pomp, var_x, sx.n, sy.mean_pomp, var_y, sy.n)
            effect_kind = "hedges_g" if effect is not None else None
    level = _level(gap, delta, settings)
    level_pomp = (sx.mean_pomp + sy.mean_pomp) / 2.0
    scale = None if common is None else (common - 1) / 100.0
    return {
        "gap_points": None if scale is None else gap * scale,
        "gap_pomp": gap,
        "ci_low": None if (ci is None or scale is None) else ci[0] * scale,
        "ci_high": None if (ci is None or scale is None) else ci[1] * scale,
        "ci_low_pomp": None if ci is None else ci[0],
        "ci_high_pomp": None if ci is None else ci[1],
        "ci_method": ci_method,
        "cliffs_delta": delta,
        "cliffs_delta_magnitude": st.cliffs_magnitude(delta),
        "effect_size": effect,
        "effect_size_kind": effect_kind,
        "p": p,
        "method": method,
        "classification": _classify(level, gap, level_pomp),
        "level": level,
        "level_pomp": level_pomp,
        "priority_score": float(dim.importance) * abs(gap),
        "confidence": None,
        "_single": single,
    }


def _quadrant(importance: float, performance: float | None, cut: float) -> str | None:
    """Importance-performance grid (Martilla & James 1977), CX-rated performance."""
    if performance is None:
        return None
    high_importance = importance >= cut - EPS
    good = performance >= STRENGTH_CUT_POMP - EPS
    if high_importance:
        return "keep up the good work" if good else "concentrate here"
    return "possible overkill" if good else "low priority"


# --------------------------------------------------------------------------- 5. alignment


def _alignment(dimensions, settings, visible) -> AlignmentResult:
    empty = {
        "index": None,
        "band": None,
        "n_dimensions": 0,
        "profile_correlation": None,
        "lins_concordance": None,
        "distance": None,
        "elevation": None,
        "scatter": None,
        "shape": None,
        "elevation_share": None,
        "scatter_share": None,
        "shape_share": None,
    }
    hidden = [g for g in GROUPS if not visible[g]]
    if hidden:
        who = " and ".join(readings.GROUP_PLURAL[g] for g in hidden)
        reason = f"it needs both groups, and {who} are below the anonymity threshold."
        return AlignmentResult(reading=readings.alignment_unavailable(reason), **empty)
    used = [d for d in dimensions if d.gap_pomp is not None]
    if not used:
        reason = "no dimension has answers from both groups yet."
        return AlignmentResult(reading=readings.alignment_unavailable(reason), **empty)
    gaps = np.array([abs(d.gap_pomp) for d in used])
    weights = np.array([d.importance for d in used], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    index = 100.0 - float(weights @ gaps / weights.sum())
    band = readings.alignment_band(index, settings.gap_threshold_pomp)
    ex = np.array([d.executive.mean_pomp for d in used])
    cx = np.array([d.cx_professional.mean_pomp for d in used])
    split = st.profile_split(ex, cx)
    shares = (None, None, None)
    if split is not None and split.d2 > 1e-12:
        shares = (split.elevation / split.d2, split.scatter / split.d2, split.shape / split.d2)
    return AlignmentResult(
        index=index,
        band=band,
        reading=readings.alignment_reading(index, band),
        n_dimensions=len(used),
        profile_correlation=st.pearson_r(ex, cx),
        lins_concordance=st.lins_ccc(ex, cx) if len(used) >= 3 else None,
        distance=math.sqrt(split.d2),
        elevation=split.elevation,
        scatter=split.scatter,
        shape=split.shape,
        elevation_share=shares[0],
        scatter_share=shares[1],
        shape_share=shares[2],
    )


# --------------------------------------------------------------------------- 6. priorities


def _priorities(dimensions) -> tuple[PriorityEntry, ...]:
    """Gaps first (statistically supported before the rest, each by importance x |gap|),
    then shared weaknesses without a notable gap (by importance x shortfall below 100)."""
    ranked = []
    for order, d in enumerate(dimensions):
        if d.level is None:
            continue
        if d.level != "none":
            tier = 0 if d.confidence == "supported" else 1
            ranked.append(((tier, -d.priority_score, order), d, "gap"))
        elif d.classification == "shared weakness":
            shortfall = d.importance * (100.0 - d.level_pomp)
            ranked.append(((2, -shortfall, order), d, "shared weakness"))
    ranked.sort(key=lambda r: r[0])
    return tuple(
        PriorityEntry(
            rank=rank,
            dimension=d.code,
            name=d.name,
            kind=kind,
            classification=d.classification,
            level=d.level,
            confidence=d.confidence,
            importance=d.importance,
            gap_pomp=d.gap_pomp,
            priority_score=d.priority_score,
            level_pomp=d.level_pomp,
            summary=readings.priority_summary(
                d.classification, d.level, d.confidence, d.gap_pomp, d.level_pomp
            ),
        )
        for rank, (_, d, kind) in enumerate(ranked, start=1)
    )


# --------------------------------------------------------------------------- 7. notes


def _data_notes(data, items, settings, visible, notes: list[Note]) -> None:
    # only visible groups' rows: a hidden group must not show up even in a data warning
    rows = np.zeros(data.n_rows, dtype=bool)
    for g in GROUPS:
        if visible[g]:
            rows |= data.masks[g]
    dk_not_offered = [
        it.code for j, it in enumerate(data.items) if not it.dont_know and data.dk[rows, j].any()
    ]
    if dk_not_offered:
        notes.append(
            Note(
                "dont_know_not_offered",
                "warning",
                "'Don't know' was recorded for items that do not offer it; it was treated as "
                f"'Don't know' anyway: {', '.join(dk_not_offered)}.",
            )
        )
    if not any(visible.values()) or data.n_rows == 0:
        return
    shown = [g for g in GROUPS if visible[g]]
    empty = [it.code for it in items if all(getattr(it, g).n == 0 for g in shown)]
    if empty:
        notes.append(
            Note(
                "items_without_answers",
                "info",
                f"No substantive answers (only skipped or 'Don't know'): {', '.join(empty)}.",
            )
        )
    for g in shown:
        thin = [it.code for it in items if 0 < getattr(it, g).n < settings.threshold(g)]
        if thin:
            notes.append(
                Note(
                    "few_answers_on_items",
                    "info",
                    f"{len(thin)} item(s) have fewer than {settings.threshold(g)} answers from "
                    f"{readings.GROUP_PLURAL[g]} (the others skipped or chose 'Don't know'): "
                    f"{', '.join(thin)}.",
                )
            )
