"""Which export files exist, how each is built and named, and the audit of every download.

The web routes and ``cxalign export`` both call :func:`build_export` and then
:func:`record_export`, so the files and the audit trail are the same whichever way
someone asks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from cxalign.analysis import SurveyAnalysis, analyse_survey, results_document
from cxalign.audit import audit
from cxalign.exports import tables as t
from cxalign.exports import writers as w
from cxalign.models import Survey, User, utcnow


@dataclass(frozen=True)
class ExportKind:
    what: str
    formats: tuple[str, ...]
    title: str
    description: str
    personal: bool  # may hold personal data (answers of identifiable people)


EXPORTS: dict[str, ExportKind] = {
    "responses": ExportKind(
        "responses",
        ("xlsx", "csv"),
        "Responses",
        "One row per respondent: each item's answer (1 to the scale's points, DK for "
        "“don't know”, empty when skipped), comments, status and when they started and "
        "completed.",
        personal=True,
    ),
    "responses-import": ExportKind(
        "responses-import",
        ("csv",),
        "Responses in import format",
        "The completed questionnaires that the results count, with exactly the columns "
        "that the response import (cxalign import-responses) reads: import it into a new "
        "wave of the same instrument to reproduce the figures.",
        personal=True,
    ),
    "results": ExportKind(
        "results",
        ("xlsx", "csv"),
        "Gap analysis",
        "Every dimension and item with both groups' n, mean, SD and “don't know” share, "
        "the gap in points and POMP, its confidence interval, effect size, p and q, the "
        "classification and the priority: the dashboard's own figures.",
        personal=False,
    ),
    "survey": ExportKind(
        "survey",
        ("json",),
        "Whole survey",
        "Settings, the instrument with both wordings, respondents, answers, comments and "
        "the gap analysis in one JSON document, for archiving or other tools.",
        personal=True,
    ),
}
MIMETYPES = {"csv": w.CSV_MIMETYPE, "xlsx": w.XLSX_MIMETYPE, "json": w.JSON_MIMETYPE}


class ExportError(ValueError):
    """An export that does not exist, with a reason fit to show."""


@dataclass(frozen=True)
class ExportFile:
    what: str
    format: str
    filename: str
    mimetype: str
    data: bytes
    rows: int  # respondents (responses, survey) or dimension and item rows (results)
    identities: bool  # emails, names or import ids are in the file
    withheld: tuple[t.Withheld, ...]


def check_kind(what: str, fmt: str) -> ExportKind:
    kind = EXPORTS.get(what)
    if kind is None:
        raise ExportError(f"Unknown export {what!r}: choose one of {', '.join(EXPORTS)}.")
    if fmt not in kind.formats:
        raise ExportError(
            f"The {what} export is written as {' or '.join(kind.formats)}, not {fmt!r}."
        )
    return kind


def slug(text: str, fallback: str = "survey") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or fallback


def export_filename(survey: Survey, what: str, fmt: str, today) -> str:
    """``cxalign-<organisation>-<survey>-<what>-<YYYY-MM-DD>.<format>`` in plain ASCII."""
    organisation = slug(survey.organisation.name, "organisation")
    return f"cxalign-{organisation}-{slug(survey.title)}-{what}-{today:%Y-%m-%d}.{fmt}"


RESPONSES_ABOUT = [
    "cxalign responses export",
    "One row per respondent. Item columns hold the answer as given (before any reverse "
    "coding): 1 to the number of scale points, DK for “don't know”, empty when skipped.",
    "Comment columns are named by open-question code; the Questions sheet gives every "
    "code's wording for executives and CX professionals.",
    "status: started (answered some pages) or completed (counted in the results). Times are UTC.",
    "Text beginning with = + - @ is prefixed with ' so that no spreadsheet runs it as a formula.",
]
RESULTS_ABOUT = [
    "cxalign gap analysis export",
    "The same scoring result as the dashboard, the PDF and the results API. Means are in "
    "scale points after reverse coding (higher = more favourable); *_pomp columns are "
    "percent of maximum possible (0-100). gap = executives minus CX professionals.",
    "Empty cells: no value (e.g. a group below its anonymity threshold shows no figures, "
    "a test that could not run has no p). docs/methodology.md defines every figure.",
]


def build_export(
    survey: Survey,
    what: str,
    fmt: str,
    *,
    now: datetime | None = None,
    analysis: SurveyAnalysis | None = None,
) -> ExportFile:
    """Build one export file of the survey. Raises :class:`ExportError` for a bad choice."""
    check_kind(what, fmt)
    now = now or utcnow()
    analysis = analysis or analyse_survey(survey)
    identities = False
    withheld: tuple[t.Withheld, ...] = ()
    if what == "results":
        document = results_document(survey, analysis)
        table = t.results_table(document, analysis.instrument)
        rows = len(table.rows)
        if fmt == "csv":
            data = w.write_csv(table)
        else:
            data = w.write_xlsx(
                [
                    t.summary_table(document),
                    table,
                    t.about_table("About this file", RESULTS_ABOUT, None),
                ],
                widths={"Summary": (30, 80), "Results": (11, 12, 18, 28), "About": (120,)},
            )
    else:
        survey_data = t.survey_data(survey, analysis)
        identities = survey_data.identities
        withheld = survey_data.withheld
        if what == "survey":
            data = w.write_json(t.survey_document(survey, survey_data, exported_at=now))
            rows = len(survey_data.respondents)
        else:
            table = t.responses_table(survey_data, import_format=what == "responses-import")
            identities = identities and what == "responses"
            rows = len(table.rows)
            if fmt == "csv":
                data = w.write_csv(table)
            else:
                data = w.write_xlsx(
                    [
                        table,
                        t.questions_table(survey, survey_data),
                        t.about_table("About this file", RESPONSES_ABOUT, survey_data),
                    ],
                    widths={"Responses": (16, 16), "Questions": (18, 22, 12, 24, 60, 60, 40)},
                )
    return ExportFile(
        what=what,
        format=fmt,
        filename=export_filename(survey, what, fmt, now.date()),
        mimetype=MIMETYPES[fmt],
        data=data,
        rows=rows,
        identities=identities,
        withheld=withheld,
    )


def record_export(survey: Survey, export: ExportFile, *, user: User | None, via: str) -> None:
    """Audit a download: who took which file of which survey, never its contents."""
    audit(
        survey.organisation_id,
        user,
        "survey.exported",
        f"survey:{survey.id}",
        what=export.what,
        format=export.format,
        rows=export.rows,
        identities=export.identities,
        withheld=sorted({w.what for w in export.withheld}),
        bytes=len(export.data),
        via=via,
    )
