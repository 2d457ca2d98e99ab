"""Shared SVG helpers: escaping, text measuring, number formatting, primitives.

These functions and constants are the chart package's internal API: every
chart module calls them as ``svg.text(...)``, ``svg.legend(...)`` and so on.
They are not meant for use outside :mod:`cxalign.reports.charts` (except
:func:`format_signed` and :data:`MINUS`, which the package re-exports).
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from collections.abc import Sequence

from markupsafe import Markup, escape

MINUS = "\u2212"
EN_DASH = "\u2013"
EM_DASH = "\u2014"
ELLIPSIS = "\u2026"

WIDTH = 720
PAD = 16

# The neutral ink every chart draws with; colours that carry meaning are in palette.py.
TEXT_COLOR = "#1d2733"
MUTED_COLOR = "#5f6b7a"
GRID_COLOR = "#e3e7eb"
GUIDE_COLOR = "#eef1f4"
AXIS_COLOR = "#9aa3ad"

# --------------------------------------------------------------------------- text helpers

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(value: object) -> str:
    """XML-escape any value as plain text (a ``Markup`` input is escaped too)."""
    text = _INVALID_XML.sub("", str(value))
    return str(escape(text))


def clean(value: object) -> str:
    """Collapse whitespace in a label (newlines would otherwise vanish in SVG)."""
    return " ".join(str(value).split())


# fmt: off
# Advance widths in em, modelled on DejaVu Sans (wider than Arial/Helvetica, so
# estimates err on the safe side whatever font the page provides).
_LETTERS = dict(
    zip(
        string.ascii_lowercase + string.ascii_uppercase,
        (
            0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278,  # a-j
            0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392,  # k-t
            0.634, 0.592, 0.818, 0.592, 0.592, 0.525,                              # u-z
            0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295,  # A-J
            0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611,  # K-T
            0.732, 0.684, 0.989, 0.685, 0.611, 0.685,                              # U-Z
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


def text_width(text: str, size: float, bold: bool = False) -> float:
    em = 0.0
    for ch in text:
        if ch in _LETTERS:
            em += _LETTERS[ch]
        elif ch.isdigit():
            em += 0.636
        else:
            em += _PUNCT.get(ch, 0.7)
    return em * size * (1.14 if bold else 1.0)


def fit(text: str, max_width: float, size: float, bold: bool = False) -> str:
    """Shorten ``text`` with an ellipsis so that it fits in ``max_width``."""
    if text_width(text, size, bold) <= max_width:
        return text
    while text and text_width(text + ELLIPSIS, size, bold) > max_width:
        text = text[:-1]
    return text.rstrip(" ,;:-") + ELLIPSIS


def wrap(
    text: str, max_width: float, size: float, max_lines: int = 2, bold: bool = False
) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines; the last is ellipsised."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold) > max_width:
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
    return [fit(line, max_width, size, bold) for line in lines]


# --------------------------------------------------------------------------- number helpers


def num(value: float | None) -> float | None:
    """``None`` for missing or non-finite values, else a float."""
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def compact(value: float) -> str:
    """Compact coordinate formatting."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt(value: float, decimals: int = 0) -> str:
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


def fmt_tick(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return fmt(value, 0)
    return fmt(value, 2 if abs(value) < 1 else 1)


def nice_step(span: float, max_ticks: int) -> float:
    """A 1-2-2.5-5 step that splits ``span`` into at most ``max_ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / max_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if mult * power >= raw - 1e-12:
            return mult * power
    return 10 * power  # pragma: no cover


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --------------------------------------------------------------------------- svg primitives


def text(
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
    attrs = [
        f'x="{compact(x)}"',
        f'y="{compact(y)}"',
        f'font-size="{compact(size)}"',
        f'fill="{fill}"',
    ]
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
    return f"<text {' '.join(attrs)}>{esc(content)}</text>"


def vertical_text(x: float, y: float, content: str, *, size: float = 12) -> str:
    """Text turned a quarter anticlockwise about (x, y): the title of a y axis."""
    rotate = f'transform="rotate(-90 {compact(x)} {compact(y)})"'
    return text(x, y, content, size=size, anchor="middle", extra=rotate)


def suppressed(
    x: float, y: float, message: str = "suppressed", *, size: float = 11, anchor: str = "start"
) -> str:
    """The italic grey note drawn where a group is suppressed (or has no answers)."""
    return text(
        x, y, message, size=size, anchor=anchor, italic=True, fill=MUTED_COLOR, cls="suppressed"
    )


# line, rect and marker share the shape of their signatures, not their markup: kept apart.
def line(
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
        f'<line x1="{compact(x1)}" y1="{compact(y1)}" x2="{compact(x2)}" y2="{compact(y2)}" '
        f'stroke="{stroke}" stroke-width="{compact(width)}"{extra}/>'
    )


def rect(
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
    attrs = f'x="{compact(x)}" y="{compact(y)}" '
    attrs += f'width="{compact(max(w, 0))}" height="{compact(max(h, 0))}" fill="{fill}"'
    if stroke:
        attrs += f' stroke="{stroke}" stroke-width="1"'
    if rx:
        attrs += f' rx="{compact(rx)}"'
    if cls:
        attrs += f' class="{cls}"'
    if extra:
        attrs += f" {extra}"
    return f"<rect {attrs}/>"


def marker(
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
        return f'<circle cx="{compact(x)}" cy="{compact(y)}" r="{compact(size)}" {common}/>'
    if shape == "diamond":
        d = size * 1.3
        corners = [(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
    elif shape == "square":
        s = size * 0.9
        corners = [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    elif shape == "triangle_up":
        s = size * 1.2
        corners = [(x, y - s), (x + s, y + s * 0.75), (x - s, y + s * 0.75)]
    elif shape == "triangle_down":
        s = size * 1.2
        corners = [(x - s, y - s * 0.75), (x + s, y - s * 0.75), (x, y + s)]
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown marker shape {shape!r}")
    pts = " ".join(f"{compact(px)},{compact(py)}" for px, py in corners)
    return f'<polygon points="{pts}" {common}/>'


def chart(kind: str, width: float, height: float, title: str, desc: str, body: str) -> Markup:
    digest = hashlib.sha1(f"{kind}\0{title}\0{desc}\0{body}".encode()).hexdigest()[:10]
    uid = f"cxchart-{digest}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cx-chart cx-chart-{kind}" '
        f'viewBox="0 0 {compact(width)} {compact(math.ceil(height))}" width="100%" '
        f'preserveAspectRatio="xMidYMin meet" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="inherit">'
        f'<title id="{uid}-title">{esc(clean(title))}</title>'
        f'<desc id="{uid}-desc">{esc(desc)}</desc>'
    )
    return Markup(head + body + "</svg>")


def no_data(kind: str, title: str, message: str = "No data", width: float = WIDTH) -> Markup:
    title = clean(title)
    height = 96 if title else 64
    parts = []
    if title:
        parts.append(text(PAD, 24, title, size=15, bold=True))
    top = 36 if title else 8
    parts.append(
        rect(PAD, top, width - 2 * PAD, height - top - 8, "#f7f8fa", stroke=GRID_COLOR, rx=4)
    )
    parts.append(
        text(
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
    return chart(kind, width, height, title or message, desc, "".join(parts))


def legend(
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
        label_w = text_width(label, size)
        swatch_w = 30 if kind in ("line", "whisker", "bold") else 14
        item_w = swatch_w + 6 + label_w
        if cx > x and cx + item_w > x + max_width:
            cx = x
            cy += row_h
        mid = cy + row_h / 2 - 2
        if kind == "line":
            parts.append(line(cx + 1, mid, cx + swatch_w - 1, mid, colour, 3, cap="round"))
        elif kind == "whisker":
            parts.append(line(cx + 2, mid, cx + swatch_w - 2, mid, colour, 1.25))
            parts.append(line(cx + 2, mid - 4, cx + 2, mid + 4, colour, 1.25))
            right = cx + swatch_w - 2
            parts.append(line(right, mid - 4, right, mid + 4, colour, 1.25))
        elif kind == "band":
            parts.append(rect(cx, mid - 7, swatch_w, 14, colour, stroke="#d5dae0"))
        elif kind == "bar":
            parts.append(rect(cx, mid - 6, swatch_w, 12, colour, rx=1.5))
        elif kind == "bold":
            parts.append(
                text(
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
            parts.append(marker(kind, cx + swatch_w / 2, mid, colour, size=5, cls="legend-marker"))
        parts.append(text(cx + swatch_w + 6, mid + size * 0.36, label, size=size, fill=MUTED_COLOR))
        cx += item_w + 18
    parts.append("</g>")
    return "".join(parts), (cy - y) + row_h


def label_lines(
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
        text(x, first + i * line_h, line, size=size, anchor=anchor, fill=fill, bold=bold)
        for i, line in enumerate(lines)
    ]
    if full is not None and " ".join(lines) != full:
        return f"<g><title>{esc(full)}</title>{''.join(parts)}</g>"
    return "".join(parts)
