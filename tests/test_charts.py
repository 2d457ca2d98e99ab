"""Tests for the server-side SVG charts (cxalign.reports.charts)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from cxalign.reports.charts import (
    MINUS,
    DumbbellRow,
    GapBar,
    IPPoint,
    TrendSeries,
    distribution_bar,
    distribution_legend,
    diverging_gap_chart,
    dumbbell_chart,
    format_signed,
    importance_performance_chart,
    trend_line_chart,
)
from cxalign.reports.charts.svg import text_width as _text_width
from cxalign.reports.charts.svg import wrap as _wrap

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"
LONG = "Accountability and incentives for customer outcomes"
LIKERT = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{NS}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in (el.get("class") or "").split()]


def polygon_centre(el: ET.Element) -> tuple[float, float]:
    pts = [tuple(map(float, p.split(","))) for p in el.get("points", "").split()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def sample_rows() -> list[DumbbellRow]:
    return [
        DumbbellRow("Leadership customer focus", 78, 60, 18, "blind_spot", "notable"),
        DumbbellRow(LONG, 40, 47, -7, "shared_weakness", "none"),
        DumbbellRow(HOSTILE, 90, 50, 40, "blind_spot", "major"),
        DumbbellRow("Employee engagement", None, 62),
        DumbbellRow("Closing the loop", 30, 70, -40, "hidden_strength", "major"),
    ]


def all_charts() -> dict[str, Markup]:
    return {
        "dumbbell": dumbbell_chart(sample_rows(), title=f"Gaps {HOSTILE}"),
        "diverging": diverging_gap_chart(
            [
                GapBar(HOSTILE, 18, 8, 28, "blind_spot", "notable"),
                GapBar(LONG, -7, -15, 1),
                GapBar("Employee engagement", None),
            ],
            title=f"Gap {HOSTILE}",
            threshold=12.5,
        ),
        "ipa": importance_performance_chart(
            [
                IPPoint("ACC", LONG, 30, 0.9, "blind_spot"),
                IPPoint("X<1>", HOSTILE, 80, 0.2, "hidden_strength"),
                IPPoint("EMP", "Employee engagement", None, 0.5),
            ],
            title=f"IPA {HOSTILE}",
        ),
        "distribution": distribution_bar([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], LIKERT),
        "legend": distribution_legend([*LIKERT, HOSTILE]),
        "trend": trend_line_chart(
            [TrendSeries(HOSTILE, (60.0, None, 75.0, 80.0))],
            ["W1", "W2", HOSTILE, "W4"],
            title=f"Trend {HOSTILE}",
            y_label="Alignment index",
        ),
    }


# --------------------------------------------------------------------------- common contract


@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_is_accessible_well_formed_svg(name: str) -> None:
    svg = all_charts()[name]
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox", ""))
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None
    assert (title.text or "").strip()
    assert desc is not None
    assert (desc.text or "").strip()
    labelled = root.get("aria-labelledby", "").split()
    assert labelled == [title.get("id"), desc.get("id")]
    assert root.get("font-family") in (None, "inherit")


@pytest.mark.parametrize("name", list(all_charts()))
def test_hostile_text_is_escaped_and_nothing_external(name: str) -> None:
    svg = str(all_charts()[name])
    root = parse(svg)
    assert "<script" not in svg.lower()
    assert not [el for el in root.iter() if el.tag.lower().endswith("script")]
    for forbidden in ("href", "url(", "@import", "<image", "<foreignobject", "<style", "on"):
        if forbidden == "on":
            assert not any(a.lower().startswith("on") for el in root.iter() for a in el.attrib)
        else:
            assert forbidden not in svg.lower()
    if name != "distribution":
        assert "&lt;script&gt;" in svg
        # The hostile text survives as text, intact, for whoever reads it.
        everything = " ".join(root.itertext())
        assert "<script>" in everything or "alert(1)" in everything


def test_markup_input_is_still_escaped() -> None:
    svg = str(dumbbell_chart([DumbbellRow(Markup(HOSTILE), 50, 40)], title=Markup("<b>x</b>")))
    assert "<script" not in svg
    assert "<b>" not in svg
    parse(svg)


def test_control_characters_do_not_break_xml() -> None:
    parse(dumbbell_chart([DumbbellRow("bad\x00\x07label\x1b", 50, 40)], title="t\x01"))


def test_ids_are_unique_between_charts_and_output_is_deterministic() -> None:
    a = dumbbell_chart(sample_rows(), title="A")
    b = dumbbell_chart(sample_rows(), title="B")
    assert parse(a).find(f"{NS}title").get("id") != parse(b).find(f"{NS}title").get("id")
    assert a == dumbbell_chart(sample_rows(), title="A")


@pytest.mark.parametrize(
    "svg",
    [
        dumbbell_chart([], title="Dimensions"),
        diverging_gap_chart([], title="Gaps"),
        importance_performance_chart([], title="IPA"),
        importance_performance_chart([IPPoint("A", "a", None, 0.4)], title="IPA"),
        distribution_bar([], [], LIKERT),
        distribution_bar(None, None, LIKERT),
        distribution_bar([1, 2], [2, 1], []),
        distribution_legend([]),
        trend_line_chart([], ["W1"], title="Trend", y_label="AI"),
        trend_line_chart([TrendSeries("AI", (None, None))], ["W1", "W2"], title="T", y_label="y"),
    ],
)
def test_empty_input_gives_no_data_svg(svg: Markup) -> None:
    root = parse(svg)
    assert root.get("role") == "img"
    assert "No data" in texts(root)
    assert "No data" in root.find(f"{NS}desc").text


# --------------------------------------------------------------------------- dumbbell


def test_dumbbell_marker_positions_are_proportional_to_values() -> None:
    values = [0, 25, 50, 80, 100]
    rows = [DumbbellRow(f"D{v}", v, 100 - v) for v in values]
    root = parse(dumbbell_chart(rows, title="t"))
    ex = [float(c.get("cx")) for c in by_class(root, "marker-exec")]
    cx = [polygon_centre(p)[0] for p in by_class(root, "marker-cx")]
    assert len(ex) == len(cx) == len(values)
    x0, x100 = ex[0], ex[-1]
    assert x100 > x0
    for v, x in zip(values, ex, strict=True):
        assert (x - x0) / (x100 - x0) == pytest.approx(v / 100, abs=1e-3)
    for v, x in zip(values, cx, strict=True):
        assert (x - x0) / (x100 - x0) == pytest.approx((100 - v) / 100, abs=1e-3)
    # Markers sit on the same row centre for a row, and rows go down in order.
    ys = [float(c.get("cy")) for c in by_class(root, "marker-exec")]
    assert ys == sorted(ys)
    assert [polygon_centre(p)[1] for p in by_class(root, "marker-cx")] == pytest.approx(ys)


def test_dumbbell_scale_max_and_clamping() -> None:
    root = parse(
        dumbbell_chart([DumbbellRow("a", 7, 0), DumbbellRow("b", 3.5, 9)], title="t", scale_max=7)
    )
    ex = [float(c.get("cx")) for c in by_class(root, "marker-exec")]
    cx = [polygon_centre(p)[0] for p in by_class(root, "marker-cx")]
    # b's executive 3.5 is half-way between 0 and 7; CX 9 is clamped to the axis end.
    assert (ex[1] - cx[0]) / (ex[0] - cx[0]) == pytest.approx(0.5, abs=1e-3)
    assert cx[1] == pytest.approx(ex[0], abs=1e-3)
    assert "7" in texts(root)


def test_dumbbell_gap_text_sign_bold_and_suppressed() -> None:
    root = parse(dumbbell_chart(sample_rows(), title="t"))
    gaps = by_class(root, "gap-value")
    assert ["".join(g.itertext()) for g in gaps] == ["+18", f"{MINUS}7", "+40", f"{MINUS}40"]
    assert [g.get("font-weight") for g in gaps] == [None, None, "bold", "bold"]
    assert "-7" not in " ".join(texts(root))
    suppressed = by_class(root, "suppressed")
    assert len(suppressed) == 1
    assert suppressed[0].text == "suppressed"
    # Four rows with both groups -> four pairs of markers; the suppressed row has none.
    assert len(by_class(root, "marker-exec")) == 4
    desc = root.find(f"{NS}desc").text
    assert "Employee engagement: suppressed" in desc
    assert f"gap {MINUS}7" in desc
    assert "blind spot, major gap" in desc


def test_dumbbell_gap_computed_when_missing_and_nan_is_suppressed() -> None:
    root = parse(
        dumbbell_chart([DumbbellRow("a", 60, 52.4), DumbbellRow("b", math.nan, 5)], title="t")
    )
    assert ["".join(g.itertext()) for g in by_class(root, "gap-value")] == ["+8"]
    assert len(by_class(root, "suppressed")) == 1


def test_dumbbell_gap_lines_coloured_by_classification() -> None:
    rows = [
        DumbbellRow("a", 80, 50, 30, "blind_spot", "major"),
        DumbbellRow("b", 50, 80, -30, "hidden_strength", "major"),
        DumbbellRow("c", 50, 55, -5, "shared_strength", "none"),
    ]
    lines = by_class(parse(dumbbell_chart(rows, title="t")), "gap-line")
    assert [ln.get("stroke") for ln in lines] == ["#c0392b", "#16a085", "#8d96a0"]


def test_dumbbell_long_labels_wrap_to_two_lines_and_height_grows() -> None:
    short = parse(dumbbell_chart([DumbbellRow("a", 1, 2)] * 3, title="t"))
    tall = parse(dumbbell_chart([DumbbellRow(LONG * 3, 1, 2)] * 12, title="t"))
    heights = [float(r.get("viewBox").split()[3]) for r in (short, tall)]
    assert heights[1] > heights[0] * 2
    first_lines = [t for t in texts(tall) if t.startswith("Accountability and")]
    second_lines = [t for t in texts(tall) if t.startswith("customer") and t.endswith("…")]
    assert len(first_lines) == len(second_lines) == 12  # two lines for each of the 12 rows
    # The full label stays available as a tooltip on the truncated label.
    assert " ".join((LONG * 3).split()) in [t.text for t in tall.iter(f"{NS}title")]


def test_legend_shows_both_groups_with_shapes() -> None:
    root = parse(dumbbell_chart(sample_rows(), title="t"))
    legend = by_class(root, "legend")[0]
    labels = ["".join(t.itertext()) for t in legend.iter(f"{NS}text")]
    assert "Executives" in labels
    assert "CX professionals" in labels
    assert legend.find(f"{NS}circle") is not None
    assert legend.find(f"{NS}polygon") is not None
    no_legend = parse(dumbbell_chart(sample_rows(), title="t", show_legend=False))
    assert not by_class(no_legend, "legend")


# --------------------------------------------------------------------------- diverging


def test_diverging_bars_go_both_ways_proportionally() -> None:
    bars = [GapBar("a", 20), GapBar("b", -10), GapBar("c", 0), GapBar("d", None)]
    root = parse(diverging_gap_chart(bars, title="t", threshold=12.5))
    rects = by_class(root, "bar")
    assert len(rects) == 3
    zero = float(by_class(root, "zero-line")[0].get("x1"))
    a, b, c = rects
    assert float(a.get("x")) == pytest.approx(zero)
    assert float(b.get("x")) + float(b.get("width")) == pytest.approx(zero)
    assert float(a.get("width")) == pytest.approx(2 * float(b.get("width")), rel=1e-3)
    assert float(c.get("width")) == 0
    assert a.get("fill") == "#c0392b"
    assert b.get("fill") == "#8d96a0"
    values = ["".join(t.itertext()) for t in by_class(root, "gap-value")]
    assert values == ["+20", f"{MINUS}10", "0"]
    assert len(by_class(root, "suppressed")) == 1
    all_text = " ".join(texts(root))
    assert "Executives rate higher" in all_text
    assert "(blind spot)" in all_text
    assert "Executives rate lower" in all_text
    assert "(hidden strength)" in all_text
    assert f"{MINUS}20" in texts(root)  # axis ticks use the real minus too


def test_diverging_threshold_band_and_whiskers() -> None:
    bars = [GapBar("a", 18, 6, 30, "blind_spot", "major"), GapBar("b", -20, -32, -8)]
    root = parse(diverging_gap_chart(bars, title="t", threshold=10))
    band = by_class(root, "threshold-band")[0]
    zero = float(by_class(root, "zero-line")[0].get("x1"))
    bx, bw = float(band.get("x")), float(band.get("width"))
    assert bx + bw / 2 == pytest.approx(zero, abs=0.02)
    a = by_class(root, "bar")[0]
    # The band spans ±10 and bar a spans 18, so band width / bar width = 20 / 18.
    assert bw / float(a.get("width")) == pytest.approx(20 / 18, rel=1e-3)
    whiskers = by_class(root, "whisker")
    assert len(whiskers) == 2
    w0 = whiskers[0]
    span = float(w0.get("x2")) - float(w0.get("x1"))
    assert span / float(a.get("width")) == pytest.approx(24 / 18, rel=1e-3)
    assert by_class(root, "gap-value")[0].get("font-weight") == "bold"
    no_band = parse(diverging_gap_chart(bars, title="t", threshold=None))
    assert not by_class(no_band, "threshold-band")


# --------------------------------------------------------------------------- importance-performance


def test_ipa_positions_quadrants_and_labels() -> None:
    pts = [
        IPPoint("A", "Alpha", 0, 0.0),
        IPPoint("B", "Beta", 100, 1.0),
        IPPoint("C", "Gamma", 25, 0.9, "blind_spot"),
        IPPoint("D", "Delta", 90, 0.1, "hidden_strength"),
    ]
    root = parse(
        importance_performance_chart(pts, title="t", performance_cut=50, importance_cut=0.5)
    )
    markers = by_class(root, "point")
    centre = {}
    for m in markers:
        if m.tag == f"{NS}circle":
            centre[m.get("data-code")] = (float(m.get("cx")), float(m.get("cy")))
        else:
            centre[m.get("data-code")] = polygon_centre(m)
    (ax, ay), (bx, by) = centre["A"], centre["B"]
    cx_ = centre["C"][0]
    assert (cx_ - ax) / (bx - ax) == pytest.approx(0.25, abs=1e-3)
    # Importance grows upwards (SVG y goes down); triangles are drawn about their box.
    assert by < ay
    cuts = by_class(root, "cut-line")
    assert float(cuts[0].get("x1")) == pytest.approx((ax + bx) / 2)
    all_text = texts(root)
    for q in ("Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"):
        assert q in all_text
    assert sorted(t.text for t in by_class(root, "point-label")) == ["A", "B", "C", "D"]
    desc = root.find(f"{NS}desc").text
    assert "Concentrate here: Gamma." in desc
    assert "Possible overkill: Delta." in desc


def test_ipa_labels_do_not_overlap_when_points_crowd() -> None:
    pts = [IPPoint(f"P{i}", f"Point {i}", 50 + i * 0.5, 0.5 + i * 0.005) for i in range(5)]
    root = parse(importance_performance_chart(pts, title="t"))
    boxes = []
    for t in by_class(root, "point-label"):
        x, y, w = float(t.get("x")), float(t.get("y")), _text_width(t.text, 11, bold=True)
        anchor = t.get("text-anchor", "start")
        x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        boxes.append((x0, y - 9, x0 + w, y + 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_w = min(a[2], b[2]) - max(a[0], b[0])
            overlap_h = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_w <= 0 or overlap_h <= 0, (a, b)


def test_ipa_missing_points_are_listed_not_drawn() -> None:
    pts = [IPPoint("A", "Alpha", 40, 0.5), IPPoint("B", "Beta", None, 0.5)]
    root = parse(importance_performance_chart(pts, title="t"))
    assert len(by_class(root, "point")) == 1
    assert "Beta (not shown)" in texts(root)
    root = parse(importance_performance_chart(pts, title="t", show_key=False))
    assert any("Not shown (suppressed): Beta" in t for t in texts(root))


# --------------------------------------------------------------------------- distribution


def test_distribution_bar_segments_are_proportional() -> None:
    root = parse(distribution_bar([2, 0, 2, 4, 0], [1, 1, 1, 1, 0], LIKERT))
    segs = by_class(root, "segment")
    exec_segs, cx_segs = segs[:3], segs[3:]
    widths = [float(s.get("width")) for s in exec_segs]
    assert widths[0] * 2 == pytest.approx(widths[2], rel=1e-3)
    assert widths[0] == pytest.approx(widths[1], rel=1e-3)
    assert sum(widths) == pytest.approx(sum(float(s.get("width")) for s in cx_segs), rel=1e-6)
    assert [s.get("data-count") for s in segs] == ["2", "2", "4", "1", "1", "1", "1"]
    all_text = texts(root)
    assert "n=8" in all_text
    assert "n=4" in all_text
    assert "Executives (n=8): Strongly disagree 25%" in root.find(f"{NS}desc").text


def test_distribution_bar_suppressed_group() -> None:
    root = parse(distribution_bar(None, [1, 2, 3, 4, 5], LIKERT))
    assert [t.text for t in by_class(root, "suppressed")] == ["suppressed"]
    assert "Executives: suppressed." in root.find(f"{NS}desc").text


# --------------------------------------------------------------------------- trend


def test_trend_line_breaks_at_missing_waves_and_scales() -> None:
    series = [
        TrendSeries("Executives", (0.0, 50.0, None, 100.0, 80.0), "executive"),
        TrendSeries("CX", (10.0, 20.0, 30.0, 40.0, 50.0), "cx_professional"),
    ]
    root = parse(trend_line_chart(series, ["1", "2", "3", "4", "5"], title="t", y_label="AI"))
    lines = root.findall(f".//{NS}polyline")
    assert len(lines) == 3  # executives split in two by the gap, CX in one piece
    ex = [c for c in root.iter(f"{NS}circle") if c.get("data-value") is not None]
    ys = {float(c.get("data-value")): float(c.get("cy")) for c in ex}
    assert (ys[0] - ys[50]) == pytest.approx(ys[50] - ys[100])
    assert "3 no data" in root.find(f"{NS}desc").text


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [(18, "+18"), (-7, f"{MINUS}7"), (0, "0"), (-0.4, "0"), (0.6, "+1"), (-2.25, f"{MINUS}2")],
)
def test_format_signed(value: float, expected: str) -> None:
    assert format_signed(value) == expected


def test_format_signed_decimals() -> None:
    assert format_signed(-0.46, 1) == f"{MINUS}0.5"
    assert format_signed(0.04, 1) == "0.0"


def test_wrap_never_exceeds_two_lines_or_width() -> None:
    lines = _wrap(LONG + " " + LONG, 214, 12)
    assert len(lines) == 2
    assert lines[1].endswith("…")
    assert all(_text_width(line, 12) <= 214 for line in lines)
    assert _wrap("Supercalifragilisticexpialidocious" * 3, 100, 12)[0].endswith("…")
    assert _wrap("", 100, 12) == [""]


def test_weasyprint_renders_the_charts() -> None:
    import weasyprint

    body = "".join(f"<div>{svg}</div>" for svg in all_charts().values())
    pdf = weasyprint.HTML(string=f"<html><body>{body}</body></html>").write_pdf()
    assert pdf.startswith(b"%PDF")
