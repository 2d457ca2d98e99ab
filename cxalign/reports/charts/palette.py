"""Colours and labels that carry meaning in every chart.

Executives are a deep blue circle, CX professionals an amber diamond; gaps are
coloured by classification (blind spot red, hidden strength teal, shared view
grey). The ``*_TEXT`` variants are darker, for text in those colours.
"""

from __future__ import annotations

from cxalign.reports.charts.svg import TEXT_COLOR

EXEC_COLOR = "#1f4e79"
CX_COLOR = "#d9822b"
BLIND_SPOT_COLOR = "#c0392b"
HIDDEN_STRENGTH_COLOR = "#16a085"
SHARED_COLOR = "#8d96a0"

# Darker variants with >= 4.5:1 contrast on white, for text in those colours.
BLIND_SPOT_TEXT = "#a93226"
HIDDEN_STRENGTH_TEXT = "#0e6655"
CX_TEXT = "#a35c12"

BAND_COLOR = "#eceff3"
FOCUS_TINT = "#fbf0ee"
UNCLASSIFIED_COLOR = "#4a5866"

CLASSIFICATION_LABELS = {
    "blind_spot": "Blind spot",
    "hidden_strength": "Hidden strength",
    "shared_strength": "Shared strength",
    "shared_weakness": "Shared weakness",
}
LEVEL_LABELS = {"none": "no notable gap", "notable": "notable gap", "major": "major gap"}

CLASS_COLORS = {
    "blind_spot": BLIND_SPOT_COLOR,
    "hidden_strength": HIDDEN_STRENGTH_COLOR,
    "shared_strength": SHARED_COLOR,
    "shared_weakness": SHARED_COLOR,
}
CLASS_TEXT_COLORS = {
    "blind_spot": BLIND_SPOT_TEXT,
    "hidden_strength": HIDDEN_STRENGTH_TEXT,
}


def classification_colour(classification: str | None) -> str:
    return CLASS_COLORS.get(classification or "", SHARED_COLOR)


def classification_text_colour(classification: str | None) -> str:
    return CLASS_TEXT_COLORS.get(classification or "", TEXT_COLOR)


def describe_class(classification: str | None, level: str | None) -> str:
    bits = []
    if classification in CLASSIFICATION_LABELS:
        bits.append(CLASSIFICATION_LABELS[classification].lower())
    if level in ("notable", "major"):
        bits.append(LEVEL_LABELS[level])
    return ", ".join(bits)
