"""The primitive statistics of cxalign.scoring.stats, checked against scipy called directly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cxalign.scoring import stats as st


def counts_of(x, points=5):
    return np.bincount(np.asarray(x, dtype=int), minlength=points + 1)[1:]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def test_summarise_counts_matches_numpy(rng):
    for _ in range(50):
        x = rng.integers(1, 8, size=int(rng.integers(1, 40)))
        s = st.summarise_counts(counts_of(x, 7))
        assert s.n == x.size
        assert s.mean == pytest.approx(np.mean(x), rel=1e-12)
        assert s.median == np.median(x)
        assert s.top_box_share == pytest.approx(np.mean(x == 7))
        if x.size >= 2:
            assert s.sd == pytest.approx(np.std(x, ddof=1), rel=1e-9, abs=1e-12)
        else:
            assert s.sd is None and s.var is None


def test_summarise_counts_empty():
    s = st.summarise_counts(np.zeros(5, dtype=int))
    assert (s.n, s.mean, s.sd, s.median, s.top_box_share) == (0, None, None, None, None)


def test_u_and_cliffs_delta_match_scipy_and_pairwise_definition(rng):
    for _ in range(50):
        x = rng.integers(1, 6, size=int(rng.integers(1, 12)))
        y = rng.integers(1, 6, size=int(rng.integers(1, 12)))
        cx, cy = counts_of(x), counts_of(y)
        u = st.u_from_counts(cx, cy)
        assert u == stats.mannwhitneyu(x, y).statistic
        pairwise = np.sign(x[:, None] - y[None, :]).mean()
        assert st.cliffs_delta_from_counts(cx, cy) == pytest.approx(pairwise, abs=1e-12)


def test_cliffs_delta_defined_for_one_answer_and_zero_variance():
    assert st.cliffs_delta_from_counts(counts_of([5]), counts_of([1, 2, 5])) == pytest.approx(2 / 3)
    assert st.cliffs_delta_from_counts(counts_of([3]), counts_of([3, 3])) == 0.0
    assert st.cliffs_delta_from_counts(counts_of([]), counts_of([3])) is None


@pytest.mark.parametrize(
    ("delta", "band"),
    [
        (0.0, "negligible"),
        (0.1469, "negligible"),
        (0.147, "small"),
        (-0.3299, "small"),
        (0.33, "medium"),
        (0.4739, "medium"),
        (-0.474, "large"),
        (1.0, "large"),
        (None, None),
    ],
)
def test_cliffs_magnitude_bands(delta, band):
    assert st.cliffs_magnitude(delta) == band


def test_mann_whitney_asymptotic_matches_scipy(rng):
    for _ in range(50):
        x = rng.integers(1, 6, size=int(rng.integers(10, 60)))
        y = rng.integers(1, 6, size=int(rng.integers(10, 60)))
        ref = stats.mannwhitneyu(x, y, method="asymptotic").pvalue
        assert st.mann_whitney_asymptotic(counts_of(x), counts_of(y)) == pytest.approx(
            ref, rel=1e-10
        )


def test_mann_whitney_asymptotic_all_tied_is_one():
    assert st.mann_whitney_asymptotic(counts_of([3] * 12), counts_of([3] * 15)) == 1.0


def test_mann_whitney_exact_with_ties_matches_exhaustive_permutation(rng):
    method = stats.PermutationMethod(n_resamples=np.inf)
    for _ in range(40):
        x = rng.integers(1, 6, size=int(rng.integers(2, 7)))
        y = rng.integers(1, 6, size=int(rng.integers(2, 9)))
        ref = stats.mannwhitneyu(x, y, method=method).pvalue
        assert st.mann_whitney_exact(counts_of(x), counts_of(y)) == pytest.approx(ref, abs=1e-10)


def test_mann_whitney_exact_without_ties_matches_scipy_exact():
    x = np.array([1, 4, 6])
    y = np.array([2, 3, 5, 7, 8, 9])
    ref = stats.mannwhitneyu(x, y, method="exact").pvalue
    assert st.mann_whitney_exact(counts_of(x, 9), counts_of(y, 9)) == pytest.approx(ref)


def test_mann_whitney_exact_is_symmetric_and_cheap_for_a_large_group():
    cx = counts_of([5, 5, 4, 5, 4])
    cy = np.array([3000, 2500, 2000, 1500, 1000])  # 10,000 answers: enumeration is over 5
    p1 = st.mann_whitney_exact(cx, cy)
    p2 = st.mann_whitney_exact(cy, cx)
    assert p1 == pytest.approx(p2, rel=1e-9)
    assert 0 < p1 < 0.01


def test_permutation_sum_test_exact_matches_scipy(rng):
    """Integer data, so that scipy's floating comparison cannot miss ties."""
    for _ in range(25):
        x = rng.integers(0, 9, size=int(rng.integers(2, 6))).astype(float)
        y = rng.integers(0, 9, size=int(rng.integers(2, 8))).astype(float)
        ref = stats.permutation_test(
            (x, y), lambda a, b, axis: a.sum(axis), vectorized=True, n_resamples=10**6
        ).pvalue
        mine = st.permutation_sum_test(x, y, 10**6, np.random.default_rng(0))
        assert mine == pytest.approx(ref, abs=1e-12)


def test_permutation_sum_test_is_the_mean_difference_test():
    # sizes 2 and 4: means of integers are exact in binary, so scipy sees every tie
    x = np.array([75.0, 100.0])
    y = np.array([25.0, 50.0, 50.0, 75.0])
    ref = stats.permutation_test(
        (x, y), lambda a, b, axis: a.mean(axis) - b.mean(axis), vectorized=True
    ).pvalue
    assert st.permutation_sum_test(x, y, 9999, np.random.default_rng(0)) == pytest.approx(ref)


def test_permutation_sum_test_monte_carlo_for_a_large_pooled_sample(rng):
    x = np.array([80.0, 95.0])
    y = rng.integers(0, 101, size=1498).astype(float)
    pooled = np.concatenate([x, y])
    i, j = np.triu_indices(pooled.size, 1)
    sums = pooled[i] + pooled[j]  # every one of the 1.1 million splits
    exact = min(1.0, 2 * min(np.mean(sums <= 175 + 1e-9), np.mean(sums >= 175 - 1e-9)))
    p = st.permutation_sum_test(x, y, 9999, np.random.default_rng(1))
    assert p == pytest.approx(exact, abs=0.015)
    assert p == st.permutation_sum_test(y[::-1], x, 9999, np.random.default_rng(1))


def test_sign_test_matches_binomtest():
    values = np.arange(1, 6, dtype=float)
    counts = np.array([4, 3, 2, 1, 0])
    # constant 4: below = 4 + 3 + 2 = 9, above = 0
    ref = stats.binomtest(9, 9, 0.5).pvalue
    assert st.sign_test(values, counts, 4.0) == pytest.approx(ref)
    assert st.sign_test(np.array([2.0, 3.0, 5.0, 5.0]), None, 4.0) == pytest.approx(
        stats.binomtest(2, 4, 0.5).pvalue
    )
    assert st.sign_test(values, np.array([0, 0, 5, 0, 0]), 3.0) == 1.0


def test_one_sample_t_ci_matches_scipy():
    y = np.array([2.0, 3, 3, 4, 5, 1, 2])
    ref = stats.ttest_1samp(y, 3.0).confidence_interval(0.95)
    lo, hi = st.one_sample_t_ci(float(y.mean()), float(y.std(ddof=1)), y.size)
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert st.one_sample_t_ci(3.0, 0.0, 5) is None
    assert st.one_sample_t_ci(3.0, None, 1) is None


def test_welch_t_ci_matches_scipy():
    x = np.array([4.0, 5, 5, 3, 4])
    y = np.array([2.0, 3, 3, 4, 1, 2, 2, 3])
    ref = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    got = st.welch_t_ci(x.mean(), x.var(ddof=1), x.size, y.mean(), y.var(ddof=1), y.size)
    assert got == pytest.approx((ref.low, ref.high))
    assert st.welch_t_ci(4.0, 0.0, 5, 2.0, 0.0, 8) is None


def test_bootstrap_from_counts_matches_respondent_level_bootstrap(rng):
    x = rng.integers(1, 6, size=40)
    y = rng.integers(2, 6, size=60)
    values = np.arange(1, 6, dtype=float)
    ours = st.bootstrap_mean_diff(
        values, counts_of(x), values, counts_of(y), 4000, np.random.default_rng(3)
    )
    ref = stats.bootstrap(
        (x, y),
        lambda a, b, axis: a.mean(axis) - b.mean(axis),
        method="percentile",
        n_resamples=4000,
        rng=np.random.default_rng(4),
    ).confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.08)
    assert ours[1] == pytest.approx(ref.high, abs=0.08)
    same = st.bootstrap_mean_diff(
        values, counts_of(x), values, counts_of(y), 4000, np.random.default_rng(3)
    )
    assert same == ours
    swapped = st.bootstrap_mean_diff(
        values, counts_of(y), values, counts_of(x), 4000, np.random.default_rng(3)
    )
    assert swapped == (-ours[1], -ours[0])


def test_bootstrap_zero_variance_is_none():
    values = np.arange(1, 6, dtype=float)
    assert (
        st.bootstrap_mean_diff(
            values, counts_of([4] * 10), values, counts_of([2] * 12), 99, np.random.default_rng()
        )
        is None
    )


def test_hedges_g_with_exact_correction():
    x = np.array([70.0, 80, 75, 90, 85])
    y = np.array([50.0, 60, 55, 65, 70, 40])
    df = x.size + y.size - 2
    sp = math.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / df)
    j = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
    expected = j * (x.mean() - y.mean()) / sp
    got = st.hedges_g(x.mean(), x.var(ddof=1), x.size, y.mean(), y.var(ddof=1), y.size)
    assert got == pytest.approx(expected)
    assert 1 - 3 / (4 * df - 1) == pytest.approx(j, abs=2e-3)  # Hedges' approximation
    assert st.hedges_g(1.0, 0.0, 5, 1.0, 0.0, 5) is None


def test_glass_delta():
    assert st.glass_delta(80.0, 60.0, 10.0) == pytest.approx(2.0)
    assert st.glass_delta(80.0, 60.0, 0.0) is None


def test_bh_matches_scipy():
    p = [0.001, 0.04, 0.03, 0.2, 0.5]
    assert st.bh_qvalues(p) == pytest.approx(list(stats.false_discovery_control(p, method="bh")))
    assert st.bh_qvalues([]) == []


def test_rwg_and_ad():
    # answers 5, 4, 4: s^2 = 1/3, sigma_EU^2 = (25 - 1)/12 = 2
    assert st.rwg(1 / 3, 5) == pytest.approx(1 - (1 / 3) / 2)
    assert st.rwg(5.0, 5) == 0.0  # truncated
    assert st.rwg(None, 5) is None
    mean = 13 / 3
    assert st.ad_from_counts(counts_of([5, 4, 4]), mean) == pytest.approx(
        (abs(5 - mean) + 2 * abs(4 - mean)) / 3
    )
    assert st.ad_from_counts(counts_of([4]), 4.0) is None


def test_cronbach_alpha_matches_covariance_formula(rng):
    latent = rng.normal(size=(50, 1))
    data = latent + rng.normal(size=(50, 4))
    cov = np.cov(data, rowvar=False)
    k = data.shape[1]
    expected = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    assert st.cronbach_alpha(data) == pytest.approx(expected)
    assert st.cronbach_alpha(np.ones((10, 3))) is None
    assert st.cronbach_alpha(data[:2]) is None


def test_spearman_brown_matches_pearson(rng):
    data = rng.normal(size=(30, 2))
    data[:, 1] += data[:, 0]
    r = stats.pearsonr(data[:, 0], data[:, 1]).statistic
    assert st.spearman_brown(data) == pytest.approx(2 * r / (1 + r))
    assert st.spearman_brown(np.column_stack([np.ones(5), np.arange(5.0)])) is None


def test_lins_ccc_and_profile_split():
    x = np.array([70.0, 55.0, 80.0, 40.0])
    y = np.array([60.0, 50.0, 62.0, 45.0])
    sxy = np.mean((x - x.mean()) * (y - y.mean()))
    expected = 2 * sxy / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert st.lins_ccc(x, y) == pytest.approx(expected)
    assert st.lins_ccc(np.array([50.0, 50.0]), np.array([50.0, 50.0])) is None
    assert st.pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y).statistic)
    assert st.pearson_r(x, np.full(4, 3.0)) is None
    split = st.profile_split(x, y)
    assert split.elevation + split.scatter + split.shape == pytest.approx(np.sum((x - y) ** 2))
    r = stats.pearsonr(x, y).statistic
    assert split.shape == pytest.approx(2 * x.size * x.std() * y.std() * (1 - r))
    assert split.elevation == pytest.approx(x.size * (x.mean() - y.mean()) ** 2)


def test_pomp():
    assert st.pomp(1, 5) == 0.0
    assert st.pomp(5, 5) == 100.0
    assert st.pomp(4, 7) == 50.0
    assert st.pomp(3.5, 5) == 62.5
