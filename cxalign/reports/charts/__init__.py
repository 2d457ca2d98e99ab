"""Server-side SVG charts for the gap report: one module per kind of chart.

Every function here is pure: plain dataclasses of primitive values in, an SVG
string (wrapped in :class:`markupsafe.Markup` so Jinja embeds it as is) out.
The same markup serves the dashboard and the PDF (WeasyPrint renders inline
SVG), so the two can never disagree.

Modules:

* :mod:`~cxalign.reports.charts.dumbbell`: executive vs CX score per dimension.
* :mod:`~cxalign.reports.charts.gaps`: the diverging gap chart.
* :mod:`~cxalign.reports.charts.importance_performance`: the importance-performance map.
* :mod:`~cxalign.reports.charts.distribution`: answer distributions per item.
* :mod:`~cxalign.reports.charts.trend`: lines across survey waves.
* :mod:`~cxalign.reports.charts.svg`: escaping, text fitting, numbers, SVG primitives.
* :mod:`~cxalign.reports.charts.palette`: the colours and labels that carry meaning.

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

from cxalign.reports.charts.distribution import distribution_bar, distribution_legend
from cxalign.reports.charts.dumbbell import DumbbellRow, dumbbell_chart
from cxalign.reports.charts.gaps import GapBar, diverging_gap_chart
from cxalign.reports.charts.importance_performance import IPPoint, importance_performance_chart
from cxalign.reports.charts.palette import (
    BLIND_SPOT_COLOR,
    CX_COLOR,
    EXEC_COLOR,
    HIDDEN_STRENGTH_COLOR,
    SHARED_COLOR,
)
from cxalign.reports.charts.svg import MINUS, format_signed
from cxalign.reports.charts.trend import TrendSeries, trend_line_chart

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
