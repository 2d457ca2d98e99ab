"""Server-side SVG charts for the gap report.

Every function here is pure: plain dataclasses of primitive values in, an SVG
string (wrapped in :class:`markupsafe.Markup` so Jinja embeds it as is) out.
The same markup serves the dashboard and the PDF (WeasyPrint renders inline
SVG), so the two can never disagree.

Conventions shared by all charts:

* ``viewBox`` with ``width="100%"``: the chart scales to its container. The
  nominal width is 720 user units, so text is 11-12px when the chart is shown
  at about 640-720px (an A4 page with 2cm margins is ~640px wide).
* ``role="img"`` with ``<title>`` and ``<desc>`` (referenced by
  ``aria-labelledby``); ``<desc>`` is a text summary of the data for screen
  readers.
* No scripts, no external resources, no fonts: text inherits the page font.
* Every piece of text passed in is XML-escaped here; callers pass plain ``str``.
* Executives are a deep blue circle, CX professionals an amber diamond; gaps
  are coloured by classification (blind spot red, hidden strength teal, shared
  view grey) and always also carry their sign, so nothing relies on colour
  alone.
* Negative numbers use the real minus sign (U+2212).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "BLIND_SPOT_COLOR",
    "CX_COLOR",
    "EXEC_COLOR",
    "HIDDEN_STRENGTH_COLOR",
    "MINUS",
    "SHARED_COLOR",
    "DumbbellRow",
    "GapBar",
    "IPPoint",
    "TrendSeries",
    "distribution_bar",
    "distribution_legend",
    "diverging_gap_chart",
    "dumbbell_chart",
    "format_signed",
    "importance_performance_chart",
    "trend_line_chart",
]

# --------------------------------------------------------------------------- palette

EXEC_COLOR = "#1f4e79"
CX_COLOR = "#d9822b"
BLIND_SPOT_COLOR = "#c0392b"
HIDDEN_STRENGTH_COLOR = "#16a085"
SHARED_COLOR = "#8d96a0"

# Darker variants with >= 4.5:1 contrast on white, for text in those colours.
_BLIND_SPOT_TEXT = "#a93226"
_HIDDEN_STRENGTH_TEXT = "#0e6655"
_CX_TEXT = "#a35c12"

TEXT_COLOR = "#1d2733"
MUTED_COLOR = "#5f6b7a"
GRID_COLOR = "#e3e7eb"
GUIDE_COLOR = "#eef1f4"
AXIS_COLOR = "#9aa3ad"
BAND_COLOR = "#eceff3"
FOCUS_TINT = "#fbf0ee"
_UNCLASSIFIED_COLOR = "#4a5866"

MINUS = "\u2212"
EN_DASH = "\u2013"
EM_DASH = "\u2014"
ELLIPSIS = "\u2026"

WIDTH = 720
PAD = 16

CLASSIFICATION_LABELS = {
    "blind_spot": "Blind spot",
    "hidden_strength": "Hidden strength",
    "shared_strength": "Shared strength",
    "shared_weakness": "Shared weakness",
}
LEVEL_LABELS = {"none": "no notable gap", "notable": "notable gap", "major": "major gap"}

_CLASS_COLORS = {
    "blind_spot": BLIND_SPOT_COLOR,
    "hidden_strength": HIDDEN_STRENGTH_COLOR,
    "shared_strength": SHARED_COLOR,
    "shared_weakness": SHARED_COLOR,
}
_CLASS_TEXT_COLORS = {
    "blind_spot": _BLIND_SPOT_TEXT,
    "hidden_strength": _HIDDEN_STRENGTH_TEXT,
}

# --------------------------------------------------------------------------- inputs


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


@dataclass(frozen=True, slots=True)
class TrendSeries:
    """One line in :func:`trend_line_chart`: one value per wave (``None`` = gap).

    ``group`` (``"executive"``, ``"cx_professional"`` or ``None``) picks the
    group colour and marker; other series get neutral colours and shapes.
    """

    label: str
    values: tuple[float | None, ...]
    group: str | None = None


# --------------------------------------------------------------------------- text helpers

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(value: object) -> str:
    """XML-escape any value as plain text (a ``Markup`` input is escaped too)."""
    text = _INVALID_XML.sub("", str(value))
    return str(escape(text))


def _clean(value: object) -> str:
    """Collapse whitespace in a label (newlines would otherwise vanish in SVG)."""
    return " ".join(str(value).split())


# fmt: off
# Advance widths in em, modelled on DejaVu Sans (wider than Arial/Helvetica, so
# estimates err on the safe side whatever font the page provides).
_LOWER = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        (
            0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278,
            0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392,
            0.634, 0.592, 0.818, 0.592, 0.592, 0.525,
        ),
        strict=True,
    )
)
_UPPER = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295,
            0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611,
            0.732, 0.684, 0.989, 0.685, 0.611, 0.685,
        ),
        strict=True,
    )
)
_PUNCT = {
    " ": 0.318, ".": 0.318, ",": 0.318, ":": 0.337, ";": 0.337, "'": 0.275, '"': 0.46,
    "-": 0.361, "(": 0.39, ")": 0.39, "/": 0.337, "&": 0.78, "%": 0.95, "+": 0.838,
    MINUS: 0.838, EN_DASH: 0.5, EM_DASH: 1.0, ELLIPSIS: 1.0, "!": 0.4, "?": 0.531,
}
# fmt: on


def _text_width(text: str, size: float, bold: bool = False) -> float:
    em = 0.0
    for ch in text:
        if ch in _LOWER:
            em += _LOWER[ch]
        elif ch in _UPPER:
            em += _UPPER[ch]
        elif ch.isdigit():
            em += 0.636
        else:
            em += _PUNCT.get(ch, 0.7)
    return em * size * (1.14 if bold else 1.0)


def _fit(text: str, max_width: float, size: float, bold: bool = False) -> str:
    """Shorten ``text`` with an ellipsis so that it fits in ``max_width``."""
    if _text_width(text, size, bold) <= max_width:
        return text
    while text and _text_width(text + ELLIPSIS, size, bold) > max_width:
        text = text[:-1]
    return text.rstrip(" ,;:-") + ELLIPSIS


def _wrap(
    text: str, max_width: float, size: float, max_lines: int = 2, bold: bool = False
) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines; the last is ellipsised."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and _text_width(candidate, size, bold) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if not lines:
        return [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [_fit(line, max_width, size, bold) for line in lines]


# --------------------------------------------------------------------------- number helpers


def _num(value: float | None) -> float | None:
    """``None`` for missing or non-finite values, else a float."""
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _f(value: float) -> str:
    """Compact coordinate formatting."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fmt(value: float, decimals: int = 0) -> str:
    """Unsigned-style number with a real minus sign for negatives."""
    rounded = round(value, decimals)
    if rounded == 0:
        rounded = 0.0
    text = f"{abs(rounded):.{decimals}f}"
    return f"{MINUS}{text}" if rounded < 0 else text


def format_signed(value: float, decimals: int = 0) -> str:
    """``+18`` / ``\u22127`` (real minus, U+2212) / ``0``: how gaps are printed everywhere."""
    rounded = round(value, decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}"
    text = f"{abs(rounded):.{decimals}f}"
    return f"+{text}" if rounded > 0 else f"{MINUS}{text}"


def _fmt_tick(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return _fmt(value, 0)
    return _fmt(value, 2 if abs(value) < 1 else 1)


def _nice_step(span: float, max_ticks: int) -> float:
    """A 1-2-2.5-5 step that splits ``span`` into at most ``max_ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / max_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if mult * power >= raw - 1e-12:
            return mult * power
    return 10 * power  # pragma: no cover


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --------------------------------------------------------------------------- svg primitives


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 12,
    anchor: str = "start",
    bold: bool = False,
    italic: bool = False,
    fill: str = TEXT_COLOR,
    cls: str | None = None,
    extra: str = "",
) -> str:
    attrs = [f'x="{_f(x)}"', f'y="{_f(y)}"', f'font-size="{_f(size)}"', f'fill="{fill}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if bold:
        attrs.append('font-weight="bold"')
    if italic:
        attrs.append('font-style="italic"')
    if cls:
        attrs.append(f'class="{cls}"')
    if extra:
        attrs.append(extra)
    return f"<text {' '.join(attrs)}>{_esc(content)}</text>"


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    stroke: str,
    width: float = 1,
    *,
    dash: str | None = None,
    cap: str | None = None,
    cls: str | None = None,
) -> str:
    extra = ""
    if dash:
        extra += f' stroke-dasharray="{dash}"'
    if cap:
        extra += f' stroke-linecap="{cap}"'
    if cls:
        extra += f' class="{cls}"'
    return (
        f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
        f'stroke="{stroke}" stroke-width="{_f(width)}"{extra}/>'
    )


def _rect(
    x: float,
    y: float,
    w: float,
    h: float,
    fill: str,
    *,
    stroke: str | None = None,
    rx: float = 0,
    cls: str | None = None,
    extra: str = "",
) -> str:
    attrs = f'x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0))}" height="{_f(max(h, 0))}"'
    attrs += f' fill="{fill}"'
    if stroke:
        attrs += f' stroke="{stroke}" stroke-width="1"'
    if rx:
        attrs += f' rx="{_f(rx)}"'
    if cls:
        attrs += f' class="{cls}"'
    if extra:
        attrs += f" {extra}"
    return f"<rect {attrs}/>"


def _marker(
    shape: str,
    x: float,
    y: float,
    fill: str,
    *,
    size: float = 6,
    cls: str | None = None,
    extra: str = "",
    outline: str = "#ffffff",
) -> str:
    """A data marker centred on (x, y); ``size`` is the circle radius equivalent."""
    common = f'fill="{fill}" stroke="{outline}" stroke-width="1.5"'
    if cls:
        common += f' class="{cls}"'
    if extra:
        common += f" {extra}"
    if shape == "circle":
        return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(size)}" {common}/>'
    if shape == "diamond":
        d = size * 1.3
        pts = f"{_f(x)},{_f(y - d)} {_f(x + d)},{_f(y)} {_f(x)},{_f(y + d)} {_f(x - d)},{_f(y)}"
    elif shape == "square":
        s = size * 0.9
        pts = (
            f"{_f(x - s)},{_f(y - s)} {_f(x + s)},{_f(y - s)} {_f(x + s)},{_f(y + s)} "
            f"{_f(x - s)},{_f(y + s)}"
        )
    elif shape == "triangle_up":
        s = size * 1.2
        pts = f"{_f(x)},{_f(y - s)} {_f(x + s)},{_f(y + s * 0.75)} {_f(x - s)},{_f(y + s * 0.75)}"
    elif shape == "triangle_down":
        s = size * 1.2
        pts = f"{_f(x - s)},{_f(y - s * 0.75)} {_f(x + s)},{_f(y - s * 0.75)} {_f(x)},{_f(y + s)}"
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown marker shape {shape!r}")
    return f'<polygon points="{pts}" {common}/>'


def _svg(kind: str, width: float, height: float, title: str, desc: str, body: str) -> Markup:
    digest = hashlib.sha1(f"{kind}\0{title}\0{desc}\0{body}".encode()).hexdigest()[:10]
    uid = f"cxchart-{digest}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cx-chart cx-chart-{kind}" '
        f'viewBox="0 0 {_f(width)} {_f(math.ceil(height))}" width="100%" '
        f'preserveAspectRatio="xMidYMin meet" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="inherit">'
        f'<title id="{uid}-title">{_esc(_clean(title))}</title>'
        f'<desc id="{uid}-desc">{_esc(desc)}</desc>'
    )
    return Markup(head + body + "</svg>")


def _no_data(kind: str, title: str, message: str = "No data", width: float = WIDTH) -> Markup:
    title = _clean(title)
    height = 96 if title else 64
    parts = []
    if title:
        parts.append(_text(PAD, 24, title, size=15, bold=True))
    top = 36 if title else 8
    parts.append(
        _rect(PAD, top, width - 2 * PAD, height - top - 8, "#f7f8fa", stroke=GRID_COLOR, rx=4)
    )
    parts.append(
        _text(
            width / 2,
            (top + height - 8) / 2 + 4,
            message,
            size=12,
            anchor="middle",
            italic=True,
            fill=MUTED_COLOR,
            cls="no-data",
        )
    )
    desc = f"{title}: {message}." if title else f"{message}."
    return _svg(kind, width, height, title or message, desc, "".join(parts))


def _legend(
    items: Sequence[tuple[str, str, str]],
    x: float,
    y: float,
    max_width: float,
    size: float = 11,
) -> tuple[str, float]:
    """Flowing legend. Items are (kind, colour, label); returns (svg, height used).

    Kinds: a marker shape name, ``line`` (a gap line), ``band`` (a shaded box),
    ``bar`` (a solid box), ``whisker`` (a CI whisker), ``bold`` (a bold sample).
    """
    parts = ['<g class="legend">']
    cx, cy = x, y
    row_h = size + 9
    for kind, colour, label in items:
        label_w = _text_width(label, size)
        swatch_w = 30 if kind in ("line", "whisker", "bold") else 14
        item_w = swatch_w + 6 + label_w
        if cx > x and cx + item_w > x + max_width:
            cx = x
            cy += row_h
        mid = cy + row_h / 2 - 2
        if kind == "line":
            parts.append(_line(cx + 1, mid, cx + swatch_w - 1, mid, colour, 3, cap="round"))
        elif kind == "whisker":
            parts.append(_line(cx + 2, mid, cx + swatch_w - 2, mid, colour, 1.25))
            parts.append(_line(cx + 2, mid - 4, cx + 2, mid + 4, colour, 1.25))
            right = cx + swatch_w - 2
            parts.append(_line(right, mid - 4, right, mid + 4, colour, 1.25))
        elif kind == "band":
            parts.append(_rect(cx, mid - 7, swatch_w, 14, colour, stroke="#d5dae0"))
        elif kind == "bar":
            parts.append(_rect(cx, mid - 6, swatch_w, 12, colour, rx=1.5))
        elif kind == "bold":
            parts.append(
                _text(
                    cx + swatch_w / 2,
                    mid + size * 0.36,
                    f"+{25}",
                    size=size,
                    bold=True,
                    anchor="middle",
                    fill=colour,
                )
            )
        else:
            parts.append(_marker(kind, cx + swatch_w / 2, mid, colour, size=5, cls="legend-marker"))
        parts.append(
            _text(cx + swatch_w + 6, mid + size * 0.36, label, size=size, fill=MUTED_COLOR)
        )
        cx += item_w + 18
    parts.append("</g>")
    return "".join(parts), (cy - y) + row_h


def _label_lines(
    lines: Sequence[str],
    x: float,
    cy: float,
    *,
    size: float = 12,
    line_h: float = 14,
    anchor: str = "start",
    fill: str = TEXT_COLOR,
    full: str | None = None,
    bold: bool = False,
) -> str:
    """Vertically centred multi-line label; ``full`` becomes a hover tooltip if truncated."""
    first = cy - (len(lines) - 1) * line_h / 2 + size * 0.36
    parts = [
        _text(x, first + i * line_h, line, size=size, anchor=anchor, fill=fill, bold=bold)
        for i, line in enumerate(lines)
    ]
    if full is not None and " ".join(lines) != full:
        return f"<g><title>{_esc(full)}</title>{''.join(parts)}</g>"
    return "".join(parts)


def _classification_colour(classification: str | None) -> str:
    return _CLASS_COLORS.get(classification or "", SHARED_COLOR)


def _classification_text_colour(classification: str | None) -> str:
    return _CLASS_TEXT_COLORS.get(classification or "", TEXT_COLOR)


def _describe_class(classification: str | None, level: str | None) -> str:
    bits = []
    if classification in CLASSIFICATION_LABELS:
        bits.append(CLASSIFICATION_LABELS[classification].lower())
    if level in ("notable", "major"):
        bits.append(LEVEL_LABELS[level])
    return ", ".join(bits)


def _gap_legend_items(classes: Iterable[str | None]) -> list[tuple[str, str, str]]:
    present = set(classes)
    items: list[tuple[str, str, str]] = []
    if "blind_spot" in present:
        items.append(("line", BLIND_SPOT_COLOR, "Blind spot (executives higher)"))
    if "hidden_strength" in present:
        items.append(("line", HIDDEN_STRENGTH_COLOR, "Hidden strength (executives lower)"))
    if present - {"blind_spot", "hidden_strength"}:
        items.append(("line", SHARED_COLOR, "Shared view"))
    return items


# --------------------------------------------------------------------------- 1. dumbbell


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
    title = _clean(title)
    if not rows:
        return _no_data("dumbbell", title)
    scale_max = float(scale_max) if scale_max and scale_max > 0 else 100.0

    label_x, label_w = PAD, 214
    x0, x1 = 262.0, 636.0
    gap_x = WIDTH - PAD

    def sx(value: float) -> float:
        return x0 + (x1 - x0) * _clamp(value, 0, scale_max) / scale_max

    prepared = []
    for row in rows:
        label = _clean(row.label)
        ex, cx = _num(row.executive), _num(row.cx_professional)
        gap = _num(row.gap)
        if gap is None and ex is not None and cx is not None:
            gap = ex - cx
        lines = _wrap(label, label_w, 12)
        prepared.append((row, label, lines, ex, cx, gap))
    two_line = any(len(p[2]) > 1 for p in prepared)
    row_h = 38.0 if two_line else 30.0

    parts: list[str] = [_text(PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend:
        items: list[tuple[str, str, str]] = [
            ("circle", EXEC_COLOR, "Executives"),
            ("diamond", CX_COLOR, "CX professionals"),
        ]
        shown = [p for p in prepared if p[3] is not None and p[4] is not None]
        items += _gap_legend_items(p[0].classification for p in shown)
        if any(p[0].level == "major" for p in shown):
            items.append(("bold", TEXT_COLOR, "Major gap"))
        legend, legend_h = _legend(items, PAD, y, WIDTH - 2 * PAD)
        parts.append(legend)
        y += legend_h + 4

    # Column header: axis ticks above the plot, "Gap" above the values.
    header_y = y + 14
    ticks = [scale_max * k / 4 for k in range(5)]
    for t in ticks:
        parts.append(
            _text(sx(t), header_y, _fmt_tick(t), size=11, anchor="middle", fill=MUTED_COLOR)
        )
    parts.append(_text(gap_x, header_y, "Gap", size=11, anchor="end", bold=True, fill=MUTED_COLOR))
    top = header_y + 8
    bottom = top + row_h * len(rows)

    for t in ticks:
        parts.append(_line(sx(t), top, sx(t), bottom, GRID_COLOR, 1, cls="gridline"))

    desc_rows: list[str] = []
    for i, (row, label, lines, ex, cx, gap) in enumerate(prepared):
        cy = top + row_h * i + row_h / 2
        parts.append('<g class="row">')
        parts.append(_label_lines(lines, label_x, cy, full=label))
        if ex is None or cx is None:
            parts.append(_line(x0, cy, x1, cy, GUIDE_COLOR, 1))
            parts.append(
                _rect((x0 + x1) / 2 - 46, cy - 9, 92, 18, "#ffffff")
                + _text(
                    (x0 + x1) / 2,
                    cy + 4,
                    "suppressed",
                    size=11,
                    anchor="middle",
                    italic=True,
                    fill=MUTED_COLOR,
                    cls="suppressed",
                )
            )
            parts.append(_text(gap_x, cy + 4, EM_DASH, size=12, anchor="end", fill=MUTED_COLOR))
            desc_rows.append(f"{label}: suppressed (too few respondents in a group).")
            parts.append("</g>")
            continue
        colour = _classification_colour(row.classification)
        major = row.level == "major"
        parts.append(_line(x0, cy, x1, cy, GUIDE_COLOR, 1))
        ex_x, cx_x = sx(ex), sx(cx)
        if abs(ex_x - cx_x) > 0.5:
            parts.append(
                _line(ex_x, cy, cx_x, cy, colour, 4 if major else 3, cap="round", cls="gap-line")
            )
        parts.append(
            _marker(
                "diamond",
                cx_x,
                cy,
                CX_COLOR,
                size=6,
                cls="marker marker-cx",
                extra=f'data-value="{_f(cx)}"',
            )
        )
        parts.append(
            _marker(
                "circle",
                ex_x,
                cy,
                EXEC_COLOR,
                size=6,
                cls="marker marker-exec",
                extra=f'data-value="{_f(ex)}"',
            )
        )
        gap_text = format_signed(gap) if gap is not None else EM_DASH
        parts.append(
            _text(
                gap_x,
                cy + 4.3,
                gap_text,
                size=12,
                anchor="end",
                bold=major,
                fill=_classification_text_colour(row.classification),
                cls="gap-value",
            )
        )
        parts.append("</g>")
        detail = _describe_class(row.classification, row.level)
        desc_rows.append(
            f"{label}: executives {_fmt(ex)}, CX professionals {_fmt(cx)}, gap "
            f"{gap_text}{f' ({detail})' if detail else ''}."
        )

    # Bottom axis: ticks again for long charts, and a caption.
    y = bottom + 16
    if len(rows) > 6:
        for t in ticks:
            parts.append(_text(sx(t), y, _fmt_tick(t), size=11, anchor="middle", fill=MUTED_COLOR))
        y += 20
    else:
        y += 2
    scale_text = (
        "0" + EN_DASH + _fmt_tick(scale_max) + " scale (percent of maximum possible)"
        if scale_max == 100
        else "0" + EN_DASH + _fmt_tick(scale_max) + " scale"
    )
    caption = f"Scores on a {scale_text}. Gap = executives {MINUS} CX professionals."
    parts.append(_text(PAD, y, _fit(caption, WIDTH - 2 * PAD, 11), size=11, fill=MUTED_COLOR))
    height = y + 12

    desc = (
        f"Dumbbell chart comparing executives (circles) with CX professionals (diamonds) "
        f"on {len(rows)} dimension{'s' if len(rows) != 1 else ''}, scored 0 to "
        f"{_fmt_tick(scale_max)}. " + " ".join(desc_rows)
    )
    return _svg("dumbbell", WIDTH, height, title, desc, "".join(parts))


# --------------------------------------------------------------------------- 2. diverging


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
    title = _clean(title)
    if not rows:
        return _no_data("diverging", title)
    thr = _num(threshold)
    thr = abs(thr) if thr else None

    label_x, label_w = PAD, 214
    px0, px1 = 250.0, WIDTH - PAD
    margin = 38.0  # room for value labels at the ends of the longest bars
    xa, xb = px0 + margin, px1 - margin

    # A POMP gap lies within ±100; longer whiskers are cut at the axis end. Every
    # nice step divides 100, so the ticks always land on the axis ends.
    extent = max(
        [
            min(abs(v), 100.0)
            for r in rows
            for v in (_num(r.gap), _num(r.ci_low), _num(r.ci_high))
            if v is not None
        ]
        + [min(thr or 0, 80.0) * 1.25, 10.0]
    )
    step = _nice_step(extent, 3)
    limit = min(math.ceil(extent / step - 1e-9) * step, 100.0)

    def sx(value: float) -> float:
        return xa + (xb - xa) * (_clamp(value, -limit, limit) + limit) / (2 * limit)

    zero = sx(0)
    prepared = [(r, _clean(r.label), _wrap(_clean(r.label), label_w, 12)) for r in rows]
    row_h = 36.0 if any(len(p[2]) > 1 for p in prepared) else 28.0
    has_ci = any(_num(r.ci_low) is not None and _num(r.ci_high) is not None for r in rows)

    parts = [_text(PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend:
        items: list[tuple[str, str, str]] = []
        if thr:
            items.append(("band", BAND_COLOR, f"Within \u00b1{_fmt_tick(thr)}: no notable gap"))
        if has_ci:
            items.append(("whisker", TEXT_COLOR, ci_label))
        if any(r.level == "major" for r in rows if _num(r.gap) is not None):
            items.append(("bold", TEXT_COLOR, "Major gap"))
        if items:
            legend, legend_h = _legend(items, PAD, y, WIDTH - 2 * PAD)
            parts.append(legend)
            y += legend_h + 4

    # Direction headers, two lines each, either side of zero.
    hy = y + 14
    parts.append(
        _text(
            zero - 10,
            hy,
            "\u2190 Executives rate lower",
            size=11,
            anchor="end",
            bold=True,
            fill=_HIDDEN_STRENGTH_TEXT,
        )
    )
    parts.append(
        _text(
            zero - 10,
            hy + 14,
            "(hidden strength)",
            size=11,
            anchor="end",
            fill=_HIDDEN_STRENGTH_TEXT,
        )
    )
    parts.append(
        _text(
            zero + 10,
            hy,
            "Executives rate higher \u2192",
            size=11,
            bold=True,
            fill=_BLIND_SPOT_TEXT,
        )
    )
    parts.append(_text(zero + 10, hy + 14, "(blind spot)", size=11, fill=_BLIND_SPOT_TEXT))
    top = hy + 26
    bottom = top + row_h * len(rows)

    if thr:
        parts.append(
            _rect(sx(-thr), top, sx(thr) - sx(-thr), bottom - top, BAND_COLOR, cls="threshold-band")
        )
    ticks = []
    t = -limit
    while t <= limit + 1e-9:
        ticks.append(round(t, 6))
        t += step
    for t in ticks:
        if abs(t) > 1e-9:
            parts.append(_line(sx(t), top, sx(t), bottom, GRID_COLOR, 1, cls="gridline"))

    desc_rows = []
    bar_h = 14.0
    for i, (row, label, lines) in enumerate(prepared):
        cy = top + row_h * i + row_h / 2
        parts.append('<g class="row">')
        parts.append(_label_lines(lines, label_x, cy, full=label))
        gap = _num(row.gap)
        if gap is None:
            parts.append(
                _text(
                    zero + 10,
                    cy + 4,
                    "suppressed",
                    size=11,
                    italic=True,
                    fill=MUTED_COLOR,
                    cls="suppressed",
                )
            )
            desc_rows.append(f"{label}: suppressed (too few respondents in a group).")
            parts.append("</g>")
            continue
        if row.classification:
            colour = _classification_colour(row.classification)
            text_colour = _classification_text_colour(row.classification)
        elif thr is None or abs(gap) >= thr:
            colour = BLIND_SPOT_COLOR if gap > 0 else HIDDEN_STRENGTH_COLOR
            text_colour = _BLIND_SPOT_TEXT if gap > 0 else _HIDDEN_STRENGTH_TEXT
        else:
            colour, text_colour = SHARED_COLOR, TEXT_COLOR
        bx = sx(gap)
        parts.append(
            _rect(
                min(zero, bx),
                cy - bar_h / 2,
                abs(bx - zero),
                bar_h,
                colour,
                cls="bar",
                extra=f'data-value="{_f(gap)}"',
            )
        )
        lo, hi = _num(row.ci_low), _num(row.ci_high)
        ends = [bx]
        ci_text = ""
        if lo is not None and hi is not None:
            lo, hi = min(lo, hi), max(lo, hi)
            wl, wh = sx(lo), sx(hi)
            parts.append(_line(wl, cy, wh, cy, TEXT_COLOR, 1.25, cls="whisker"))
            parts.append(_line(wl, cy - 5, wl, cy + 5, TEXT_COLOR, 1.25))
            parts.append(_line(wh, cy - 5, wh, cy + 5, TEXT_COLOR, 1.25))
            ends += [wl, wh]
            ci_text = f", {ci_label} {_fmt(lo)} to {_fmt(hi)}"
        text = format_signed(gap)
        major = row.level == "major"
        if gap >= 0:
            parts.append(
                _text(
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
                _text(
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
        detail = _describe_class(row.classification, row.level)
        desc_rows.append(f"{label}: gap {text}{ci_text}{f' ({detail})' if detail else ''}.")

    parts.append(_line(zero, top - 4, zero, bottom + 4, "#56606b", 1.25, cls="zero-line"))
    parts.append(_line(xa, bottom, xb, bottom, AXIS_COLOR, 1))
    y = bottom + 16
    for t in ticks:
        parts.append(
            _text(
                sx(t),
                y,
                format_signed(t, 0 if step >= 1 else 1),
                size=11,
                anchor="middle",
                fill=MUTED_COLOR,
            )
        )
    y += 20
    caption = f"Gap in points on the 0{EN_DASH}100 scale: executives {MINUS} CX professionals."
    parts.append(_text(PAD, y, caption, size=11, fill=MUTED_COLOR))
    height = y + 12

    desc = (
        f"Diverging bar chart of the gap between executives and CX professionals for "
        f"{len(rows)} dimension{'s' if len(rows) != 1 else ''}, in points on a 0 to 100 scale. "
        "Positive: executives rate higher (blind spot); negative: executives rate lower "
        "(hidden strength)."
        + (f" Gaps within plus or minus {_fmt_tick(thr)} are not notable." if thr else "")
        + " "
        + " ".join(desc_rows)
    )
    return _svg("diverging", WIDTH, height, title, desc, "".join(parts))


# --------------------------------------------------------------------------- 3. IPA

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
    title = _clean(title)
    shown = [
        p for p in points if _num(p.performance) is not None and _num(p.importance) is not None
    ]
    hidden = [p for p in points if p not in shown]
    if not shown:
        return _no_data("ipa", title)
    scale_max = float(scale_max) if scale_max and scale_max > 0 else 100.0
    pcut = _clamp(_num(performance_cut) or 0.0, 0, scale_max)
    icut = _clamp(_num(importance_cut) or 0.0, 0, 1)

    parts = [_text(PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    classes = {p.classification for p in shown}
    if show_legend and classes - {None}:
        items: list[tuple[str, str, str]] = []
        if "blind_spot" in classes:
            items.append(("triangle_up", BLIND_SPOT_COLOR, "Blind spot (executives higher)"))
        if "hidden_strength" in classes:
            items.append(
                ("triangle_down", HIDDEN_STRENGTH_COLOR, "Hidden strength (executives lower)")
            )
        if classes & {"shared_strength", "shared_weakness"}:
            items.append(("circle", SHARED_COLOR, "Shared view"))
        if classes - set(CLASSIFICATION_LABELS):
            items.append(("circle", _UNCLASSIFIED_COLOR, "Not classified"))
        legend, legend_h = _legend(items, PAD, y, WIDTH - 2 * PAD)
        parts.append(legend)
        y += legend_h + 6

    left, right = 76.0, WIDTH - 24.0
    top = y + 6
    plot_h = 330.0
    bottom = top + plot_h

    def sx(v: float) -> float:
        return left + (right - left) * _clamp(v, 0, scale_max) / scale_max

    def sy(v: float) -> float:
        return bottom - plot_h * _clamp(v, 0, 1)

    cut_x, cut_y = sx(pcut), sy(icut)
    parts.append(_rect(left, top, right - left, plot_h, "#ffffff", stroke=GRID_COLOR))
    parts.append(_rect(left, top, cut_x - left, cut_y - top, FOCUS_TINT, cls="focus-quadrant"))
    for k in range(5):
        gx = sx(scale_max * k / 4)
        gy = sy(k / 4)
        if 0 < k < 4:
            parts.append(_line(gx, top, gx, bottom, GUIDE_COLOR, 1, cls="gridline"))
            parts.append(_line(left, gy, right, gy, GUIDE_COLOR, 1, cls="gridline"))
        parts.append(
            _text(
                gx,
                bottom + 16,
                _fmt_tick(scale_max * k / 4),
                size=11,
                anchor="middle",
                fill=MUTED_COLOR,
            )
        )
        parts.append(
            _text(left - 8, gy + 4, f"{k / 4:.2f}", size=11, anchor="end", fill=MUTED_COLOR)
        )
    parts.append(_rect(left, top, right - left, plot_h, "none", stroke="#c9d0d7"))
    parts.append(_line(cut_x, top, cut_x, bottom, "#7b8591", 1.25, dash="5 4", cls="cut-line"))
    parts.append(_line(left, cut_y, right, cut_y, "#7b8591", 1.25, dash="5 4", cls="cut-line"))

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
        w = _text_width(text, qsize, bold=True)
        bx = qx if anchor == "start" else qx - w
        qboxes.append((bx - 2, qy - 11, bx + w + 2, qy + 3))
        colour = _BLIND_SPOT_TEXT if key == "concentrate" else MUTED_COLOR
        parts.append(
            _text(
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
        px, py = sx(_num(p.performance) or 0.0), sy(_num(p.importance) or 0.0)
        coords.append((p, px, py))
    marker_boxes = [(px - 8, py - 8, px + 8, py + 8) for _, px, py in coords]
    cut_boxes = [(cut_x - 1, top, cut_x + 1, bottom), (left, cut_y - 1, right, cut_y + 1)]
    placed: list[tuple[float, float, float, float]] = []
    label_parts = []
    lsize = 11
    for p, px, py in sorted(coords, key=lambda c: (c[2], c[1])):
        code = _fit(_clean(p.code), 80, lsize, bold=True)
        w = _text_width(code, lsize, bold=True)
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
            _text(tx, ty, code, size=lsize, anchor=anchor, bold=True, cls="point-label")
        )
    for p, px, py in coords:
        shape = _CLASS_SHAPES.get(p.classification or "", "circle")
        colour = _CLASS_COLORS.get(p.classification or "", _UNCLASSIFIED_COLOR)
        tip = (
            f"{_clean(p.label)}: performance {_fmt(_num(p.performance) or 0.0)}, "
            f"importance {(_num(p.importance) or 0.0):.2f}"
        )
        parts.append(
            f"<g><title>{_esc(tip)}</title>"
            + _marker(
                shape,
                px,
                py,
                colour,
                size=6,
                cls="marker point",
                extra=f'data-code="{_esc(_clean(p.code))}"',
            )
            + "</g>"
        )
    parts.extend(label_parts)

    # Axis titles.
    parts.append(
        _text(
            (left + right) / 2,
            bottom + 36,
            f"Performance as rated by CX professionals (0{EN_DASH}{_fmt_tick(scale_max)})",
            size=12,
            anchor="middle",
            fill=TEXT_COLOR,
        )
    )
    ymid = (top + bottom) / 2
    parts.append(
        _text(
            PAD + 6,
            ymid,
            f"Importance (0{EN_DASH}1)",
            size=12,
            anchor="middle",
            fill=TEXT_COLOR,
            extra=f'transform="rotate(-90 {_f(PAD + 6)} {_f(ymid)})"',
        )
    )
    y = bottom + 46

    if show_key:
        col_w = (WIDTH - 2 * PAD) / 2
        keyed = sorted(points, key=lambda p: _clean(p.code))
        per_col = math.ceil(len(keyed) / 2)
        code_w = max(_text_width(_clean(p.code), 11, bold=True) for p in keyed) + 12
        code_w = min(code_w, 96)
        col_bottoms = []
        for col in range(2):
            ky = y + 20
            for p in keyed[col * per_col : (col + 1) * per_col]:
                kx = PAD + col * col_w
                parts.append(
                    _text(
                        kx, ky, _fit(_clean(p.code), code_w - 10, 11, bold=True), size=11, bold=True
                    )
                )
                name = _clean(p.label) + ("" if p in shown else " (not shown)")
                lines = _wrap(name, col_w - code_w - 16, 11)
                for j, line in enumerate(lines):
                    parts.append(
                        _text(
                            kx + code_w,
                            ky + j * 14,
                            line,
                            size=11,
                            fill=TEXT_COLOR if p in shown else MUTED_COLOR,
                        )
                    )
                ky += 14 * len(lines) + 4
            col_bottoms.append(ky)
        y = max(col_bottoms) - 8
    elif hidden:
        note = "Not shown (suppressed): " + ", ".join(_clean(p.label) for p in hidden)
        parts.append(
            _text(
                PAD, y + 12, _fit(note, WIDTH - 2 * PAD, 11), size=11, italic=True, fill=MUTED_COLOR
            )
        )
        y += 20
    height = y + 6

    def quadrant(p: IPPoint) -> str:
        high_imp = (_num(p.importance) or 0.0) >= icut
        high_perf = (_num(p.performance) or 0.0) >= pcut
        if high_imp:
            return "keep" if high_perf else "concentrate"
        return "overkill" if high_perf else "low"

    summary = []
    for key, name in _QUADRANTS.items():
        members = [_clean(p.label) for p in shown if quadrant(p) == key]
        if members:
            summary.append(f"{name}: {', '.join(members)}.")
    if hidden:
        summary.append("Not shown: " + ", ".join(_clean(p.label) for p in hidden) + ".")
    desc = (
        f"Importance-performance chart of {len(shown)} dimension"
        f"{'s' if len(shown) != 1 else ''}: performance as rated by CX professionals "
        f"(0 to {_fmt_tick(scale_max)}) against importance (0 to 1), quadrants split at "
        f"performance {_fmt_tick(pcut)} and importance {icut:.2f}. " + " ".join(summary)
    )
    return _svg("ipa", WIDTH, height, title, desc, "".join(parts))


# --------------------------------------------------------------------------- 4. distribution

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
    labels = [_clean(lab) for lab in labels]
    title = _clean(title)
    width = 300.0

    def usable(counts: Sequence[int] | None) -> list[int] | None:
        if counts is None or len(counts) == 0:
            return None
        return [max(int(c), 0) for c in counts][: len(labels)] + [0] * (len(labels) - len(counts))

    ex, cx = usable(counts_exec), usable(counts_cx)
    if not labels or (ex is None and cx is None):
        return _no_data("distribution", "", "No data", width=width)
    palette = list(colors) if colors and len(colors) >= len(labels) else _scale_colours(labels)

    bar_x0, bar_x1 = 44.0, width - 44
    bar_h, gap = 16.0, 6.0
    parts: list[str] = []
    desc_rows = []
    for i, (name, short, shape, colour, counts) in enumerate(
        (
            ("Executives", "Exec", "circle", EXEC_COLOR, ex),
            ("CX professionals", "CX", "diamond", CX_COLOR, cx),
        )
    ):
        top = 4 + i * (bar_h + gap)
        cy = top + bar_h / 2
        parts.append(_marker(shape, 6, cy, colour, size=4, outline=colour, cls="legend-marker"))
        parts.append(_text(14, cy + 4, short, size=11, fill=TEXT_COLOR))
        total = sum(counts) if counts else 0
        if counts is None or total == 0:
            text = "suppressed" if counts is None else "no answers"
            parts.append(_rect(bar_x0, top, bar_x1 - bar_x0, bar_h, "#ffffff", stroke=GRID_COLOR))
            parts.append(
                _text(
                    (bar_x0 + bar_x1) / 2,
                    cy + 4,
                    text,
                    size=10,
                    anchor="middle",
                    italic=True,
                    fill=MUTED_COLOR,
                    cls="suppressed",
                )
            )
            parts.append(_text(width - 2, cy + 4, EM_DASH, size=10, anchor="end", fill=MUTED_COLOR))
            desc_rows.append(f"{name}: {text}.")
            continue
        x = bar_x0
        shares = []
        for lab, count, fill in zip(labels, counts, palette, strict=False):
            share = count / total
            w = (bar_x1 - bar_x0) * share
            if count:
                tip = f"{name} {EM_DASH} {lab}: {count} ({share:.0%})"
                seg = _rect(x, top, w, bar_h, fill, cls="segment", extra=f'data-count="{count}"')
                label = ""
                pct = f"{share:.0%}"
                if w >= _text_width(pct, 9.5) + 4:
                    label = _text(
                        x + w / 2,
                        cy + 3.5,
                        pct,
                        size=9.5,
                        anchor="middle",
                        fill=TEXT_COLOR if _is_light(fill) else "#ffffff",
                    )
                parts.append(f"<g><title>{_esc(tip)}</title>{seg}{label}</g>")
            shares.append(f"{lab} {share:.0%}")
            x += w
        parts.append(_rect(bar_x0, top, bar_x1 - bar_x0, bar_h, "none", stroke="#c9d0d7"))
        parts.append(
            _text(width - 2, cy + 4, f"n={total}", size=10, anchor="end", fill=MUTED_COLOR)
        )
        desc_rows.append(f"{name} (n={total}): {', '.join(shares)}.")
    height = 4 + 2 * bar_h + gap + 4
    desc = f"{title}. " + " ".join(desc_rows)
    return _svg("distribution", width, height, title, desc, "".join(parts))


def distribution_legend(
    labels: Sequence[str], *, colors: Sequence[str] | None = None, width: float = 300
) -> Markup:
    """The key for :func:`distribution_bar` (one per table, not per row)."""
    labels = [_clean(lab) for lab in labels]
    if not labels:
        return _no_data("distribution-legend", "", "No data", width=width)
    palette = list(colors) if colors and len(colors) >= len(labels) else _scale_colours(labels)
    legend, h = _legend(
        [("band", c, lab) for lab, c in zip(labels, palette, strict=False)], 2, 2, width - 4
    )
    desc = "Answer categories, in scale order: " + ", ".join(labels) + "."
    return _svg("distribution-legend", width, h + 4, "Answer categories", desc, legend)


# --------------------------------------------------------------------------- 5. trend

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
    waves = [_clean(w) for w in wave_labels]
    title, y_label = _clean(title), _clean(y_label)
    has_values = any(_num(v) is not None for s in series for v in list(s.values)[: len(waves)])
    if not series or not waves or not has_values:
        return _no_data("trend", title)
    if y_max <= y_min:
        y_min, y_max = 0.0, 100.0

    styles: list[tuple[str, str]] = []
    other = 0
    for s in series:
        if s.group == "executive":
            styles.append((EXEC_COLOR, "circle"))
        elif s.group == "cx_professional":
            styles.append((CX_COLOR, "diamond"))
        else:
            styles.append(_SERIES_STYLES[other % len(_SERIES_STYLES)])
            other += 1

    parts = [_text(PAD, 24, title, size=15, bold=True, cls="chart-title")]
    y = 38.0
    if show_legend and len(series) > 1:
        legend, legend_h = _legend(
            [
                (shape, colour, _clean(s.label))
                for s, (colour, shape) in zip(series, styles, strict=True)
            ],
            PAD,
            y,
            WIDTH - 2 * PAD,
        )
        parts.append(legend)
        y += legend_h + 4
    multi = len(series) > 1
    left, right = 76.0, WIDTH - (60.0 if multi else 24.0)
    top = y + 12
    plot_h = 220.0
    bottom = top + plot_h
    step_x = (right - left) / len(waves)

    def sx(i: int) -> float:
        return left + step_x * (i + 0.5)

    def sy(v: float) -> float:
        return bottom - plot_h * (_clamp(v, y_min, y_max) - y_min) / (y_max - y_min)

    ystep = _nice_step(y_max - y_min, 5)
    t = math.ceil(y_min / ystep) * ystep
    while t <= y_max + 1e-9:
        gy = sy(t)
        parts.append(
            _line(left, gy, right, gy, GRID_COLOR if t > y_min else AXIS_COLOR, 1, cls="gridline")
        )
        parts.append(_text(left - 8, gy + 4, _fmt_tick(t), size=11, anchor="end", fill=MUTED_COLOR))
        t += ystep
    max_lines = 1
    for i, wave in enumerate(waves):
        lines = _wrap(wave, step_x - 8, 11)
        max_lines = max(max_lines, len(lines))
        for j, line in enumerate(lines):
            parts.append(
                _text(sx(i), bottom + 17 + j * 13, line, size=11, anchor="middle", fill=MUTED_COLOR)
            )
    ymid = (top + bottom) / 2
    parts.append(
        _text(
            PAD + 6,
            ymid,
            _fit(y_label, plot_h, 12),
            size=12,
            anchor="middle",
            extra=f'transform="rotate(-90 {_f(PAD + 6)} {_f(ymid)})"',
        )
    )

    end_labels = []
    desc_rows = []
    mixed = any(s.group in ("executive", "cx_professional") for s in series)
    for s, (colour, shape) in zip(series, styles, strict=True):
        dash = (
            ' stroke-dasharray="6 4"'
            if mixed and s.group not in ("executive", "cx_professional")
            else ""
        )
        values = [_num(v) for v in list(s.values)[: len(waves)]]
        values += [None] * (len(waves) - len(values))
        segment: list[str] = []
        for i, v in enumerate([*values, None]):
            if v is not None:
                segment.append(f"{_f(sx(i))},{_f(sy(v))}")
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
                _marker(
                    shape, sx(i), sy(v), colour, size=5, cls="marker", extra=f'data-value="{_f(v)}"'
                )
            )
            if not multi:
                parts.append(
                    _text(
                        sx(i),
                        sy(v) - 11,
                        _fmt(v),
                        size=11,
                        anchor="middle",
                        bold=i == max(k for k, w in enumerate(values) if w is not None),
                        fill=TEXT_COLOR,
                    )
                )
        last = max((i for i, v in enumerate(values) if v is not None), default=None)
        if multi and last is not None:
            end_labels.append(
                [sy(values[last] or 0.0), sx(last), _fmt(values[last] or 0.0), colour]
            )
        points = ", ".join(
            f"{waves[i]} {_fmt(v) if v is not None else 'no data'}" for i, v in enumerate(values)
        )
        desc_rows.append(f"{_clean(s.label)}: {points}.")
    # Spread end labels vertically so they never collide.
    end_labels.sort(key=lambda e: e[0])
    for k in range(1, len(end_labels)):
        if end_labels[k][0] - end_labels[k - 1][0] < 13:
            end_labels[k][0] = end_labels[k - 1][0] + 13
    for ly, lx, text, colour in end_labels:
        parts.append(
            _text(
                lx + 10,
                ly + 4,
                text,
                size=11,
                bold=True,
                fill=_CX_TEXT if colour == CX_COLOR else colour,
            )
        )
    height = bottom + 17 + max_lines * 13 + 6
    desc = (
        f"Line chart of {y_label} across {len(waves)} survey wave"
        f"{'s' if len(waves) != 1 else ''} ({_fmt_tick(y_min)} to {_fmt_tick(y_max)}). "
        + " ".join(desc_rows)
    )
    return _svg("trend", WIDTH, height, title, desc, "".join(parts))
