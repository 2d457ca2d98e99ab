"""CLI commands of this feature, added to the ``cxalign`` group."""

from __future__ import annotations

from pathlib import Path

import click

from cxalign.cli import cli, fail
from cxalign.security import record_id


@cli.command("report")
@click.argument("survey_id", metavar="SURVEY")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the PDF.",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"], case_sensitive=False),
    default="a4",
    show_default=True,
    help="Paper size.",
)
def report_command(survey_id: str, output: Path, paper: str) -> None:
    """Write the PDF gap report of SURVEY (its id) to a file."""
    from cxalign.extensions import db
    from cxalign.models import AuditEvent, Survey
    from cxalign.reports.pdf import get_report_pdf

    if (number := record_id(survey_id)) is None:
        fail(f"SURVEY must be a survey id (a whole number), not {survey_id!r}.")
    survey = db.session.get(Survey, number)
    if survey is None:
        fail(f"There is no survey with id {survey_id}.")
    pdf, cached = get_report_pdf(survey, paper.lower())
    try:
        output.write_bytes(pdf)
    except OSError as error:
        fail(f"Cannot write {output}: {error.strerror or error}.")
    db.session.add(
        AuditEvent(
            organisation_id=survey.organisation_id,
            user_id=None,
            action="report.download",
            target=f"survey:{survey.id}",
            detail={"paper": paper.lower(), "cached": cached, "bytes": len(pdf), "via": "cli"},
        )
    )
    db.session.commit()
    source = "from the cache" if cached else "rendered"
    click.echo(f"Wrote the report of “{survey.title}” ({len(pdf):,} bytes, {source}).")
    click.echo(str(output))
