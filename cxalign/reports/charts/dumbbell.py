"""Dumbbell chart: executive vs CX-professional score per dimension, joined by the gap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from cxalign.reports.charts import palette, svg


@dataclass(frozen=True, slots=True)
class DumbbellRow:
    """One dimension (or item) in :func:`dumbbell_chart`.

    ``executive`` and ``cx_professional`` are group means on the chart scale
    (POMP, 0-100 by default); ``None`` means the group is suppressed (below the
    anonymity threshold) and the row shows "suppressed". ``gap`` is executive
    minus CX professional on the same scale (computed from the means when
    ``None``). ``classification``: ``blind_spot``, ``hidden_strength``,
    ``shared_strength``, ``shared_weakness``; ``level``: ``none``, ``notable``,
    ``major``.
    """

    label: str
    executive: float | None
    cx_professional: float | None
    gap: float | None = None
    classification: str | None = None
    level: str | None = None


def _gap_legend_items(classes: Iterable[str | None]) -> list[tuple[str, str, str]]:
    present = set(classes)
    items: list[tuple[str, str, str]] = []
    if "blind_spot" in present:
        items.append(("line", palette.BLIND_SPOT_COLOR, "Blind spot (executives higher)"))
    if "hidden_strength" in present:
        items.append(("line", palette.HIDDEN_STRENGTH_COLOR, "Hidden strength (executives lower)"))
    if present - {"blind_spot", "hidden_strength"}:
        items.append(("line", palette.SHARED_COLOR, "Shared view"))
    return items


def dumbbell_chart(
    rows: Sequence[DumbbellRow],
    *,
    title: str,
    scale_max: float = 100,
    show_legend: bool = True,
) -> Markup:
    """Executive vs CX-professional score per dimension, joined by a gap line.

    One row per dimension, in the order given: label on the left (wrapped to
    two lines), executive circle and CX diamond on a 0..``scale_max`` axis, the
    signed gap on the right (bold for major gaps). Rows with a suppressed group
    show "suppressed" instead of markers.
    """
    rows = list(rows)
    title = svg.clean(title)
    if not rows:
        return svg.no_data("dumbbell", title)
    scale_max = float(scale_max) if scale_max and scale_max > 0 else 100.0

    label_x, label_w = svg.PAD, 214
    x0, x1 = 262.0, 636.0
    gap_x = svg.WIDTH - svg.PAD

    def sx(value: float) -> float:
        return x0 + (x1 - x0) * svg.clamp(value, 0, scale_max) / scale_max

    prepared = []
    for row in rows:
        label = svg.clean(row.label)
        ex, cx = svg.num(row.executive), svg.num(row.cx_professional)
        gap = svg.num(row.gap)
        if gap is None and ex is not None and cx is not None:
            gap = ex - cx
        lines = svg.wrap(label, label_w, 12)
        prepared.append((row, label, lines, ex, cx, gap))
    two_line = any(len(p[2]) > 1 for p in prepared)
    row_h = 38.0 if two_line else 30.0

    parts: list[str] = [svg.text(svg.PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend:
        items: list[tuple[str, str, str]] = [
            ("circle", palette.EXEC_COLOR, "Executives"),
            ("diamond", palette.CX_COLOR, "CX professionals"),
        ]
        shown = [p for p in prepared if p[3] is not None and p[4] is not None]
        items += _gap_legend_items(p[0].classification for p in shown)
        if any(p[0].level == "major" for p in shown):
            items.append(("bold", svg.TEXT_COLOR, "Major gap"))
        legend, legend_h = svg.legend(items, svg.PAD, y, svg.WIDTH - 2 * svg.PAD)
        parts.append(legend)
        y += legend_h + 4

    # Column header: axis ticks above the plot, "Gap" above the values.
    header_y = y + 14
    ticks = [scale_max * k / 4 for k in range(5)]
    for t in ticks:
        parts.append(
            svg.text(
                sx(t), header_y, svg.fmt_tick(t), size=11, anchor="middle", fill=svg.MUTED_COLOR
            )
        )
    parts.append(
        svg.text(gap_x, header_y, "Gap", size=11, anchor="end", bold=True, fill=svg.MUTED_COLOR)
    )
    top = header_y + 8
    bottom = top + row_h * len(rows)

    for t in ticks:
        parts.append(svg.line(sx(t), top, sx(t), bottom, svg.GRID_COLOR, 1, cls="gridline"))

    desc_rows: list[str] = []
    for i, (row, label, lines, ex, cx, gap) in enumerate(prepared):
        cy = top + row_h * i + row_h / 2
        parts.append('<g class="row">')
        parts.append(svg.label_lines(lines, label_x, cy, full=label))
        if ex is None or cx is None:
            parts.append(svg.line(x0, cy, x1, cy, svg.GUIDE_COLOR, 1))
            parts.append(
                svg.rect((x0 + x1) / 2 - 46, cy - 9, 92, 18, "#ffffff")
                + svg.suppressed((x0 + x1) / 2, cy + 4, anchor="middle")
            )
            parts.append(
                svg.text(gap_x, cy + 4, svg.EM_DASH, size=12, anchor="end", fill=svg.MUTED_COLOR)
            )
            desc_rows.append(f"{label}: suppressed (too few respondents in a group).")
            parts.append("</g>")
            continue
        colour = palette.classification_colour(row.classification)
        major = row.level == "major"
        parts.append(svg.line(x0, cy, x1, cy, svg.GUIDE_COLOR, 1))
        ex_x, cx_x = sx(ex), sx(cx)
        if abs(ex_x - cx_x) > 0.5:
            parts.append(
                svg.line(ex_x, cy, cx_x, cy, colour, 4 if major else 3, cap="round", cls="gap-line")
            )
        parts.append(
            svg.marker(
                "diamond",
                cx_x,
                cy,
                palette.CX_COLOR,
                size=6,
                cls="marker marker-cx",
                extra=f'data-value="{svg.compact(cx)}"',
            )
        )
        parts.append(
            svg.marker(
                "circle",
                ex_x,
                cy,
                palette.EXEC_COLOR,
                size=6,
                cls="marker marker-exec",
                extra=f'data-value="{svg.compact(ex)}"',
            )
        )
        gap_text = svg.format_signed(gap) if gap is not None else svg.EM_DASH
        parts.append(
            svg.text(
                gap_x,
                cy + 4.3,
                gap_text,
                size=12,
                anchor="end",
                bold=major,
                fill=palette.classification_text_colour(row.classification),
                cls="gap-value",
            )
        )
        parts.append("</g>")
        detail = palette.describe_class(row.classification, row.level)
        desc_rows.append(
            f"{label}: executives {svg.fmt(ex)}, CX professionals {svg.fmt(cx)}, gap "
            f"{gap_text}{f' ({detail})' if detail else ''}."
        )

    # Bottom axis: ticks again for long charts, and a caption.
    y = bottom + 16
    if len(rows) > 6:
        for t in ticks:
            parts.append(
                svg.text(sx(t), y, svg.fmt_tick(t), size=11, anchor="middle", fill=svg.MUTED_COLOR)
            )
        y += 20
    else:
        y += 2
    scale_text = (
        "0" + svg.EN_DASH + svg.fmt_tick(scale_max) + " scale (percent of maximum possible)"
        if scale_max == 100
        else "0" + svg.EN_DASH + svg.fmt_tick(scale_max) + " scale"
    )
    caption = f"Scores on a {scale_text}. Gap = executives {svg.MINUS} CX professionals."
    parts.append(
        svg.text(
            svg.PAD, y, svg.fit(caption, svg.WIDTH - 2 * svg.PAD, 11), size=11, fill=svg.MUTED_COLOR
        )
    )
    height = y + 12

    desc = (
        f"Dumbbell chart comparing executives (circles) with CX professionals (diamonds) "
        f"on {len(rows)} dimension{'s' if len(rows) != 1 else ''}, scored 0 to "
        f"{svg.fmt_tick(scale_max)}. " + " ".join(desc_rows)
    )
    return svg.chart("dumbbell", svg.WIDTH, height, title, desc, "".join(parts))
