"""Importance-performance map (Martilla & James 1977) of the dimensions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from cxalign.reports.charts import palette, svg


@dataclass(frozen=True, slots=True)
class IPPoint:
    """One dimension in :func:`importance_performance_chart`.

    ``code`` is the short on-chart label (e.g. ``"ACC"``), ``label`` the full
    name (used in the key, the tooltip and the text summary). ``performance``
    is the CX-professional score (POMP 0-100), ``importance`` is 0-1. Either
    ``None`` leaves the point off the chart (listed as not shown).
    """

    code: str
    label: str
    performance: float | None
    importance: float | None
    classification: str | None = None


_QUADRANTS = {
    "concentrate": "Concentrate here",
    "keep": "Keep up the good work",
    "low": "Low priority",
    "overkill": "Possible overkill",
}
_CLASS_SHAPES = {
    "blind_spot": "triangle_up",
    "hidden_strength": "triangle_down",
}


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def importance_performance_chart(
    points: Sequence[IPPoint],
    *,
    title: str,
    performance_cut: float = 50.0,
    importance_cut: float = 0.5,
    scale_max: float = 100,
    show_legend: bool = True,
    show_key: bool = True,
) -> Markup:
    """Importance-performance map (Martilla & James 1977).

    x = performance as rated by CX professionals (0..``scale_max``), y =
    importance (0-1); dashed quadrant lines at the cut values. Points are
    labelled with their short code (nudged to avoid overlaps); a key below
    maps codes to names.
    """
    points = list(points)
    title = svg.clean(title)
    shown = [
        p
        for p in points
        if svg.num(p.performance) is not None and svg.num(p.importance) is not None
    ]
    hidden = [p for p in points if p not in shown]
    if not shown:
        return svg.no_data("ipa", title)
    scale_max = float(scale_max) if scale_max and scale_max > 0 else 100.0
    pcut = svg.clamp(svg.num(performance_cut) or 0.0, 0, scale_max)
    icut = svg.clamp(svg.num(importance_cut) or 0.0, 0, 1)

    parts = [svg.text(svg.PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    classes = {p.classification for p in shown}
    if show_legend and classes - {None}:
        items: list[tuple[str, str, str]] = []
        if "blind_spot" in classes:
            items.append(
                ("triangle_up", palette.BLIND_SPOT_COLOR, "Blind spot (executives higher)")
            )
        if "hidden_strength" in classes:
            items.append(
                (
                    "triangle_down",
                    palette.HIDDEN_STRENGTH_COLOR,
                    "Hidden strength (executives lower)",
                )
            )
        if classes & {"shared_strength", "shared_weakness"}:
            items.append(("circle", palette.SHARED_COLOR, "Shared view"))
        if classes - set(palette.CLASSIFICATION_LABELS):
            items.append(("circle", palette.UNCLASSIFIED_COLOR, "Not classified"))
        legend, legend_h = svg.legend(items, svg.PAD, y, svg.WIDTH - 2 * svg.PAD)
        parts.append(legend)
        y += legend_h + 6

    left, right = 76.0, svg.WIDTH - 24.0
    top = y + 6
    plot_h = 330.0
    bottom = top + plot_h

    def sx(v: float) -> float:
        return left + (right - left) * svg.clamp(v, 0, scale_max) / scale_max

    def sy(v: float) -> float:
        return bottom - plot_h * svg.clamp(v, 0, 1)

    cut_x, cut_y = sx(pcut), sy(icut)
    parts.append(svg.rect(left, top, right - left, plot_h, "#ffffff", stroke=svg.GRID_COLOR))
    parts.append(
        svg.rect(left, top, cut_x - left, cut_y - top, palette.FOCUS_TINT, cls="focus-quadrant")
    )
    for k in range(5):
        gx = sx(scale_max * k / 4)
        gy = sy(k / 4)
        if 0 < k < 4:
            parts.append(svg.line(gx, top, gx, bottom, svg.GUIDE_COLOR, 1, cls="gridline"))
            parts.append(svg.line(left, gy, right, gy, svg.GUIDE_COLOR, 1, cls="gridline"))
        parts.append(
            svg.text(
                gx,
                bottom + 16,
                svg.fmt_tick(scale_max * k / 4),
                size=11,
                anchor="middle",
                fill=svg.MUTED_COLOR,
            )
        )
        parts.append(
            svg.text(left - 8, gy + 4, f"{k / 4:.2f}", size=11, anchor="end", fill=svg.MUTED_COLOR)
        )
    parts.append(svg.rect(left, top, right - left, plot_h, "none", stroke="#c9d0d7"))
    parts.append(svg.line(cut_x, top, cut_x, bottom, "#7b8591", 1.25, dash="5 4", cls="cut-line"))
    parts.append(svg.line(left, cut_y, right, cut_y, "#7b8591", 1.25, dash="5 4", cls="cut-line"))

    # Quadrant labels in the plot corners.
    qsize = 11
    qboxes = []
    for key, qx, qy, anchor in (
        ("concentrate", left + 10, top + 18, "start"),
        ("keep", right - 10, top + 18, "end"),
        ("low", left + 10, bottom - 10, "start"),
        ("overkill", right - 10, bottom - 10, "end"),
    ):
        text = _QUADRANTS[key]
        w = svg.text_width(text, qsize, bold=True)
        bx = qx if anchor == "start" else qx - w
        qboxes.append((bx - 2, qy - 11, bx + w + 2, qy + 3))
        colour = palette.BLIND_SPOT_TEXT if key == "concentrate" else svg.MUTED_COLOR
        parts.append(
            svg.text(
                qx,
                qy,
                text,
                size=qsize,
                anchor=anchor,
                bold=True,
                fill=colour,
                cls="quadrant-label",
            )
        )

    # Markers, then labels placed greedily around them.
    coords = []
    for p in shown:
        px, py = sx(svg.num(p.performance) or 0.0), sy(svg.num(p.importance) or 0.0)
        coords.append((p, px, py))
    marker_boxes = [(px - 8, py - 8, px + 8, py + 8) for _, px, py in coords]
    cut_boxes = [(cut_x - 1, top, cut_x + 1, bottom), (left, cut_y - 1, right, cut_y + 1)]
    placed: list[tuple[float, float, float, float]] = []
    label_parts = []
    lsize = 11
    for p, px, py in sorted(coords, key=lambda c: (c[2], c[1])):
        code = svg.fit(svg.clean(p.code), 80, lsize, bold=True)
        w = svg.text_width(code, lsize, bold=True)
        candidates = [
            (px + 10, py + 4, "start"),
            (px - 10, py + 4, "end"),
            (px, py - 11, "middle"),
            (px, py + 19, "middle"),
            (px + 8, py - 8, "start"),
            (px + 8, py + 16, "start"),
            (px - 8, py - 8, "end"),
            (px - 8, py + 16, "end"),
            (px + 22, py + 4, "start"),
            (px - 22, py + 4, "end"),
            (px, py - 24, "middle"),
            (px, py + 32, "middle"),
            (px - 8, py + 30, "end"),
            (px + 8, py + 30, "start"),
            (px - 8, py - 22, "end"),
            (px + 8, py - 22, "start"),
        ]
        best = None
        best_cost = math.inf
        for tx, ty, anchor in candidates:
            bx0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
            box = (bx0 - 1, ty - 9, bx0 + w + 1, ty + 2)
            cost = sum(_overlap(box, b) for b in placed) * 3
            cost += sum(_overlap(box, b) for b in marker_boxes) * 2
            cost += sum(_overlap(box, b) for b in qboxes) * 3
            cost += sum(_overlap(box, b) for b in cut_boxes) * 0.5
            if box[0] < left or box[2] > right or box[1] < top or box[3] > bottom:
                cost += 500
            if cost < best_cost:
                best, best_cost = (tx, ty, anchor, box), cost
            if cost == 0:
                break
        assert best is not None
        tx, ty, anchor, box = best
        placed.append(box)
        label_parts.append(
            svg.text(tx, ty, code, size=lsize, anchor=anchor, bold=True, cls="point-label")
        )
    for p, px, py in coords:
        shape = _CLASS_SHAPES.get(p.classification or "", "circle")
        colour = palette.CLASS_COLORS.get(p.classification or "", palette.UNCLASSIFIED_COLOR)
        tip = (
            f"{svg.clean(p.label)}: performance {svg.fmt(svg.num(p.performance) or 0.0)}, "
            f"importance {(svg.num(p.importance) or 0.0):.2f}"
        )
        parts.append(
            f"<g><title>{svg.esc(tip)}</title>"
            + svg.marker(
                shape,
                px,
                py,
                colour,
                size=6,
                cls="marker point",
                extra=f'data-code="{svg.esc(svg.clean(p.code))}"',
            )
            + "</g>"
        )
    parts.extend(label_parts)

    # Axis titles.
    parts.append(
        svg.text(
            (left + right) / 2,
            bottom + 36,
            f"Performance as rated by CX professionals (0{svg.EN_DASH}{svg.fmt_tick(scale_max)})",
            size=12,
            anchor="middle",
            fill=svg.TEXT_COLOR,
        )
    )
    ymid = (top + bottom) / 2
    parts.append(svg.vertical_text(svg.PAD + 6, ymid, f"Importance (0{svg.EN_DASH}1)"))
    y = bottom + 46

    if show_key:
        col_w = (svg.WIDTH - 2 * svg.PAD) / 2
        keyed = sorted(points, key=lambda p: svg.clean(p.code))
        per_col = math.ceil(len(keyed) / 2)
        code_w = max(svg.text_width(svg.clean(p.code), 11, bold=True) for p in keyed) + 12
        code_w = min(code_w, 96)
        col_bottoms = []
        for col in range(2):
            ky = y + 20
            for p in keyed[col * per_col : (col + 1) * per_col]:
                kx = svg.PAD + col * col_w
                parts.append(
                    svg.text(
                        kx,
                        ky,
                        svg.fit(svg.clean(p.code), code_w - 10, 11, bold=True),
                        size=11,
                        bold=True,
                    )
                )
                name = svg.clean(p.label) + ("" if p in shown else " (not shown)")
                lines = svg.wrap(name, col_w - code_w - 16, 11)
                for j, line in enumerate(lines):
                    parts.append(
                        svg.text(
                            kx + code_w,
                            ky + j * 14,
                            line,
                            size=11,
                            fill=svg.TEXT_COLOR if p in shown else svg.MUTED_COLOR,
                        )
                    )
                ky += 14 * len(lines) + 4
            col_bottoms.append(ky)
        y = max(col_bottoms) - 8
    elif hidden:
        note = "Not shown (suppressed): " + ", ".join(svg.clean(p.label) for p in hidden)
        parts.append(
            svg.text(
                svg.PAD,
                y + 12,
                svg.fit(note, svg.WIDTH - 2 * svg.PAD, 11),
                size=11,
                italic=True,
                fill=svg.MUTED_COLOR,
            )
        )
        y += 20
    height = y + 6

    def quadrant(p: IPPoint) -> str:
        high_imp = (svg.num(p.importance) or 0.0) >= icut
        high_perf = (svg.num(p.performance) or 0.0) >= pcut
        if high_imp:
            return "keep" if high_perf else "concentrate"
        return "overkill" if high_perf else "low"

    summary = []
    for key, name in _QUADRANTS.items():
        members = [svg.clean(p.label) for p in shown if quadrant(p) == key]
        if members:
            summary.append(f"{name}: {', '.join(members)}.")
    if hidden:
        summary.append("Not shown: " + ", ".join(svg.clean(p.label) for p in hidden) + ".")
    desc = (
        f"Importance-performance chart of {len(shown)} dimension"
        f"{'s' if len(shown) != 1 else ''}: performance as rated by CX professionals "
        f"(0 to {svg.fmt_tick(scale_max)}) against importance (0 to 1), quadrants split at "
        f"performance {svg.fmt_tick(pcut)} and importance {icut:.2f}. " + " ".join(summary)
    )
    return svg.chart("ipa", svg.WIDTH, height, title, desc, "".join(parts))
