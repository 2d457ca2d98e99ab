"""CLI commands of the results feature, added to the ``cxalign`` group.

    flask --app app cxalign import-responses 7 answers.csv
    flask --app app cxalign score 7 --json

``import-responses`` prints what it added and, on the last line, the number of
respondents imported; on a bad file it lists every problem (line and column) on stderr,
imports nothing and exits 1. ``score --json`` prints exactly what
``GET /api/v1/surveys/<id>/results`` returns; without ``--json`` a short summary whose
last line is the alignment index.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxalign.cli import RECORD_ID, cli, fail
from cxalign.extensions import db
from cxalign.models import Survey

# At most this many problems are listed; the rest are counted.
MAX_LISTED_PROBLEMS = 50
TOP_PRIORITIES = 5


def find_survey(survey_id: int) -> Survey:
    """The survey with this id; stops the command with a one-line reason if there is none."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        fail(f"no survey with id {survey_id}")
    return survey


@cli.command("import-responses")
@click.argument("survey_id", type=RECORD_ID)
@click.argument("csv_path", metavar="FILE.csv")
def import_responses_command(survey_id: int, csv_path: str) -> None:
    """Import completed questionnaires from a CSV file, all or nothing (see docs/api.md)."""
    from cxalign.analysis.importer import ResponseImportError, import_responses

    survey = find_survey(survey_id)
    try:
        data = Path(csv_path).read_bytes()
    except OSError as error:
        fail(f"cannot read {csv_path}: {error.strerror or error}")
    try:
        summary = import_responses(survey, data)
    except ResponseImportError as error:
        db.session.rollback()
        for problem in error.errors[:MAX_LISTED_PROBLEMS]:
            click.echo(str(problem), err=True)
        hidden = len(error.errors) - MAX_LISTED_PROBLEMS
        if hidden > 0:
            click.echo(f"... and {hidden:,} more", err=True)
        fail(str(error))
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    click.echo(f"Imported into survey {survey.id} ({survey.title}): {summary.describe()}.")
    click.echo(summary.respondents)


@cli.command("score")
@click.argument("survey_id", type=RECORD_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def score_command(survey_id: int, as_json: bool) -> None:
    """Score a survey: a short summary, or with --json the full result (as the API)."""
    from cxalign.analysis import analyse_survey, results_document

    survey = find_survey(survey_id)
    analysis = analyse_survey(survey)
    if as_json:
        click.echo(json.dumps(results_document(survey, analysis), indent=2))
        return
    for line in summary_lines(survey, analysis.result):
        click.echo(line)


def summary_lines(survey: Survey, result) -> list[str]:
    """The human summary of ``score``: who answered, top priorities, then the index."""
    lines = [f"{survey.title} (survey {survey.id}, {survey.organisation.name}, {survey.status})"]
    for group in result.groups:
        shown = "shown" if group.visible else f"hidden: {group.reason or 'below threshold'}"
        lines.append(
            f"{group.label}: {group.n_responding:,} responding of {group.n:,} completed "
            f"(anonymity threshold {group.threshold}; {shown})"
        )
    priorities = result.priorities[:TOP_PRIORITIES]
    if priorities:
        lines.append(f"Top {len(priorities)} priorities:")
        for entry in priorities:
            lines.append(
                f"  {entry.rank}. {entry.name} ({entry.dimension}): {entry.classification}, "
                f"gap {entry.gap_pomp:+.1f} POMP, {entry.confidence}; "
                f"priority {entry.priority_score:.1f}"
            )
    else:
        lines.append("No priorities yet.")
    alignment = result.alignment
    if alignment.index is None:
        lines.append(f"Alignment index: not available. {alignment.reading}".rstrip())
    else:
        band = f" ({alignment.band})" if alignment.band else ""
        lines.append(f"Alignment index: {alignment.index:.1f}{band}")
    return lines
