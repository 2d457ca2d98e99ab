"""Answer distributions: two tiny 100% stacked bars per item, and their key."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup

from cxalign.reports.charts import palette, svg

_DK_LABEL = re.compile(r"^\s*(dk|don.?t know|n/?a\b|not applicable)", re.IGNORECASE)


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def _is_light(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55


def _scale_colours(labels: Sequence[str]) -> list[str]:
    """Sequential slate ramp for ordered answer categories; DK gets a pale grey."""
    ordered = [i for i, lab in enumerate(labels) if not _DK_LABEL.match(lab)]
    colours = ["#f4f5f7"] * len(labels)
    n = len(ordered)
    for rank, idx in enumerate(ordered):
        colours[idx] = _mix("#dbe1e8", "#2c3e50", rank / (n - 1) if n > 1 else 1.0)
    return colours


def distribution_bar(
    counts_exec: Sequence[int] | None,
    counts_cx: Sequence[int] | None,
    labels: Sequence[str],
    *,
    title: str = "Answer distribution",
    colors: Sequence[str] | None = None,
) -> Markup:
    """Two tiny 100% stacked bars (executives, CX professionals) for an item table.

    ``labels`` name the answer categories in scale order (a "Don't know"
    category is drawn pale). ``None`` or an empty list for a group means it is
    suppressed.
    """
    labels = [svg.clean(lab) for lab in labels]
    title = svg.clean(title)
    width = 300.0

    def usable(counts: Sequence[int] | None) -> list[int] | None:
        if counts is None or len(counts) == 0:
            return None
        return [max(int(c), 0) for c in counts][: len(labels)] + [0] * (len(labels) - len(counts))

    ex, cx = usable(counts_exec), usable(counts_cx)
    if not labels or (ex is None and cx is None):
        return svg.no_data("distribution", "", "No data", width=width)
    fills = list(colors) if colors and len(colors) >= len(labels) else _scale_colours(labels)

    bar_x0, bar_x1 = 44.0, width - 44
    bar_h, gap = 16.0, 6.0
    parts: list[str] = []
    desc_rows = []
    for i, (name, short, shape, colour, counts) in enumerate(
        (
            ("Executives", "Exec", "circle", palette.EXEC_COLOR, ex),
            ("CX professionals", "CX", "diamond", palette.CX_COLOR, cx),
        )
    ):
        top = 4 + i * (bar_h + gap)
        cy = top + bar_h / 2
        parts.append(svg.marker(shape, 6, cy, colour, size=4, outline=colour, cls="legend-marker"))
        parts.append(svg.text(14, cy + 4, short, size=11, fill=svg.TEXT_COLOR))
        total = sum(counts) if counts else 0
        if counts is None or total == 0:
            text = "suppressed" if counts is None else "no answers"
            parts.append(
                svg.rect(bar_x0, top, bar_x1 - bar_x0, bar_h, "#ffffff", stroke=svg.GRID_COLOR)
            )
            parts.append(
                svg.suppressed((bar_x0 + bar_x1) / 2, cy + 4, text, size=10, anchor="middle")
            )
            parts.append(
                svg.text(
                    width - 2, cy + 4, svg.EM_DASH, size=10, anchor="end", fill=svg.MUTED_COLOR
                )
            )
            desc_rows.append(f"{name}: {text}.")
            continue
        x = bar_x0
        shares = []
        for lab, count, fill in zip(labels, counts, fills, strict=False):
            share = count / total
            w = (bar_x1 - bar_x0) * share
            if count:
                tip = f"{name} {svg.EM_DASH} {lab}: {count} ({share:.0%})"
                seg = svg.rect(x, top, w, bar_h, fill, cls="segment", extra=f'data-count="{count}"')
                label = ""
                pct = f"{share:.0%}"
                if w >= svg.text_width(pct, 9.5) + 4:
                    label = svg.text(
                        x + w / 2,
                        cy + 3.5,
                        pct,
                        size=9.5,
                        anchor="middle",
                        fill=svg.TEXT_COLOR if _is_light(fill) else "#ffffff",
                    )
                parts.append(f"<g><title>{svg.esc(tip)}</title>{seg}{label}</g>")
            shares.append(f"{lab} {share:.0%}")
            x += w
        parts.append(svg.rect(bar_x0, top, bar_x1 - bar_x0, bar_h, "none", stroke="#c9d0d7"))
        parts.append(
            svg.text(width - 2, cy + 4, f"n={total}", size=10, anchor="end", fill=svg.MUTED_COLOR)
        )
        desc_rows.append(f"{name} (n={total}): {', '.join(shares)}.")
    height = 4 + 2 * bar_h + gap + 4
    desc = f"{title}. " + " ".join(desc_rows)
    return svg.chart("distribution", width, height, title, desc, "".join(parts))


def distribution_legend(
    labels: Sequence[str], *, colors: Sequence[str] | None = None, width: float = 300
) -> Markup:
    """The key for :func:`distribution_bar` (one per table, not per row)."""
    labels = [svg.clean(lab) for lab in labels]
    if not labels:
        return svg.no_data("distribution-legend", "", "No data", width=width)
    fills = list(colors) if colors and len(colors) >= len(labels) else _scale_colours(labels)
    legend, h = svg.legend(
        [("band", c, lab) for lab, c in zip(labels, fills, strict=False)], 2, 2, width - 4
    )
    desc = "Answer categories, in scale order: " + ", ".join(labels) + "."
    return svg.chart("distribution-legend", width, h + 4, "Answer categories", desc, legend)
