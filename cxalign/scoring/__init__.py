"""Gap analysis between executives and CX professionals: pure functions, numpy and scipy only.

Public API::

    from cxalign.scoring import AnswerMatrix, ScoringSettings, score_survey

    result = score_survey(instrument, answers, ScoringSettings(anonymity_executive=1))
    result.to_dict()            # what `score --json` and the results API return
    result.suppressed("executive")

Every figure is defined, with its source, in ``docs/methodology.md``.
"""

from __future__ import annotations

from cxalign.scoring.engine import score_survey
from cxalign.scoring.model import (
    CLASSIFICATIONS,
    CONFIDENCE_LABELS,
    DONT_KNOW,
    GROUPS,
    LEVELS,
    METHOD_VERSION,
    AlignmentResult,
    AnswerMatrix,
    DimensionGroupStats,
    DimensionResult,
    GapResult,
    GroupsSummary,
    GroupSummary,
    InstrumentRef,
    ItemGroupStats,
    ItemResult,
    Note,
    PriorityEntry,
    Reliability,
    ScoringSettings,
    Thresholds,
)

__all__ = [
    "CLASSIFICATIONS",
    "CONFIDENCE_LABELS",
    "DONT_KNOW",
    "GROUPS",
    "LEVELS",
    "METHOD_VERSION",
    "AlignmentResult",
    "AnswerMatrix",
    "DimensionGroupStats",
    "DimensionResult",
    "GapResult",
    "GroupSummary",
    "GroupsSummary",
    "InstrumentRef",
    "ItemGroupStats",
    "ItemResult",
    "Note",
    "PriorityEntry",
    "Reliability",
    "ScoringSettings",
    "Thresholds",
    "score_survey",
]
