"""Diverging gap chart: executives minus CX professionals per dimension, from zero."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from cxalign.reports.charts import palette, svg


@dataclass(frozen=True, slots=True)
class GapBar:
    """One bar in :func:`diverging_gap_chart`: gap = executive - CX (POMP).

    ``ci_low``/``ci_high`` draw an optional confidence-interval whisker;
    ``gap=None`` means suppressed.
    """

    label: str
    gap: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    classification: str | None = None
    level: str | None = None


def diverging_gap_chart(
    rows: Sequence[GapBar],
    *,
    title: str,
    threshold: float | None = 12.5,
    show_legend: bool = True,
    ci_label: str = "95% confidence interval",
) -> Markup:
    """Horizontal bars from zero: gap = executives - CX professionals (POMP).

    Positive gaps (executives rate higher: blind spots) go right, negative
    (hidden strengths) go left, in the order given. An optional CI whisker per
    bar, and a shaded band for |gap| < ``threshold`` (no notable gap).
    """
    rows = list(rows)
    title = svg.clean(title)
    if not rows:
        return svg.no_data("diverging", title)
    thr = svg.num(threshold)
    thr = abs(thr) if thr else None

    label_x, label_w = svg.PAD, 214
    px0, px1 = 250.0, svg.WIDTH - svg.PAD
    margin = 38.0  # room for value labels at the ends of the longest bars
    xa, xb = px0 + margin, px1 - margin

    # A POMP gap lies within ±100; longer whiskers are cut at the axis end. Every
    # nice step divides 100, so the ticks always land on the axis ends.
    extent = max(
        [
            min(abs(v), 100.0)
            for r in rows
            for v in (svg.num(r.gap), svg.num(r.ci_low), svg.num(r.ci_high))
            if v is not None
        ]
        + [min(thr or 0, 80.0) * 1.25, 10.0]
    )
    step = svg.nice_step(extent, 3)
    limit = min(math.ceil(extent / step - 1e-9) * step, 100.0)

    def sx(value: float) -> float:
        return xa + (xb - xa) * (svg.clamp(value, -limit, limit) + limit) / (2 * limit)

    zero = sx(0)
    prepared = [(r, svg.clean(r.label), svg.wrap(svg.clean(r.label), label_w, 12)) for r in rows]
    row_h = 36.0 if any(len(p[2]) > 1 for p in prepared) else 28.0
    has_ci = any(svg.num(r.ci_low) is not None and svg.num(r.ci_high) is not None for r in rows)

    parts = [svg.text(svg.PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend:
        items: list[tuple[str, str, str]] = []
        if thr:
            items.append(
                ("band", palette.BAND_COLOR, f"Within \u00b1{svg.fmt_tick(thr)}: no notable gap")
            )
        if has_ci:
            items.append(("whisker", svg.TEXT_COLOR, ci_label))
        if any(r.level == "major" for r in rows if svg.num(r.gap) is not None):
            items.append(("bold", svg.TEXT_COLOR, "Major gap"))
        if items:
            legend, legend_h = svg.legend(items, svg.PAD, y, svg.WIDTH - 2 * svg.PAD)
            parts.append(legend)
            y += legend_h + 4

    # Direction headers, two lines each, either side of zero.
    hy = y + 14
    parts.append(
        svg.text(
            zero - 10,
            hy,
            "\u2190 Executives rate lower",
            size=11,
            anchor="end",
            bold=True,
            fill=palette.HIDDEN_STRENGTH_TEXT,
        )
    )
    parts.append(
        svg.text(
            zero - 10,
            hy + 14,
            "(hidden strength)",
            size=11,
            anchor="end",
            fill=palette.HIDDEN_STRENGTH_TEXT,
        )
    )
    parts.append(
        svg.text(
            zero + 10,
            hy,
            "Executives rate higher \u2192",
            size=11,
            bold=True,
            fill=palette.BLIND_SPOT_TEXT,
        )
    )
    parts.append(
        svg.text(zero + 10, hy + 14, "(blind spot)", size=11, fill=palette.BLIND_SPOT_TEXT)
    )
    top = hy + 26
    bottom = top + row_h * len(rows)

    if thr:
        parts.append(
            svg.rect(
                sx(-thr),
                top,
                sx(thr) - sx(-thr),
                bottom - top,
                palette.BAND_COLOR,
                cls="threshold-band",
            )
        )
    ticks = []
    t = -limit
    while t <= limit + 1e-9:
        ticks.append(round(t, 6))
        t += step
    for t in ticks:
        if abs(t) > 1e-9:
            parts.append(svg.line(sx(t), top, sx(t), bottom, svg.GRID_COLOR, 1, cls="gridline"))

    desc_rows = []
    bar_h = 14.0
    for i, (row, label, lines) in enumerate(prepared):
        cy = top + row_h * i + row_h / 2
        parts.append('<g class="row">')
        parts.append(svg.label_lines(lines, label_x, cy, full=label))
        gap = svg.num(row.gap)
        if gap is None:
            parts.append(svg.suppressed(zero + 10, cy + 4))
            desc_rows.append(f"{label}: suppressed (too few respondents in a group).")
            parts.append("</g>")
            continue
        if row.classification:
            colour = palette.classification_colour(row.classification)
            text_colour = palette.classification_text_colour(row.classification)
        elif thr is None or abs(gap) >= thr:
            colour = palette.BLIND_SPOT_COLOR if gap > 0 else palette.HIDDEN_STRENGTH_COLOR
            text_colour = palette.BLIND_SPOT_TEXT if gap > 0 else palette.HIDDEN_STRENGTH_TEXT
        else:
            colour, text_colour = palette.SHARED_COLOR, svg.TEXT_COLOR
        bx = sx(gap)
        parts.append(
            svg.rect(
                min(zero, bx),
                cy - bar_h / 2,
                abs(bx - zero),
                bar_h,
                colour,
                cls="bar",
                extra=f'data-value="{svg.compact(gap)}"',
            )
        )
        lo, hi = svg.num(row.ci_low), svg.num(row.ci_high)
        ends = [bx]
        ci_text = ""
        if lo is not None and hi is not None:
            lo, hi = min(lo, hi), max(lo, hi)
            wl, wh = sx(lo), sx(hi)
            parts.append(svg.line(wl, cy, wh, cy, svg.TEXT_COLOR, 1.25, cls="whisker"))
            parts.append(svg.line(wl, cy - 5, wl, cy + 5, svg.TEXT_COLOR, 1.25))
            parts.append(svg.line(wh, cy - 5, wh, cy + 5, svg.TEXT_COLOR, 1.25))
            ends += [wl, wh]
            ci_text = f", {ci_label} {svg.fmt(lo)} to {svg.fmt(hi)}"
        text = svg.format_signed(gap)
        major = row.level == "major"
        if gap >= 0:
            parts.append(
                svg.text(
                    max(ends) + 5,
                    cy + 4.3,
                    text,
                    size=12,
                    bold=major,
                    fill=text_colour,
                    cls="gap-value",
                )
            )
        else:
            parts.append(
                svg.text(
                    min(ends) - 5,
                    cy + 4.3,
                    text,
                    size=12,
                    anchor="end",
                    bold=major,
                    fill=text_colour,
                    cls="gap-value",
                )
            )
        parts.append("</g>")
        detail = palette.describe_class(row.classification, row.level)
        desc_rows.append(f"{label}: gap {text}{ci_text}{f' ({detail})' if detail else ''}.")

    parts.append(svg.line(zero, top - 4, zero, bottom + 4, "#56606b", 1.25, cls="zero-line"))
    parts.append(svg.line(xa, bottom, xb, bottom, svg.AXIS_COLOR, 1))
    y = bottom + 16
    for t in ticks:
        parts.append(
            svg.text(
                sx(t),
                y,
                svg.format_signed(t, 0 if step >= 1 else 1),
                size=11,
                anchor="middle",
                fill=svg.MUTED_COLOR,
            )
        )
    y += 20
    caption = (
        f"Gap in points on the 0{svg.EN_DASH}100 scale: executives {svg.MINUS} CX professionals."
    )
    parts.append(svg.text(svg.PAD, y, caption, size=11, fill=svg.MUTED_COLOR))
    height = y + 12

    desc = (
        f"Diverging bar chart of the gap between executives and CX professionals for "
        f"{len(rows)} dimension{'s' if len(rows) != 1 else ''}, in points on a 0 to 100 scale. "
        "Positive: executives rate higher (blind spot); negative: executives rate lower "
        "(hidden strength)."
        + (f" Gaps within plus or minus {svg.fmt_tick(thr)} are not notable." if thr else "")
        + " "
        + " ".join(desc_rows)
    )
    return svg.chart("diverging", svg.WIDTH, height, title, desc, "".join(parts))
