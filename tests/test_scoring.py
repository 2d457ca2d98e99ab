"""score_survey: hand-computed tiny surveys, scipy cross-checks, every edge case, anonymity."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from cxalign.instruments.spec import DimensionSpec, InstrumentSpec, ItemSpec, Scale
from cxalign.scoring import (
    CLASSIFICATIONS,
    CONFIDENCE_LABELS,
    AnswerMatrix,
    GapResult,
    ScoringSettings,
    score_survey,
)

S5 = Scale("agree5", "agreement", ("SD", "D", "N", "A", "SA"))
S7 = Scale("agree7", "agreement", ("SD", "D", "SWD", "N", "SWA", "A", "SA"))

#: Fast settings for tests that pass settings explicitly: everybody visible, few resamples.
FAST = ScoringSettings(anonymity_executive=1, anonymity_cx=1, n_resamples=999, n_bootstrap=499)


# --------------------------------------------------------------------------- builders


def item(code, scale=S5, reverse=False, dont_know=True):
    return ItemSpec(code, f"Executive: {code}", f"CX: {code}", scale, reverse, dont_know)


def dim(code, items, importance=1.0, name=None):
    return DimensionSpec(code, name or f"Dimension {code}", "", importance, tuple(items))


def instrument(*dims):
    return InstrumentSpec("test", 1, "Test instrument", "", tuple(dims))


def answers(codes, executive=(), cx=()):
    """Rows are lists aligned with ``codes``: an int, None (skipped) or "DK"."""
    records = [("executive", dict(zip(codes, row, strict=True))) for row in executive]
    records += [("cx_professional", dict(zip(codes, row, strict=True))) for row in cx]
    return AnswerMatrix.from_records(codes, records)


def column(values):
    return [[v] for v in values]


def one_item(exec_values, cx_values, scale=S5, reverse=False, settings=FAST):
    inst = instrument(dim("D", [item("A", scale, reverse)]))
    return score_survey(inst, answers(["A"], column(exec_values), column(cx_values)), settings)


def walk(value, path="result"):
    """Yield (path, leaf) for every leaf of a result dataclass."""
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, tuple):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value


# --------------------------------------------------------------------------- item figures


def test_item_statistics_hand_computed():
    x, y = [5, 4, 4], [2, 3, 2]
    it = one_item(x, y).item("A")
    ex, cx = it.executive, it.cx_professional
    assert (ex.n, cx.n) == (3, 3)
    assert ex.mean == pytest.approx(13 / 3)
    assert ex.sd == pytest.approx(np.std(x, ddof=1))
    assert ex.median == 4.0 and cx.median == 2.0
    assert ex.mean_pomp == pytest.approx(100 * (13 / 3 - 1) / 4)
    assert ex.distribution == (0, 0, 0, 2, 1)
    assert cx.distribution == (0, 2, 1, 0, 0)
    assert ex.top_box_share == pytest.approx(1 / 3)
    assert ex.dont_know_share == 0.0
    assert ex.rwg == pytest.approx(1 - (1 / 3) / 2)  # s^2 = 1/3, sigma_EU^2 = 2
    assert ex.ad == pytest.approx(4 / 9)
    assert ex.ad_cutoff == pytest.approx(5 / 6)
    assert ex.consensus_descriptive_only and ex.low_consensus is None  # 3 raters
    assert it.gap_points == pytest.approx(2.0)
    assert it.gap_pomp == pytest.approx(50.0)
    assert it.cliffs_delta == 1.0 and it.cliffs_delta_magnitude == "large"
    assert it.method == "mann_whitney_exact"
    ref = stats.mannwhitneyu(x, y, method=stats.PermutationMethod(n_resamples=np.inf))
    assert it.p == pytest.approx(ref.pvalue)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert it.ci_method == "welch_t"
    assert (it.ci_low, it.ci_high) == pytest.approx((ci.low, ci.high))
    assert (it.ci_low_pomp, it.ci_high_pomp) == pytest.approx((ci.low * 25, ci.high * 25))
    assert it.level == "major" and it.classification == "blind spot"
    assert it.q == pytest.approx(it.p)  # one tested item: q = p
    assert it.confidence == ("supported" if it.q < 0.05 else "not supported")


def test_reverse_coding_happens_first():
    it = one_item([1, 1, 2], [4, 5, 5], reverse=True).item("A")
    assert it.executive.distribution == (0, 0, 0, 1, 2)  # 1 -> 5, 2 -> 4
    assert it.executive.mean == pytest.approx(14 / 3)
    assert it.cx_professional.mean == pytest.approx(4 / 3)
    assert it.gap_points > 0 and it.classification == "blind spot"
    assert it.executive.top_box_share == pytest.approx(2 / 3)


def test_dont_know_is_excluded_from_means_and_reported_as_share():
    it = one_item([5, "DK", 3, "DK"], [2, 2, None, "DK"]).item("A")
    assert it.executive.n == 2 and it.executive.n_dont_know == 2
    assert it.executive.mean == 4.0
    assert it.executive.dont_know_share == 0.5
    assert it.cx_professional.n == 2
    assert it.cx_professional.dont_know_share == pytest.approx(1 / 3)  # skipped row not counted


def test_all_dont_know_item():
    inst = instrument(dim("D", [item("A"), item("B")]))
    res = score_survey(inst, answers(["A", "B"], [["DK", 4]] * 3, [["DK", 3]] * 3), FAST)
    a = res.item("A")
    assert a.executive.n == 0 and a.executive.dont_know_share == 1.0
    assert a.executive.mean is None and a.executive.top_box_share is None
    assert a.gap_points is None and a.confidence == "no data" and a.classification is None
    assert any(n.code == "items_without_answers" and "A" in n.message for n in res.notes)
    d = res.dimension("D")
    assert d.executive.dont_know_share == 0.5  # 3 DK of 6 responses
    assert d.executive.n == 0  # 1 of 2 items answered < 2/3
    assert d.executive.n_incomplete == 3
    assert d.gap_pomp is None


def test_item_nobody_answered_and_missing_column():
    inst = instrument(dim("D", [item("A"), item("B"), item("C")]))
    res = score_survey(inst, answers(["A", "B"], [[4, None]] * 4, [[2, None]] * 4), FAST)
    for code in ("B", "C"):
        it = res.item(code)
        assert it.executive.n == 0 and it.cx_professional.n == 0
        assert it.executive.distribution == (0, 0, 0, 0, 0)
        assert it.confidence == "no data" and it.p is None
    note = next(n for n in res.notes if n.code == "items_without_answers")
    assert "B" in note.message and "C" in note.message
    assert res.dimension("D").executive.n == 0  # 1 of 3 answered


def test_dont_know_on_item_without_the_option_is_flagged():
    inst = instrument(dim("D", [item("A", dont_know=False)]))
    res = score_survey(inst, answers(["A"], column([4, "DK"]), column([2, 3])), FAST)
    assert res.item("A").executive.n_dont_know == 1
    assert any(n.code == "dont_know_not_offered" for n in res.notes)


def test_seven_point_item_threshold_is_applied_in_pomp():
    # gap 0.75 points on 7 points = 12.5 POMP: notable (delta = 1)
    res = one_item([6, 6, 6, 6], [5, 5, 5, 6], scale=S7)
    it = res.item("A")
    assert it.gap_points == pytest.approx(0.75)
    assert it.gap_pomp == pytest.approx(12.5)
    assert it.cliffs_delta == pytest.approx(0.75)
    assert it.level == "notable" and it.classification == "blind spot"
    res = one_item([5, 5, 5, 5], [4, 4, 4, 5])  # the same 0.75 points on 5 points = 18.75 POMP
    assert res.item("A").gap_pomp == pytest.approx(18.75)
    res = one_item([5, 5, 5, 5, 5, 5], [4, 4, 4, 5, 5, 5], scale=S7)  # 0.5 of 7 points: 8.3 POMP
    assert res.item("A").level == "none"
    res = one_item([6, 6, 6], [5, 5, 5], scale=S7)  # 1 point = 16.7 POMP, delta 1
    assert res.item("A").level == "notable"
    res = one_item([4, 4, 4], [3, 3, 3])  # 1 point on 5 = 25 POMP: major
    assert res.item("A").level == "major"
    res = one_item([4, 4, 4], [3, 3, 3], settings=dataclasses.replace(FAST, gap_threshold=1.5))
    assert res.item("A").level == "none"


def test_level_needs_both_mean_gap_and_ordinal_effect():
    # gap of 0.6 points but delta only 0.2: not notable
    x = [5, 5, 5, 1, 1]
    y = [3, 3, 3, 2, 2]
    it = one_item(x, y).item("A")
    assert abs(it.gap_pomp) < 12.5 or abs(it.cliffs_delta) < 0.33
    assert it.level == "none"
    assert it.classification in ("shared strength", "shared weakness")


def test_large_groups_use_asymptotic_mann_whitney_and_bootstrap():
    rng = np.random.default_rng(5)
    x = rng.integers(2, 6, size=25)
    y = rng.integers(1, 5, size=30)
    it = one_item(x.tolist(), y.tolist()).item("A")
    assert it.method == "mann_whitney_asymptotic"
    assert it.p == pytest.approx(stats.mannwhitneyu(x, y, method="asymptotic").pvalue)
    assert it.ci_method == "bootstrap_percentile"
    assert it.ci_low < it.gap_points < it.ci_high
    welch = stats.ttest_ind(x, y, equal_var=False).confidence_interval()
    assert it.ci_low == pytest.approx(welch.low, abs=0.15)
    assert it.ci_high == pytest.approx(welch.high, abs=0.15)


def test_benjamini_hochberg_across_items():
    rng = np.random.default_rng(8)
    codes = [f"I{i}" for i in range(6)]
    inst = instrument(dim("D", [item(c) for c in codes]))
    shifts = [2, 1, 0, 0, 1, 0]
    ex = np.column_stack([np.clip(rng.integers(1, 4, 12) + s, 1, 5) for s in shifts])
    cx = rng.integers(1, 4, size=(14, 6))
    res = score_survey(inst, answers(codes, ex.tolist(), cx.tolist()), FAST)
    p = [res.item(c).p for c in codes]
    q = stats.false_discovery_control(p, method="bh")
    for c, qq in zip(codes, q, strict=True):
        it = res.item(c)
        assert it.q == pytest.approx(qq)
        assert it.supported == (qq < 0.05)
        assert it.confidence == ("supported" if qq < 0.05 else "not supported")
    assert any(res.item(c).supported for c in codes)


# --------------------------------------------------------------------------- regimes


def test_single_executive_is_indicative_with_one_sample_interval_and_sign_test():
    inst = instrument(dim("D", [item("A"), item("B"), item("C")]))
    cx = [[2, 3, 2], [3, 3, 4], [1, 2, 2], [2, 2, 3], [3, 4, 3], [2, 1, 2], [4, 3, 3]]
    res = score_survey(inst, answers(["A", "B", "C"], [[5, 4, 5]], cx), FAST)
    ya = np.array([r[0] for r in cx], dtype=float)
    it = res.item("A")
    assert it.method == "sign_test"
    assert it.p == pytest.approx(stats.binomtest(7, 7, 0.5).pvalue)  # every CX answer below 5
    ci = stats.ttest_1samp(ya, 5.0).confidence_interval(0.95)
    assert (it.ci_low, it.ci_high) == pytest.approx((5 - ci.high, 5 - ci.low))
    assert it.ci_method == "one_sample_t"
    assert it.confidence == "indicative" and not it.supported and it.q is None
    assert it.executive.sd is None and it.executive.rwg is None and it.executive.ad is None
    assert it.cliffs_delta == 1.0

    d = res.dimension("D")
    scores = np.array([np.mean([(v - 1) * 25 for v in r]) for r in cx])
    c = np.mean([100.0, 75.0, 100.0])
    assert d.gap_pomp == pytest.approx(c - scores.mean())
    assert d.effect_size_kind == "glass_delta"
    assert d.effect_size == pytest.approx((c - scores.mean()) / scores.std(ddof=1))
    dci = stats.ttest_1samp(scores, c).confidence_interval(0.95)
    assert (d.ci_low_pomp, d.ci_high_pomp) == pytest.approx((c - dci.high, c - dci.low))
    assert d.method == "sign_test" and d.confidence == "indicative"
    assert d.executive.rwg_j is None
    methods = {i.method for i in res.items} | {x.method for x in res.dimensions}
    assert methods <= {"sign_test", None}
    note = next(n for n in res.notes if n.code == "single_respondent")
    assert note.message.startswith(
        "Only one executive answered: results are indicative, no two-sample test was run."
    )


def test_single_cx_professional_mirrors_the_single_executive_case():
    res = one_item([4, 5, 4, 5], [2]).item("A")
    assert res.method == "sign_test" and res.confidence == "indicative"
    x = np.array([4.0, 5, 4, 5])
    ci = stats.ttest_1samp(x, 2.0).confidence_interval()
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low - 2, ci.high - 2))


def test_one_person_each_side():
    it = one_item([5], [2]).item("A")
    assert it.gap_points == 3.0 and it.cliffs_delta == 1.0
    assert it.p is None and it.ci_low is None and it.method is None
    assert it.confidence == "indicative" and it.level == "major"


def test_small_groups_use_exact_permutation_for_dimensions():
    inst = instrument(dim("D", [item("A")]))
    x = [4, 5]
    y = [2, 3, 3, 4]
    res = score_survey(inst, answers(["A"], column(x), column(y)), FAST)
    d = res.dimension("D")
    assert d.method == "permutation"
    xs = (np.array(x) - 1) * 25.0
    ys = (np.array(y) - 1) * 25.0
    ref = stats.permutation_test(
        (xs, ys), lambda a, b, axis: a.mean(axis) - b.mean(axis), vectorized=True
    )
    assert d.p == pytest.approx(ref.pvalue)
    ci = stats.ttest_ind(xs, ys, equal_var=False).confidence_interval()
    assert (d.ci_low_pomp, d.ci_high_pomp) == pytest.approx((ci.low, ci.high))
    assert (d.ci_low, d.ci_high) == pytest.approx((ci.low / 25, ci.high / 25))
    assert d.effect_size is None  # Hedges' g needs 5 per group


def test_large_groups_use_welch_bootstrap_and_hedges_g():
    rng = np.random.default_rng(11)
    codes = ["A", "B", "C"]
    inst = instrument(dim("D", [item(c) for c in codes]))
    ex = rng.integers(2, 6, size=(15, 3))
    cx = rng.integers(1, 5, size=(20, 3))
    res = score_survey(inst, answers(codes, ex.tolist(), cx.tolist()), FAST)
    d = res.dimension("D")
    xs = ((ex - 1) * 25.0).mean(axis=1)
    ys = ((cx - 1) * 25.0).mean(axis=1)
    assert d.executive.mean_pomp == pytest.approx(xs.mean())
    assert d.executive.median_pomp == pytest.approx(np.median(xs))
    assert d.executive.sd_pomp == pytest.approx(xs.std(ddof=1))
    assert d.executive.mean == pytest.approx(1 + xs.mean() / 25)
    assert d.gap_points == pytest.approx(d.gap_pomp / 25)
    assert d.method == "welch_t"
    assert d.p == pytest.approx(stats.ttest_ind(xs, ys, equal_var=False).pvalue)
    assert d.ci_method == "bootstrap_percentile"
    assert d.ci_low_pomp < d.gap_pomp < d.ci_high_pomp
    df = xs.size + ys.size - 2
    sp = math.sqrt(((xs.size - 1) * xs.var(ddof=1) + (ys.size - 1) * ys.var(ddof=1)) / df)
    j = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
    assert d.effect_size_kind == "hedges_g"
    assert d.effect_size == pytest.approx(j * (xs.mean() - ys.mean()) / sp)
    pooled = np.vstack([ex, cx]) * 25.0
    cov = np.cov(pooled, rowvar=False)
    assert d.reliability.method == "cronbach_alpha" and d.reliability.n == 35
    assert d.reliability.value == pytest.approx(3 / 2 * (1 - np.trace(cov) / cov.sum()))
    # r*wg(J) = 1 - mean item variance / sigma_EU^2 (Lindell, Brandt & Whitney 1999)
    assert d.executive.rwg_j == pytest.approx(1 - np.mean(ex.var(axis=0, ddof=1)) / 2)
    assert d.executive.low_consensus == (d.executive.rwg_j < 0.70)
    ad = np.mean(np.abs(ex - ex.mean(axis=0)).mean(axis=0)) * 25
    assert d.executive.ad_pomp == pytest.approx(ad)
    assert d.executive.ad_cutoff_pomp == pytest.approx(5 / 6 * 25)


# --------------------------------------------------------------------------- dimensions


def test_dimension_score_needs_two_thirds_of_items():
    codes = ["A", "B", "C"]
    inst = instrument(dim("D", [item(c) for c in codes]))
    ex = [[5, 5, None], [5, None, None], [3, 3, 3]]
    res = score_survey(inst, answers(codes, ex, [[1, 1, 1]] * 3), FAST)
    d = res.dimension("D").executive
    assert d.n == 2 and d.n_incomplete == 1
    assert d.mean_pomp == pytest.approx((100 + 50) / 2)


def test_mixed_five_and_seven_point_dimension_is_in_pomp():
    inst = instrument(dim("D", [item("A", S5), item("B", S7)]))
    ex = [[5, 7], [4, 4], [5, 6]]
    cx = [[3, 4], [2, 1], [3, 4], [1, 2]]
    res = score_survey(inst, answers(["A", "B"], ex, cx), FAST)
    d = res.dimension("D")
    xs = [np.mean([(a - 1) * 25, (b - 1) * 100 / 6]) for a, b in ex]
    ys = [np.mean([(a - 1) * 25, (b - 1) * 100 / 6]) for a, b in cx]
    assert d.points is None and d.executive.mean is None and d.gap_points is None
    assert d.ci_low is None and d.ci_low_pomp is not None
    assert d.executive.mean_pomp == pytest.approx(np.mean(xs))
    assert d.gap_pomp == pytest.approx(np.mean(xs) - np.mean(ys))
    assert d.reliability.method == "spearman_brown"
    data = np.array([[(a - 1) * 25, (b - 1) * 100 / 6] for a, b in ex + cx])
    r = stats.pearsonr(data[:, 0], data[:, 1]).statistic
    assert d.reliability.value == pytest.approx(2 * r / (1 + r))
    assert d.executive.ad_cutoff_pomp == pytest.approx((5 / 6 * 25 + 7 / 6 * 100 / 6) / 2)
    assert res.item("B").gap_pomp == pytest.approx(res.item("B").gap_points * 100 / 6)


def test_dimension_with_one_item_has_no_reliability():
    res = one_item([4, 5, 4], [2, 3, 2])
    rel = res.dimension("D").reliability
    assert (rel.value, rel.method, rel.n_items) == (None, None, 1)
    assert res.dimension("D").gap_points == pytest.approx(res.item("A").gap_points)


def test_dimension_without_items():
    inst = instrument(dim("E", []), dim("D", [item("A")]))
    res = score_survey(inst, answers(["A"], column([4, 4]), column([2, 3])), FAST)
    e = res.dimension("E")
    assert e.executive.n == 0 and e.gap_pomp is None and e.confidence == "no data"
    assert res.alignment.n_dimensions == 1


def test_zero_variance_gives_none_and_no_warnings():
    codes = ["A", "B", "C"]
    inst = instrument(dim("D", [item(c) for c in codes]), dim("E", [item("F")]))
    cols = [*codes, "F"]
    for n in (3, 12):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = score_survey(inst, answers(cols, [[3, 3, 3, 3]] * n, [[3, 3, 3, 3]] * n), FAST)
            json.dumps(res.to_dict(), allow_nan=False)
        it = res.item("A")
        assert it.gap_points == 0.0 and it.cliffs_delta == 0.0 and it.p == 1.0
        assert it.ci_low is None and it.ci_method is None
        assert it.executive.sd == 0.0 and it.executive.rwg == 1.0 and it.executive.ad == 0.0
        d = res.dimension("D")
        assert d.effect_size is None and d.reliability.value is None
        assert d.ci_low_pomp is None
        assert d.classification == "shared weakness"  # 50 POMP < 62.5
        assert res.alignment.index == 100.0
        assert res.alignment.profile_correlation is None
        assert res.alignment.elevation_share is None
    assert d.p is None and d.confidence == "not testable"  # Welch t undefined at n = 12
    # constant but different groups
    res = score_survey(inst, answers(cols, [[5, 5, 5, 5]] * 12, [[2, 2, 2, 2]] * 12), FAST)
    assert res.item("A").cliffs_delta == 1.0 and res.item("A").p < 1e-4
    assert res.dimension("D").effect_size is None and res.dimension("D").p is None


def test_consensus_flags():
    res = one_item([1, 5, 1, 5, 3], [3, 3, 3, 3, 4])
    ex, cx = res.item("A").executive, res.item("A").cx_professional
    assert not ex.consensus_descriptive_only
    assert ex.rwg == 0.0 and ex.low_consensus is True  # split team, truncated at 0
    assert ex.ad_acceptable is False
    assert cx.low_consensus is False and cx.ad_acceptable is True


# --------------------------------------------------------------------------- alignment, priorities


def alignment_survey(settings=FAST):
    dims = [
        dim("D1", [item("A")], importance=1.0),
        dim("D2", [item("B")], importance=0.5),
        dim("D3", [item("C")], importance=0.25),
    ]
    ex = [[5, 2, 4], [5, 3, 4], [4, 2, 4], [5, 2, 5]]
    cx = [[2, 4, 4], [3, 4, 4], [2, 5, 4], [2, 4, 5], [3, 4, 4]]
    return score_survey(instrument(*dims), answers(["A", "B", "C"], ex, cx), settings)


def test_alignment_index_and_profile():
    res = alignment_survey()
    gaps = np.array([d.gap_pomp for d in res.dimensions])
    weights = np.array([1.0, 0.5, 0.25])
    expected = 100 - np.sum(weights * np.abs(gaps)) / weights.sum()
    al = res.alignment
    assert al.index == pytest.approx(expected)
    assert al.n_dimensions == 3
    ex = np.array([d.executive.mean_pomp for d in res.dimensions])
    cx = np.array([d.cx_professional.mean_pomp for d in res.dimensions])
    assert al.profile_correlation == pytest.approx(stats.pearsonr(ex, cx).statistic)
    sxy = np.mean((ex - ex.mean()) * (cx - cx.mean()))
    assert al.lins_concordance == pytest.approx(
        2 * sxy / (ex.var() + cx.var() + (ex.mean() - cx.mean()) ** 2)
    )
    assert al.distance == pytest.approx(np.sqrt(np.sum((ex - cx) ** 2)))
    assert al.elevation_share + al.scatter_share + al.shape_share == pytest.approx(1)
    assert f"{100 - al.index:.1f}% of the scale apart" in al.reading
    assert "agreement, not health" in al.reading
    assert al.band == "far apart"


def test_priorities_order_and_classification():
    res = alignment_survey()
    d1, d2, d3 = res.dimensions
    assert d1.classification == "blind spot" and d1.level == "major"
    assert d2.classification == "hidden strength"
    assert d3.level == "none"
    assert d3.classification == "shared strength"  # 78 POMP
    assert d1.priority_score == pytest.approx(1.0 * abs(d1.gap_pomp))
    ranks = [p.dimension for p in res.priorities]
    # both gaps are ranked; D3 is a shared strength, not listed
    assert set(ranks) == {"D1", "D2"}
    for p in res.priorities:
        assert res.dimension(p.dimension).priority_rank == p.rank
        assert p.kind == "gap"
    assert d3.priority_rank is None
    tiers = [0 if p.confidence == "supported" else 1 for p in res.priorities]
    assert tiers == sorted(tiers)


def test_shared_weaknesses_are_priorities_even_without_gap():
    dims = [dim("W", [item("A")], importance=0.9), dim("S", [item("B")], importance=0.9)]
    ex = [[2, 5], [2, 4], [3, 5]]
    cx = [[2, 5], [3, 4], [2, 5], [2, 4]]
    res = score_survey(instrument(*dims), answers(["A", "B"], ex, cx), FAST)
    w = res.dimension("W")
    assert w.level == "none" and w.classification == "shared weakness"
    assert w.quadrant == "concentrate here"
    assert res.dimension("S").quadrant == "keep up the good work"
    (entry,) = res.priorities
    assert entry.dimension == "W" and entry.kind == "shared weakness" and entry.rank == 1
    assert "Shared weakness" in entry.summary


def test_supported_gaps_come_first():
    rng = np.random.default_rng(2)
    dims = [dim("SMALL", [item("A")], importance=1.0), dim("BIG", [item("B")], importance=0.3)]
    # SMALL: notable but few people (not supported); BIG: large n, supported
    ex = [[5, 5]] * 3 + [[None, int(v)] for v in rng.integers(4, 6, 30)]
    cx = [[3, 2]] * 3 + [[None, int(v)] for v in rng.integers(1, 4, 30)]
    res = score_survey(instrument(*dims), answers(["A", "B"], ex, cx), FAST)
    assert res.dimension("BIG").supported
    assert not res.dimension("SMALL").supported
    assert res.dimension("SMALL").priority_score > res.dimension("BIG").priority_score
    assert [p.dimension for p in res.priorities] == ["BIG", "SMALL"]


# --------------------------------------------------------------------------- anonymity


def anonymity_survey(exec_rows, settings=None):
    codes = ["A", "B", "C", "F"]
    inst = instrument(dim("D", [item(c) for c in codes[:3]]), dim("E", [item("F")]))
    cx = [[2, 3, 2, 4], [3, 3, 4, 4], [1, 2, 2, 3], [2, 2, 3, 5], [3, 4, 3, 4]]
    settings = settings or ScoringSettings(n_resamples=999, n_bootstrap=499)
    return score_survey(inst, answers(codes, exec_rows, cx), settings)


def test_group_below_threshold_shows_no_statistics_anywhere():
    res = anonymity_survey([[5, 5, 5, 5], [4, 5, 4, 5]])  # 2 executives < 3
    assert res.suppressed("executive") and not res.suppressed("cx_professional")
    g = res.groups.executive
    assert (g.n, g.n_responding, g.threshold, g.visible) == (2, 2, 3, False)
    assert "Only 2 executives answered" in g.reason and "least 3" in g.reason
    assert any(n.code == "group_suppressed" and n.message == g.reason for n in res.notes)
    for it in res.items:
        assert it.executive is None and it.cx_professional is not None
        assert it.gap_points is None and it.p is None and it.cliffs_delta is None
        assert it.confidence == "suppressed" and it.classification is None
    for d in res.dimensions:
        assert d.executive is None and d.gap_pomp is None and d.level_pomp is None
        assert d.confidence == "suppressed"
    assert res.dimension("D").reliability.n == 5  # CX only
    assert res.alignment.index is None and "anonymity" in res.alignment.reading
    assert res.priorities == ()
    out = res.to_dict()
    assert out["groups"]["executive"]["visible"] is False
    assert all(i["executive"] is None for i in out["items"])


def test_suppressed_answers_cannot_influence_the_result():
    """Nothing about the hidden group leaks: any answers of theirs give the same output."""
    rng = np.random.default_rng(0)
    baseline = anonymity_survey([[5, 5, 5, 5], [4, 5, 4, 5]]).to_dict()
    for _ in range(10):
        rows = rng.integers(1, 6, size=(2, 4)).tolist()
        rows = [[rng.choice([v, v, "DK", None]) for v in row] for row in rows]
        rows = [[None if v is None else v if v == "DK" else int(v) for v in r] for r in rows]
        if any(v is not None for v in rows[0]) and any(v is not None for v in rows[1]):
            assert anonymity_survey(rows).to_dict() == baseline


def test_threshold_one_shows_a_single_executive():
    res = anonymity_survey([[5, 5, 5, 5]], ScoringSettings(anonymity_executive=1))
    assert not res.suppressed("executive")
    assert res.item("A").confidence == "indicative"


def test_empty_survey():
    inst = instrument(dim("D", [item("A"), item("B")]))
    res = score_survey(inst, AnswerMatrix.empty(["A", "B"]))
    assert res.suppressed("executive") and res.suppressed("cx_professional")
    assert res.groups.executive.n == 0
    assert "No executives have answered yet" in res.groups.executive.reason
    assert res.alignment.index is None and res.priorities == ()
    assert [n.code for n in res.notes] == ["no_responses"]
    json.dumps(res.to_dict(), allow_nan=False)
    res = score_survey(instrument(), AnswerMatrix.empty())
    assert res.dimensions == () and res.items == ()


def test_respondent_with_only_skips_does_not_count_toward_threshold():
    inst = instrument(dim("D", [item("A")]))
    res = score_survey(inst, answers(["A"], column([4, 5, None]), column([2, "DK", 3])))
    assert res.groups.executive.n == 3 and res.groups.executive.n_responding == 2
    assert res.suppressed("executive")
    assert res.groups.cx_professional.n_responding == 3  # DK counts as responding


# --------------------------------------------------------------------------- result shape


def test_result_is_plain_data_and_json_ready():
    res = alignment_survey()
    for path, leaf in walk(res):
        assert leaf is None or type(leaf) in (bool, int, float, str), (path, type(leaf))
        if isinstance(leaf, float):
            assert math.isfinite(leaf), path
    out = res.to_dict()
    assert list(out) == [
        "method_version",
        "instrument",
        "settings",
        "thresholds",
        "groups",
        "alignment",
        "dimensions",
        "items",
        "priorities",
        "notes",
    ]
    assert list(out["groups"]) == ["executive", "cx_professional"]
    assert out["settings"]["gap_threshold_pomp"] == 12.5
    assert out["thresholds"]["gap_major_pomp"] == 25.0
    json.dumps(out, allow_nan=False)
    for d in res.dimensions:
        assert d.classification in CLASSIFICATIONS and d.confidence in CONFIDENCE_LABELS
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alignment.index = 3  # type: ignore[misc]
    assert isinstance(res, GapResult)


def test_to_dict_turns_nan_into_none():
    from cxalign.scoring.model import _Serialisable

    @dataclasses.dataclass(frozen=True)
    class Probe(_Serialisable):
        a: float
        b: tuple

    assert Probe(float("nan"), (float("inf"), 1.0)).to_dict() == {"a": None, "b": [None, 1.0]}
    assert type(Probe(np.float64(1.0), ()).to_dict()["a"]) is float
    with pytest.raises(TypeError):
        Probe(1.0, (np.int64(1),)).to_dict()


def test_deterministic_and_independent_of_column_and_row_order():
    rng = np.random.default_rng(4)
    codes = ["A", "B", "C", "F"]
    inst = instrument(dim("D", [item(c) for c in codes[:3]]), dim("E", [item("F", S7)]))
    ex = rng.integers(1, 6, size=(12, 4)).tolist()
    cx = rng.integers(1, 6, size=(15, 4)).tolist()
    first = score_survey(inst, answers(codes, ex, cx), FAST).to_dict()
    assert score_survey(inst, answers(codes, ex, cx), FAST).to_dict() == first
    order = [2, 0, 3, 1]
    reordered = answers([codes[i] for i in order], [[r[i] for i in order] for r in ex], cx=[])
    shuffled = AnswerMatrix(
        reordered.item_codes,
        np.concatenate([reordered.groups, np.array(["cx_professional"] * len(cx), dtype=object)]),
        np.vstack([reordered.values, np.array([[r[i] for i in order] for r in cx], dtype=float)]),
        np.zeros((len(ex) + len(cx), 4), dtype=bool),
    )
    assert score_survey(inst, shuffled, FAST).to_dict() == first
    perm = rng.permutation(len(ex) + len(cx))
    base = answers(codes, ex, cx)
    rows = AnswerMatrix(base.item_codes, base.groups[perm], base.values[perm], base.dont_know[perm])
    assert score_survey(inst, rows, FAST).to_dict() == first
    other_seed = dataclasses.replace(FAST, seed=1)
    assert score_survey(inst, answers(codes, ex, cx), other_seed).to_dict() != first


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (AnswerMatrix(("Z",), np.array(["executive"]), np.ones((1, 1)), np.zeros((1, 1), bool)),
         "not items of the instrument"),
        (AnswerMatrix(("A", "A"), np.array(["executive"]), np.ones((1, 2)),
                      np.zeros((1, 2), bool)), "repeat"),
        (AnswerMatrix(("A",), np.array(["board"]), np.ones((1, 1)), np.zeros((1, 1), bool)),
         "unknown group"),
        (AnswerMatrix(("A",), np.array(["executive"]), np.full((1, 1), 6.0),
                      np.zeros((1, 1), bool)), "whole number from 1 to 5"),
        (AnswerMatrix(("A",), np.array(["executive"]), np.full((1, 1), 2.5),
                      np.zeros((1, 1), bool)), "row 1"),
        (AnswerMatrix(("A",), np.array(["executive"]), np.ones((1, 1)), np.ones((1, 1), bool)),
         "both an answer and"),
        (AnswerMatrix(("A",), np.array(["executive"]), np.ones((2, 1)), np.zeros((2, 1), bool)),
         "shape mismatch"),
    ],
)  # fmt: skip
def test_invalid_answers_are_rejected(matrix, message):
    inst = instrument(dim("D", [item("A")]))
    with pytest.raises(ValueError, match=message):
        score_survey(inst, matrix)


def test_from_records_parses_dont_know_and_rejects_text():
    m = AnswerMatrix.from_records(["A", "B"], [("executive", {"A": 3, "B": "dk"})])
    assert m.values[0, 0] == 3 and np.isnan(m.values[0, 1]) and m.dont_know[0, 1]
    with pytest.raises(ValueError, match="not a number"):
        AnswerMatrix.from_records(["A"], [("executive", {"A": "three"})])
    with pytest.raises(ValueError, match="unknown item code"):
        AnswerMatrix.from_records(["A"], [("executive", {"B": 3})])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"anonymity_executive": 0},
        {"anonymity_cx": 1.5},
        {"gap_threshold": 0},
        {"seed": -1},
        {"n_resamples": 10},
        {"n_bootstrap": True},
    ],
)
def test_invalid_settings(kwargs):
    with pytest.raises(ValueError):
        ScoringSettings(**kwargs)


def test_settings_are_stored_as_plain_numbers():
    from decimal import Decimal

    s = ScoringSettings(anonymity_executive=np.int64(2), gap_threshold=Decimal("0.75"))
    assert type(s.anonymity_executive) is int and s.anonymity_executive == 2
    assert type(s.gap_threshold) is float and s.gap_threshold_pomp == pytest.approx(18.75)


def test_builtin_instrument_scores_if_available():
    loader = pytest.importorskip("cxalign.instruments.loader")
    try:
        inst = loader.load_builtin()
    except Exception as exc:  # the loader is being written in parallel
        pytest.skip(f"built-in instrument not loadable yet: {exc}")
    rng = np.random.default_rng(1)
    codes = [it.code for it in inst.items]
    records = []
    for i in range(40):
        group = "executive" if i < 8 else "cx_professional"
        row = {}
        for it in inst.items:
            u = rng.random()
            row[it.code] = (
                "DK" if (u < 0.05 and it.dont_know) else int(rng.integers(1, it.scale.points + 1))
            )
        records.append((group, row))
    res = score_survey(inst, AnswerMatrix.from_records(codes, records), FAST)
    assert len(res.items) == len(codes)
    assert res.alignment.index is not None
    json.dumps(res.to_dict(), allow_nan=False)
