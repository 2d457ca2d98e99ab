"""Answers in, analysis out: everything between the stored answers and a finding.

- ``survey``: a survey's answers loaded from the database and scored
  (:func:`analyse_survey`), the single source of every result.
- ``trends``: how the alignment index and each gap moved across a series' waves.
- ``series``: which surveys form a series, in wave order.
- ``importer``: answers collected elsewhere, imported from CSV.
- ``commands``: ``cxalign score`` and ``cxalign import-responses``.

The statistics themselves are pure (``cxalign.scoring``, numpy and scipy only).
"""

from cxalign.analysis.survey import (
    COUNTED_STATUSES,
    CommentGroup,
    SurveyAnalysis,
    analyse_survey,
    data_version,
    load_answers,
    load_comments,
    results_document,
    scoring_settings,
    survey_summary,
)

__all__ = [
    "COUNTED_STATUSES",
    "CommentGroup",
    "SurveyAnalysis",
    "analyse_survey",
    "data_version",
    "load_answers",
    "load_comments",
    "results_document",
    "scoring_settings",
    "survey_summary",
]
