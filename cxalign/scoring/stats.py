"""Primitive statistics, numpy and scipy only, most of them from category counts.

Likert answers take a handful of values, so almost everything here works on a
vector of counts per scale point instead of the individual answers: the cost of
scoring then no longer grows with the number of respondents. Each function says
which scipy routine it reproduces; ``tests/test_scoring_stats.py`` checks them
against scipy called directly.

Every function returns plain Python ``float``/``None`` (never NaN): a figure
that is undefined for the data (zero variance, too few answers) is ``None``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from scipy import stats as sps

__all__ = [
    "CountSummary",
    "ad_from_counts",
    "bh_qvalues",
    "bootstrap_mean_diff",
    "cliffs_delta_from_counts",
    "cliffs_magnitude",
    "cronbach_alpha",
    "glass_delta",
    "hedges_g",
    "lins_ccc",
    "mann_whitney_asymptotic",
    "mann_whitney_exact",
    "one_sample_t_ci",
    "permutation_sum_test",
    "pomp",
    "profile_split",
    "rwg",
    "sign_test",
    "spearman_brown",
    "summarise_counts",
    "u_from_counts",
    "welch_t_ci",
]

#: Cliff's delta magnitude bands (Romano, Kromrey, Coraggio & Skowronek 2006).
CLIFF_BANDS = ((0.147, "negligible"), (0.33, "small"), (0.474, "medium"))


def _f(value: float | np.floating | None) -> float | None:
    """A plain float, or None for None/NaN/inf."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def pomp(x, points: int):
    """Percent of maximum possible, 100 (x - min) / (max - min) (Cohen et al. 1999)."""
    return 100.0 * (np.asarray(x, dtype=float) - 1.0) / (points - 1)


# --------------------------------------------------------------------------- descriptives


@dataclass(frozen=True)
class CountSummary:
    n: int
    mean: float | None
    var: float | None  # sample variance, n - 1
    sd: float | None
    median: float | None
    top_box_share: float | None


def summarise_counts(counts: np.ndarray, values: np.ndarray | None = None) -> CountSummary:
    """n, mean, sample SD, median and top-box share from counts per category.

    ``values`` are the category values (default 1..len(counts)), ascending. The
    median follows ``numpy.median`` (mean of the two middle answers for even n).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if values is None:
        values = np.arange(1, counts.size + 1, dtype=float)
    n = int(counts.sum())
    if n == 0:
        return CountSummary(0, None, None, None, None, None)
    mean = float(counts @ values) / n
    var = sd = None
    if n >= 2:
        var = float(counts @ (values - mean) ** 2) / (n - 1)
        var = max(var, 0.0)
        sd = math.sqrt(var)
    cum = np.cumsum(counts)
    lo = values[int(np.searchsorted(cum, (n - 1) // 2, side="right"))]
    hi = values[int(np.searchsorted(cum, n // 2, side="right"))]
    median = (float(lo) + float(hi)) / 2.0
    top = float(counts[-1]) / n
    return CountSummary(n, mean, var, sd, median, top)


def rwg(var: float | None, points: int) -> float | None:
    """Within-group agreement r_wg = 1 - s^2 / sigma^2_EU, truncated at 0.

    sigma^2_EU = (A^2 - 1) / 12 is the variance of a uniform ("no agreement")
    answer over A points (James, Demaree & Wolf 1984).
    """
    if var is None:
        return None
    expected = (points**2 - 1) / 12.0
    return max(0.0, 1.0 - var / expected)


def ad_from_counts(counts: np.ndarray, mean: float | None, values=None) -> float | None:
    """Average deviation about the mean, AD_M = sum |x - mean| / n (Burke & Dunlap 2002)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n < 2 or mean is None:
        return None
    if values is None:
        values = np.arange(1, counts.size + 1, dtype=float)
    return float(counts @ np.abs(values - mean)) / n


# --------------------------------------------------------------------------- ordinal


def u_from_counts(cx: np.ndarray, cy: np.ndarray) -> float:
    """Mann-Whitney U of the first sample, #(x > y) + 0.5 #(x = y), from aligned counts.

    Equals ``scipy.stats.mannwhitneyu(x, y).statistic``.
    """
    cx = np.asarray(cx, dtype=float)
    cy = np.asarray(cy, dtype=float)
    below_y = np.cumsum(cy) - cy
    return float(cx @ (below_y + 0.5 * cy))


def cliffs_delta_from_counts(cx: np.ndarray, cy: np.ndarray) -> float | None:
    """Cliff's delta = P(x > y) - P(x < y) = 2U / (n1 n2) - 1 (Romano et al. 2006)."""
    m = float(np.sum(cx))
    n = float(np.sum(cy))
    if m == 0 or n == 0:
        return None
    return 2.0 * u_from_counts(cx, cy) / (m * n) - 1.0


def cliffs_magnitude(delta: float | None) -> str | None:
    """negligible < .147 <= small < .33 <= medium < .474 <= large (Romano et al. 2006)."""
    if delta is None:
        return None
    size = abs(delta)
    for cut, label in CLIFF_BANDS:
        if size < cut:
            return label
    return "large"


def mann_whitney_asymptotic(cx: np.ndarray, cy: np.ndarray) -> float:
    """Two-sided p of Mann-Whitney's U, normal approximation with tie and continuity correction.

    Reproduces ``scipy.stats.mannwhitneyu(x, y, method="asymptotic")`` from counts.
    When every answer is tied the permutation distribution is a single point and
    p = 1.
    """
    cx = np.asarray(cx, dtype=float)
    cy = np.asarray(cy, dtype=float)
    m, n = cx.sum(), cy.sum()
    big_n = m + n
    ux = u_from_counts(cx, cy)
    u = max(ux, m * n - ux)
    t = cx + cy
    tie_term = float(np.sum(t**3 - t))
    var = m * n / 12.0 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
    if var <= 0:
        return 1.0
    z = (u - m * n / 2.0 - 0.5) / math.sqrt(var)
    return float(min(1.0, 2.0 * special.ndtr(-z)))


@lru_cache(maxsize=256)
def _compositions(m: int, k: int) -> np.ndarray:
    """Every vector of k non-negative integers summing to m (stars and bars), shape (C, k)."""
    if k == 1:
        return np.array([[m]], dtype=np.int64)
    bars = np.array(list(itertools.combinations(range(m + k - 1), k - 1)), dtype=np.int64)
    edges = np.concatenate(
        [np.full((bars.shape[0], 1), -1), bars, np.full((bars.shape[0], 1), m + k - 1)], axis=1
    )
    out = np.diff(edges, axis=1) - 1
    out.setflags(write=False)
    return out


def mann_whitney_exact(cx: np.ndarray, cy: np.ndarray) -> float:
    """Exact two-sided permutation p of Mann-Whitney's U, ties included, from counts.

    The null distribution is the conditional (permutation) distribution of U
    given the pooled answers: every split of the pooled answers into groups of
    the observed sizes is equally likely. It is enumerated over the compositions
    of the smaller group across the answer categories, each weighted by
    prod_c C(N_c, k_c) / C(N, m) (the number of splits it stands for), so the
    cost depends on the smaller group (at most 9 here) and the number of
    categories, not on the larger group. The p-value follows
    ``scipy.stats.permutation_test``: 2 min(P(U <= u), P(U >= u)), at most 1.
    With no ties it equals ``scipy.stats.mannwhitneyu(..., method="exact")``;
    with ties it equals ``mannwhitneyu(..., method=PermutationMethod())`` with
    exhaustive enumeration (scipy's "exact" ignores ties).
    """
    cx = np.asarray(cx, dtype=np.int64)
    cy = np.asarray(cy, dtype=np.int64)
    total = cx + cy
    keep = total > 0
    cx, cy, total = cx[keep], cy[keep], total[keep]
    m, n = int(cx.sum()), int(cy.sum())
    if m == 0 or n == 0:
        raise ValueError("both groups need answers")
    small, ms = (cx, m) if m <= n else (cy, n)
    before = np.cumsum(total) - total
    ranks2 = 2 * before + total + 1  # doubled mid-ranks: integers
    observed = int(small @ ranks2)
    comps = _compositions(ms, int(total.size))
    comps = comps[np.all(comps <= total, axis=1)]
    log_w = np.sum(
        special.gammaln(total + 1)
        - special.gammaln(comps + 1)
        - special.gammaln(total - comps + 1),
        axis=1,
    )
    weights = np.exp(log_w - log_w.max())
    stat = comps @ ranks2
    total_w = weights.sum()
    p_le = weights[stat <= observed].sum() / total_w
    p_ge = weights[stat >= observed].sum() / total_w
    return float(min(1.0, 2.0 * min(p_le, p_ge)))


def sign_test(values: np.ndarray, counts: np.ndarray | None, constant: float) -> float:
    """Two-sided sign test of a sample against one person's answer (``scipy.stats.binomtest``).

    k = number of answers below the constant among the n answers that differ
    from it; under H0 k ~ Binomial(n, 1/2). With no differing answer p = 1.
    """
    values = np.asarray(values, dtype=float)
    if counts is None:
        below = int(np.count_nonzero(values < constant))
        above = int(np.count_nonzero(values > constant))
    else:
        counts = np.asarray(counts, dtype=np.int64)
        below = int(counts[values < constant].sum())
        above = int(counts[values > constant].sum())
    if below + above == 0:
        return 1.0
    return float(sps.binomtest(below, below + above, 0.5).pvalue)


# --------------------------------------------------------------------------- intervals


def one_sample_t_ci(
    mean: float, sd: float | None, n: int, level: float = 0.95
) -> tuple[float, float] | None:
    """t interval of a mean, mean +- t_{n-1} sd / sqrt(n) (``ttest_1samp`` interval).

    None when n < 2 or sd = 0 (no sampling variability can be estimated).
    """
    if n < 2 or sd is None or sd <= 0:
        return None
    half = float(sps.t.ppf(0.5 + level / 2.0, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def welch_t_ci(
    mean_x: float,
    var_x: float,
    n_x: int,
    mean_y: float,
    var_y: float,
    n_y: int,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Welch-Satterthwaite t interval of mean_x - mean_y.

    Equals ``scipy.stats.ttest_ind(x, y, equal_var=False).confidence_interval()``.
    None when both variances are 0.
    """
    if n_x < 2 or n_y < 2:
        return None
    vx, vy = var_x / n_x, var_y / n_y
    se2 = vx + vy
    if se2 <= 0:
        return None
    df = se2**2 / (vx**2 / (n_x - 1) + vy**2 / (n_y - 1))
    half = float(sps.t.ppf(0.5 + level / 2.0, df)) * math.sqrt(se2)
    diff = mean_x - mean_y
    return diff - half, diff + half


def bootstrap_mean_diff(
    values_x: np.ndarray,
    counts_x: np.ndarray,
    values_y: np.ndarray,
    counts_y: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of mean_x - mean_y, resampling category counts.

    Drawing n answers with replacement from a group is the same as one
    multinomial draw of n over its distinct values with the observed shares, so
    each resample costs O(categories) instead of O(n). None when both groups
    have a single distinct value (zero variance: the interval would be a point).
    """
    values_x = np.asarray(values_x, dtype=float)
    values_y = np.asarray(values_y, dtype=float)
    counts_x = np.asarray(counts_x, dtype=np.int64)
    counts_y = np.asarray(counts_y, dtype=np.int64)
    if np.count_nonzero(counts_x) <= 1 and np.count_nonzero(counts_y) <= 1:
        return None
    n_x, n_y = int(counts_x.sum()), int(counts_y.sum())
    # categories nobody in the group chose can never be drawn: leave them out (faster)
    keep_x, keep_y = counts_x > 0, counts_y > 0
    values_x, counts_x = values_x[keep_x], counts_x[keep_x]
    values_y, counts_y = values_y[keep_y], counts_y[keep_y]
    # draw the groups in an order fixed by the data, not by the labels, so that swapping
    # the two groups gives exactly the negated interval
    x_first = _canonical_key(values_x, counts_x) <= _canonical_key(values_y, counts_y)
    if x_first:
        draws_x = rng.multinomial(n_x, counts_x / n_x, size=n_resamples)
        draws_y = rng.multinomial(n_y, counts_y / n_y, size=n_resamples)
    else:
        draws_y = rng.multinomial(n_y, counts_y / n_y, size=n_resamples)
        draws_x = rng.multinomial(n_x, counts_x / n_x, size=n_resamples)
    diffs = draws_x @ values_x / n_x - draws_y @ values_y / n_y
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(diffs, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _canonical_key(values: np.ndarray, counts: np.ndarray) -> tuple:
    return (int(counts.sum()), tuple(counts.tolist()), tuple(values.tolist()))


# --------------------------------------------------------------------------- permutation


def permutation_sum_test(
    x: np.ndarray, y: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> float:
    """Two-sided permutation p of the difference in means of two independent samples.

    The same test as ``scipy.stats.permutation_test((x, y), mean_x - mean_y,
    permutation_type="independent")``: the difference in means is a monotone
    function of the smaller sample's sum S, and a random permutation of the
    pooled data hands the smaller group a uniformly random subset. So the null
    distribution of S is enumerated exactly when C(N, m) <= n_resamples (p
    without adjustment), and otherwise sampled with n_resamples random subsets
    (Floyd's algorithm, vectorised: cost O(n_resamples m^2), independent of N)
    with scipy's +1 adjustment. p = 2 min(P(S* <= s), P(S* >= s)), at most 1.
    """
    small = np.sort(np.asarray(x, dtype=float))
    other = np.sort(np.asarray(y, dtype=float))
    if small.size > other.size or (
        small.size == other.size and tuple(small.tolist()) > tuple(other.tolist())
    ):
        # the null distribution is the same either way; fixing the choice by the data
        # (not the labels or row order) makes p invariant to swapping groups or rows
        small, other = other, small
    pooled = np.concatenate([small, other])
    big_n, m = pooled.size, small.size
    observed = float(small.sum())
    tol = 1e-9 * max(1.0, m * float(np.max(np.abs(pooled))))
    if math.comb(big_n, m) <= n_resamples:
        idx = np.array(list(itertools.combinations(range(big_n), m)), dtype=np.int64)
        adjustment = 0
    else:
        idx = np.empty((n_resamples, m), dtype=np.int64)
        for j, top in enumerate(range(big_n - m, big_n)):
            pick = rng.integers(0, top + 1, size=n_resamples)
            taken = np.any(idx[:, :j] == pick[:, None], axis=1)
            idx[:, j] = np.where(taken, top, pick)
        adjustment = 1
    null = pooled[idx].sum(axis=1)
    count = null.size
    p_le = (np.count_nonzero(null <= observed + tol) + adjustment) / (count + adjustment)
    p_ge = (np.count_nonzero(null >= observed - tol) + adjustment) / (count + adjustment)
    return float(min(1.0, 2.0 * min(p_le, p_ge)))


# --------------------------------------------------------------------------- effect sizes


def hedges_g(
    mean_x: float, var_x: float, n_x: int, mean_y: float, var_y: float, n_y: int
) -> float | None:
    """Hedges' g: (mean_x - mean_y) / pooled SD times the exact small-sample correction J.

    J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)), df = n_x + n_y - 2 (Hedges 1981).
    None when the pooled SD is 0.
    """
    df = n_x + n_y - 2
    if df < 2:
        return None
    pooled = ((n_x - 1) * var_x + (n_y - 1) * var_y) / df
    if pooled <= 0:
        return None
    j = math.exp(special.gammaln(df / 2.0) - special.gammaln((df - 1) / 2.0)) / math.sqrt(df / 2.0)
    return j * (mean_x - mean_y) / math.sqrt(pooled)


def glass_delta(single: float, mean_other: float, sd_other: float | None) -> float | None:
    """Glass's Delta: (single value - other group's mean) / other group's SD (Glass 1976)."""
    if sd_other is None or sd_other <= 0:
        return None
    return (single - mean_other) / sd_other


# --------------------------------------------------------------------------- multiplicity


def bh_qvalues(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``)."""
    if not pvalues:
        return []
    q = sps.false_discovery_control(np.asarray(pvalues, dtype=float), method="bh")
    return [float(v) for v in np.atleast_1d(q)]


# --------------------------------------------------------------------------- reliability


def cronbach_alpha(data: np.ndarray) -> float | None:
    """alpha = k/(k-1) (1 - sum item variances / variance of the sum) (Cronbach 1951).

    ``data`` is complete cases x items. None with < 3 cases or zero total variance.
    """
    data = np.asarray(data, dtype=float)
    n, k = data.shape
    if n < 3 or k < 2:
        return None
    total_var = float(np.var(data.sum(axis=1), ddof=1))
    if total_var <= 1e-12:
        return None
    item_var = float(np.var(data, axis=0, ddof=1).sum())
    return k / (k - 1) * (1.0 - item_var / total_var)


def spearman_brown(data: np.ndarray) -> float | None:
    """Two-item reliability 2r / (1 + r), r = Pearson correlation of the items.

    None with < 3 cases, a constant item, or r = -1.
    """
    data = np.asarray(data, dtype=float)
    if data.shape[0] < 3 or data.shape[1] != 2:
        return None
    a = data[:, 0] - data[:, 0].mean()
    b = data[:, 1] - data[:, 1].mean()
    ss_a, ss_b = float(a @ a), float(b @ b)
    if ss_a <= 1e-12 or ss_b <= 1e-12:
        return None
    r = float(a @ b) / math.sqrt(ss_a * ss_b)
    if r <= -1.0 + 1e-12:
        return None
    return 2.0 * r / (1.0 + r)


# --------------------------------------------------------------------------- profiles


def lins_ccc(x: np.ndarray, y: np.ndarray) -> float | None:
    """Lin's concordance 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), 1/n moments (Lin 1989)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    den = float(dx @ dx / x.size + dy @ dy / y.size + (x.mean() - y.mean()) ** 2)
    if den <= 1e-12:
        return None
    return 2.0 * float(dx @ dy / x.size) / den


def pearson_r(x: np.ndarray, y: np.ndarray) -> float | None:
    """``scipy.stats.pearsonr`` statistic; None for < 3 points or a constant profile."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3 or np.ptp(x) <= 1e-12 or np.ptp(y) <= 1e-12:
        return None
    return _f(sps.pearsonr(x, y).statistic)


@dataclass(frozen=True)
class ProfileSplit:
    d2: float
    elevation: float
    scatter: float
    shape: float


def profile_split(x: np.ndarray, y: np.ndarray) -> ProfileSplit | None:
    """Cronbach & Gleser (1953): D^2 = k (mean_x - mean_y)^2 + k (s_x - s_y)^2 + 2k s_x s_y (1 - r).

    Population (1/k) SDs; elevation, scatter and shape add up to D^2 exactly.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    k = x.size
    if k == 0:
        return None
    d2 = float(np.sum((x - y) ** 2))
    sx, sy = float(np.std(x)), float(np.std(y))
    elevation = k * float(x.mean() - y.mean()) ** 2
    scatter = k * (sx - sy) ** 2
    shape = max(0.0, d2 - elevation - scatter)  # = 2k sx sy (1 - r), exact up to rounding
    return ProfileSplit(d2, elevation, scatter, shape)
