"""Trend line chart: values across survey waves (e.g. the alignment index per wave)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from cxalign.reports.charts import palette, svg


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One line in :func:`trend_line_chart`: one value per wave (``None`` = gap).

    ``group`` (``"executive"``, ``"cx_professional"`` or ``None``) picks the
    group colour and marker; other series get neutral colours and shapes.
    """

    label: str
    values: tuple[float | None, ...]
    group: str | None = None


# Series that are not a respondent group: neutral colours, distinct shapes, and a
# dashed line whenever group series (blue/amber, solid) share the chart.
_SERIES_STYLES = [
    ("#4a5866", "square"),
    ("#8e44ad", "triangle_up"),
    ("#7f8c8d", "triangle_down"),
    ("#2c3e50", "circle"),
]


def trend_line_chart(
    series: Sequence[TrendSeries],
    wave_labels: Sequence[str],
    *,
    title: str,
    y_label: str,
    y_min: float = 0.0,
    y_max: float = 100.0,
    show_legend: bool = True,
) -> Markup:
    """Lines across survey waves (e.g. the alignment index per wave).

    One x position per wave label; ``None`` values break the line. Values are
    printed at each point for a single series, at the last point otherwise.
    """
    series = list(series)
    waves = [svg.clean(w) for w in wave_labels]
    title, y_label = svg.clean(title), svg.clean(y_label)
    has_values = any(svg.num(v) is not None for s in series for v in list(s.values)[: len(waves)])
    if not series or not waves or not has_values:
        return svg.no_data("trend", title)
    if y_max <= y_min:
        y_min, y_max = 0.0, 100.0

    styles: list[tuple[str, str]] = []
    other = 0
    for s in series:
        if s.group == "executive":
            styles.append((palette.EXEC_COLOR, "circle"))
        elif s.group == "cx_professional":
            styles.append((palette.CX_COLOR, "diamond"))
        else:
            styles.append(_SERIES_STYLES[other % len(_SERIES_STYLES)])
            other += 1

    parts = [svg.text(svg.PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend and len(series) > 1:
        legend, legend_h = svg.legend(
            [
                (shape, colour, svg.clean(s.label))
                for s, (colour, shape) in zip(series, styles, strict=True)
            ],
            svg.PAD,
            y,
            svg.WIDTH - 2 * svg.PAD,
        )
        parts.append(legend)
        y += legend_h + 4
    multi = len(series) > 1
    left, right = 76.0, svg.WIDTH - (60.0 if multi else 24.0)
    top = y + 12
    plot_h = 220.0
    bottom = top + plot_h
    step_x = (right - left) / len(waves)

    def sx(i: int) -> float:
        return left + step_x * (i + 0.5)

    def sy(v: float) -> float:
        return bottom - plot_h * (svg.clamp(v, y_min, y_max) - y_min) / (y_max - y_min)

    ystep = svg.nice_step(y_max - y_min, 5)
    t = math.ceil(y_min / ystep) * ystep
    while t <= y_max + 1e-9:
        gy = sy(t)
        parts.append(
            svg.line(
                left,
                gy,
                right,
                gy,
                svg.GRID_COLOR if t > y_min else svg.AXIS_COLOR,
                1,
                cls="gridline",
            )
        )
        parts.append(
            svg.text(left - 8, gy + 4, svg.fmt_tick(t), size=11, anchor="end", fill=svg.MUTED_COLOR)
        )
        t += ystep
    max_lines = 1
    for i, wave in enumerate(waves):
        lines = svg.wrap(wave, step_x - 8, 11)
        max_lines = max(max_lines, len(lines))
        for j, line in enumerate(lines):
            parts.append(
                svg.text(
                    sx(i),
                    bottom + 17 + j * 13,
                    line,
                    size=11,
                    anchor="middle",
                    fill=svg.MUTED_COLOR,
                )
            )
    ymid = (top + bottom) / 2
    parts.append(svg.vertical_text(svg.PAD + 6, ymid, svg.fit(y_label, plot_h, 12)))

    end_labels = []
    desc_rows = []
    mixed = any(s.group in ("executive", "cx_professional") for s in series)
    for s, (colour, shape) in zip(series, styles, strict=True):
        dash = (
            ' stroke-dasharray="6 4"'
            if mixed and s.group not in ("executive", "cx_professional")
            else ""
        )
        values = [svg.num(v) for v in list(s.values)[: len(waves)]]
        values += [None] * (len(waves) - len(values))
        segment: list[str] = []
        for i, v in enumerate([*values, None]):
            if v is not None:
                segment.append(f"{svg.compact(sx(i))},{svg.compact(sy(v))}")
            elif segment:
                if len(segment) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(segment)}" fill="none" '
                        f'stroke="{colour}" stroke-width="2.5" stroke-linejoin="round" '
                        f'stroke-linecap="round"{dash} class="trend-line"/>'
                    )
                segment = []
        for i, v in enumerate(values):
            if v is None:
                continue
            parts.append(
                svg.marker(
                    shape,
                    sx(i),
                    sy(v),
                    colour,
                    size=5,
                    cls="marker",
                    extra=f'data-value="{svg.compact(v)}"',
                )
            )
            if not multi:
                parts.append(
                    svg.text(
                        sx(i),
                        sy(v) - 11,
                        svg.fmt(v),
                        size=11,
                        anchor="middle",
                        bold=i == max(k for k, w in enumerate(values) if w is not None),
                        fill=svg.TEXT_COLOR,
                    )
                )
        last = max((i for i, v in enumerate(values) if v is not None), default=None)
        if multi and last is not None:
            end_labels.append(
                [sy(values[last] or 0.0), sx(last), svg.fmt(values[last] or 0.0), colour]
            )
        points = ", ".join(
            f"{waves[i]} {svg.fmt(v) if v is not None else 'no data'}" for i, v in enumerate(values)
        )
        desc_rows.append(f"{svg.clean(s.label)}: {points}.")
    # Spread end labels vertically so they never collide.
    end_labels.sort(key=lambda e: e[0])
    for k in range(1, len(end_labels)):
        if end_labels[k][0] - end_labels[k - 1][0] < 13:
            end_labels[k][0] = end_labels[k - 1][0] + 13
    for ly, lx, text, colour in end_labels:
        parts.append(
            svg.text(
                lx + 10,
                ly + 4,
                text,
                size=11,
                bold=True,
                fill=palette.CX_TEXT if colour == palette.CX_COLOR else colour,
            )
        )
    height = bottom + 17 + max_lines * 13 + 6
    desc = (
        f"Line chart of {y_label} across {len(waves)} survey wave"
        f"{'s' if len(waves) != 1 else ''} ({svg.fmt_tick(y_min)} to {svg.fmt_tick(y_max)}). "
        + " ".join(desc_rows)
    )
    return svg.chart("trend", svg.WIDTH, height, title, desc, "".join(parts))
