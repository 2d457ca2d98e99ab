"""CLI commands for exports and data protection, added to the ``cxalign`` group.

    flask --app app cxalign export 7 --what responses --format xlsx -o wave1.xlsx
    flask --app app cxalign purge-personal-data --dry-run      # what cron would purge
    flask --app app cxalign purge-personal-data                # purge every survey due
    flask --app app cxalign purge-personal-data --survey 7     # one survey (if allowed)

``export`` prints what it wrote and, on the last line, the file's path. Bad input gives
a one-line reason on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from cxalign.cli import cli, fail
from cxalign.extensions import db
from cxalign.models import Survey
from cxalign.security import record_id


def _survey(reference: str) -> Survey:
    if (survey_id := record_id(reference)) is None:
        fail(f"SURVEY must be a survey id (a whole number), not {reference!r}.")
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        fail(f"no survey with id {reference}.")
    return survey


@cli.command("export")
@click.argument("survey_id", metavar="SURVEY")
@click.option(
    "--what",
    required=True,
    help="responses: one row per respondent; responses-import: the import format; "
    "results: the gap analysis; survey: everything as JSON.",
)
@click.option(
    "--format",
    "fmt",
    help="File format (default: xlsx, or json for --what survey, csv for responses-import).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file.",
)
def export_command(survey_id: str, what: str, fmt: str | None, output: Path) -> None:
    """Write an export of SURVEY (its id) to a file, with the same rules as the Data page."""
    from cxalign.exports.files import EXPORTS, ExportError, build_export, check_kind, record_export

    what = what.strip().lower()
    if what not in EXPORTS:
        fail(f"unknown --what {what!r}: choose one of {', '.join(EXPORTS)}.")
    fmt = (fmt or EXPORTS[what].formats[0]).strip().lower()
    try:
        check_kind(what, fmt)
    except ExportError as error:
        fail(str(error))
    survey = _survey(survey_id)
    try:
        export = build_export(survey, what, fmt)
    except ExportError as error:
        fail(str(error))
    try:
        output.write_bytes(export.data)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}.")
    record_export(survey, export, user=None, via="cli")
    db.session.commit()
    click.echo(
        f"Wrote the {what} export of “{survey.title}” as {fmt.upper()} "
        f"({export.rows:,} rows, {len(export.data):,} bytes)."
    )
    for withheld in export.withheld:
        click.echo(f"Withheld: {withheld.reason}")
    click.echo(str(output))


@cli.command("purge-personal-data")
@click.option("--survey", "survey_id", metavar="SURVEY", help="Purge only this survey.")
@click.option("--dry-run", is_flag=True, help="Say what would be purged; change nothing.")
def purge_command(survey_id: str | None, dry_run: bool) -> None:
    """Purge personal data of closed surveys whose retention period has passed.

    Answers and comments are kept, so results and exports still work. Safe to run from
    cron: surveys that are not due are left alone. With --survey, that one survey is
    purged if it is closed and its retention period has passed (or none is set).
    """
    from cxalign.surveys.operations import SurveyError
    from cxalign.surveys.retention import (
        preview_purge,
        purge_due_surveys,
        purge_personal_data,
        purge_refusal,
    )

    if survey_id is not None:
        survey = _survey(survey_id)
        refusal = purge_refusal(survey)
        if refusal:
            fail(f"survey {survey.id}: {refusal}")
        if dry_run:
            summaries = [preview_purge(survey)]
        else:
            try:
                summaries = [purge_personal_data(survey, via="cli")]
            except SurveyError as error:
                db.session.rollback()
                fail(f"survey {survey.id}: {error}")
    else:
        summaries = purge_due_surveys(dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for summary in summaries:
        click.echo(summary.describe() + ".")
    noun = "survey" if len(summaries) == 1 else "surveys"
    if dry_run:
        click.echo(f"Dry run: {len(summaries)} {noun} would be purged; nothing was changed.")
    else:
        click.echo(f"Purged {len(summaries)} {noun}.")
