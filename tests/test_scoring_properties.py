"""Property tests of score_survey (hypothesis): symmetries the definitions promise."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxalign.instruments.spec import DimensionSpec, InstrumentSpec, ItemSpec, Scale
from cxalign.scoring import AnswerMatrix, ScoringSettings, score_survey

S5 = Scale("agree5", "agreement", ("SD", "D", "N", "A", "SA"))
S7 = Scale("agree7", "agreement", ("SD", "D", "SWD", "N", "SWA", "A", "SA"))

ITEMS = (
    ItemSpec("A", "e", "c", S5, reverse=False, dont_know=True),
    ItemSpec("B", "e", "c", S5, reverse=True, dont_know=True),
    ItemSpec("C", "e", "c", S7, reverse=False, dont_know=True),
    ItemSpec("D", "e", "c", S5, reverse=False, dont_know=True),
    ItemSpec("E", "e", "c", S7, reverse=True, dont_know=True),
)
INSTRUMENT = InstrumentSpec(
    "prop",
    1,
    "Property instrument",
    "",
    (
        DimensionSpec("MIX", "Mixed", "", 0.8, ITEMS[:3]),
        DimensionSpec("PAIR", "Pair", "", 0.5, ITEMS[3:]),
    ),
)
CODES = tuple(it.code for it in ITEMS)
POINTS = np.array([it.scale.points for it in ITEMS])
FAST = ScoringSettings(anonymity_executive=1, anonymity_cx=1, n_resamples=199, n_bootstrap=199)
PROPS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FLIP = {
    "blind spot": "hidden strength",
    "hidden strength": "blind spot",
    "shared strength": "shared strength",
    "shared weakness": "shared weakness",
    None: None,
}


@st.composite
def surveys(draw, min_exec=0, max_exec=12, min_cx=0, max_cx=14):
    """Raw answers: a float matrix (NaN = skipped) and a DK mask, plus groups."""
    # small groups (single person, exact tests) and large ones (asymptotic tests, bootstrap)
    n_exec = draw(st.one_of(st.integers(min_exec, 4), st.integers(9, max_exec)))
    n_cx = draw(st.one_of(st.integers(min_cx, 4), st.integers(9, max_cx)))
    n = n_exec + n_cx
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # answers concentrated on a random part of each scale, so gaps of every size occur
    lo = rng.integers(1, POINTS + 1, size=(2, len(CODES)))
    values = np.empty((n, len(CODES)))
    for j, points in enumerate(POINTS):
        for g, rows in ((0, slice(0, n_exec)), (1, slice(n_exec, n))):
            size = rows.stop - rows.start
            values[rows, j] = rng.integers(lo[g, j], points + 1, size=size)
    u = rng.random(values.shape)
    dk = u < draw(st.sampled_from([0.0, 0.1, 0.3]))
    skipped = (~dk) & (rng.random(values.shape) < draw(st.sampled_from([0.0, 0.1])))
    values[dk | skipped] = np.nan
    groups = np.array(["executive"] * n_exec + ["cx_professional"] * n_cx, dtype=object)
    return AnswerMatrix(CODES, groups, values, dk)


def approx_or_none(a, b, sign=1.0):
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(sign * b, rel=1e-9, abs=1e-9)


@PROPS
@given(surveys())
def test_swapping_groups_negates_every_gap(answers):
    swapped_groups = np.where(answers.groups == "executive", "cx_professional", "executive")
    swapped = dataclasses.replace(answers, groups=swapped_groups.astype(object))
    a = score_survey(INSTRUMENT, answers, FAST)
    b = score_survey(INSTRUMENT, swapped, FAST)
    for x, y in [
        *zip(a.items, b.items, strict=True),
        *zip(a.dimensions, b.dimensions, strict=True),
    ]:
        assert approx_or_none(x.gap_pomp, y.gap_pomp, -1)
        assert approx_or_none(x.gap_points, y.gap_points, -1)
        assert approx_or_none(x.cliffs_delta, y.cliffs_delta, -1)
        assert approx_or_none(x.ci_low_pomp, y.ci_high_pomp, -1)
        assert approx_or_none(x.ci_high_pomp, y.ci_low_pomp, -1)
        assert approx_or_none(x.p, y.p)
        assert approx_or_none(x.q, y.q)
        assert x.level == y.level and x.confidence == y.confidence
        assert x.classification == FLIP[y.classification]
        assert x.executive == y.cx_professional and x.cx_professional == y.executive
    for x, y in zip(a.dimensions, b.dimensions, strict=True):
        assert approx_or_none(x.effect_size, y.effect_size, -1)
        assert x.reliability == y.reliability
    assert approx_or_none(a.alignment.index, b.alignment.index)
    assert approx_or_none(a.alignment.lins_concordance, b.alignment.lins_concordance)
    assert [p.dimension for p in a.priorities] == [p.dimension for p in b.priorities]


@PROPS
@given(surveys(), st.sampled_from(CODES))
def test_reverse_coding_an_item_and_flipping_its_answers_changes_nothing(answers, code):
    j = CODES.index(code)
    spec = ITEMS[j]
    flipped_item = dataclasses.replace(spec, reverse=not spec.reverse)
    dims = tuple(
        dataclasses.replace(d, items=tuple(flipped_item if i is spec else i for i in d.items))
        for d in INSTRUMENT.dimensions
    )
    instrument = dataclasses.replace(INSTRUMENT, dimensions=dims)
    values = answers.values.copy()
    values[:, j] = 1 + spec.scale.points - values[:, j]  # x -> min + max - x; NaN stays NaN
    a = score_survey(INSTRUMENT, answers, FAST).to_dict()
    b = score_survey(instrument, dataclasses.replace(answers, values=values), FAST).to_dict()
    b["items"][j]["reverse"] = a["items"][j]["reverse"]
    assert a == b


@PROPS
@given(surveys(min_exec=1, min_cx=1))
def test_adding_dont_know_answers_changes_no_mean(answers):
    a = score_survey(INSTRUMENT, answers, FAST)
    # every skipped answer becomes "Don't know", and two respondents answer only "Don't know"
    dk = answers.dont_know | np.isnan(answers.values)
    extra = 2
    more = AnswerMatrix(
        CODES,
        np.concatenate([answers.groups, np.array(["executive", "cx_professional"], dtype=object)]),
        np.vstack([answers.values, np.full((extra, len(CODES)), np.nan)]),
        np.vstack([dk, np.ones((extra, len(CODES)), dtype=bool)]),
    )
    b = score_survey(INSTRUMENT, more, FAST)
    for x, y in zip(a.items, b.items, strict=True):
        for g in ("executive", "cx_professional"):
            sx, sy = x.group(g), y.group(g)
            assert (sx.n, sx.mean, sx.sd, sx.median) == (sy.n, sy.mean, sy.sd, sy.median)
            assert sy.n_dont_know >= sx.n_dont_know
        assert (x.gap_points, x.cliffs_delta, x.p) == (y.gap_points, y.cliffs_delta, y.p)
    for x, y in zip(a.dimensions, b.dimensions, strict=True):
        for g in ("executive", "cx_professional"):
            assert x.group(g).mean_pomp == y.group(g).mean_pomp
            assert x.group(g).n == y.group(g).n
        assert x.gap_pomp == y.gap_pomp


@PROPS
@given(surveys())
def test_deterministic(answers):
    first = score_survey(INSTRUMENT, answers, FAST).to_dict()
    assert score_survey(INSTRUMENT, answers, FAST).to_dict() == first


@PROPS
@given(surveys(), st.integers(1, 4), st.integers(1, 4))
def test_invariants_hold_for_any_survey(answers, t_exec, t_cx):
    cfg = dataclasses.replace(FAST, anonymity_executive=t_exec, anonymity_cx=t_cx)
    res = score_survey(INSTRUMENT, answers, cfg)
    for g in ("executive", "cx_professional"):
        summary = res.groups[g]
        assert summary.visible == (summary.n_responding >= summary.threshold)
        if not summary.visible:
            assert all(x.group(g) is None for x in (*res.items, *res.dimensions))
            assert res.alignment.index is None
    for x in (*res.items, *res.dimensions):
        if x.cliffs_delta is not None:
            assert -1 <= x.cliffs_delta <= 1
        if x.p is not None:
            assert 0 <= x.p <= 1
        if x.q is not None:
            assert x.p <= x.q + 1e-12
        if x.ci_low_pomp is not None:
            assert x.ci_low_pomp <= x.ci_high_pomp
        assert x.supported == (x.confidence == "supported")
    if res.alignment.index is not None:
        assert 0 <= res.alignment.index <= 100
    ranks = [p.rank for p in res.priorities]
    assert ranks == list(range(1, len(ranks) + 1))
