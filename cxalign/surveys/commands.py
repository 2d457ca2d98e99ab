"""CLI commands of the surveys feature, added to the ``cxalign`` group.

    flask --app app cxalign create-survey --org "Acme" --title "Wave 1"
    flask --app app cxalign add-respondents 7 people.csv
    flask --app app cxalign open-survey 7
    flask --app app cxalign send-invitations 7
    flask --app app cxalign send-reminders 7
    flask --app app cxalign close-survey 7
    flask --app app cxalign next-wave 7 --title "Wave 2" --carry-over

Each prints what it did; the last line is the useful value (an id or a count).
"""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select

from cxalign.cli import RECORD_ID, cli, fail
from cxalign.extensions import db
from cxalign.models import Instrument, Organisation, Survey
from cxalign.security import record_id
from cxalign.surveys import operations as ops
from cxalign.surveys import waves


def find_organisation(reference: str) -> Organisation:
    """An organisation by id or exact name; stops the command when there is not one."""
    reference = reference.strip()
    if (organisation_id := record_id(reference)) is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is not None:
            return organisation
    matches = list(db.session.scalars(select(Organisation).where(Organisation.name == reference)))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        ids = ", ".join(str(o.id) for o in matches)
        fail(f"{len(matches)} organisations are named {reference!r} (ids {ids}); use the id.")
    fail(f"no organisation with id or name {reference!r}.")
    raise AssertionError  # unreachable: fail() exits


def find_instrument(reference: str, organisation: Organisation) -> Instrument | None:
    """None for the built-in instrument, else the instrument with that id."""
    from cxalign.instruments.store import ensure_builtin_instrument

    if reference.strip().lower() == "builtin":
        return ensure_builtin_instrument()
    if (instrument_id := record_id(reference)) is None:
        fail(f"--instrument must be 'builtin' or an instrument id, not {reference!r}.")
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None or instrument.organisation_id not in (None, organisation.id):
        fail(f"no instrument {reference} available to {organisation.name!r}.")
    return instrument


def find_survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        fail(f"no survey with id {survey_id}.")
    return survey


@cli.command("create-survey")
@click.option("--org", "org", required=True, help="Organisation id or exact name.")
@click.option("--title", required=True, help="The survey's title.")
@click.option(
    "--instrument",
    default="builtin",
    show_default=True,
    help="'builtin' or the id of one of the organisation's instruments.",
)
@click.option("--anonymity-executive", type=int, default=3, show_default=True)
@click.option("--anonymity-cx", type=int, default=3, show_default=True)
@click.option("--gap-threshold", type=float, default=0.5, show_default=True)
@click.option("--opens", "opens_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--closes", "closes_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
def create_survey_command(
    org: str,
    title: str,
    instrument: str,
    anonymity_executive: int,
    anonymity_cx: int,
    gap_threshold: float,
    opens_on,
    closes_on,
) -> None:
    """Create a draft survey and print its id on the last line."""
    organisation = find_organisation(org)
    chosen = find_instrument(instrument, organisation)
    try:
        survey = ops.create_survey(
            organisation,
            title=title,
            instrument=chosen,
            anonymity_executive=anonymity_executive,
            anonymity_cx=anonymity_cx,
            gap_threshold=gap_threshold,
            opens_on=_date(opens_on),
            closes_on=_date(closes_on),
        )
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    click.echo(f"Created draft survey {survey.title!r} for {organisation.name!r}")
    click.echo(f"Instrument: {survey.instrument.label}")
    click.echo(survey.id)


def _date(value) -> date | None:
    return value.date() if value is not None else None


@cli.command("add-respondents")
@click.argument("survey_id", type=RECORD_ID)
@click.argument("csv_file", type=click.File("rb"))
def add_respondents_command(survey_id: int, csv_file) -> None:
    """Add respondents from a CSV of email,group[,name]; all or nothing."""
    survey = find_survey(survey_id)
    try:
        added = ops.add_respondents(survey, ops.parse_respondent_csv(csv_file.read()))
    except ops.RespondentImportError as error:
        db.session.rollback()
        for line, reason in error.errors:
            click.echo(f"line {line}: {reason}", err=True)
        fail(str(error))
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    click.echo(f"Added respondents to survey {survey.id}:")
    click.echo(len(added))


def _status_command(survey_id: int, action, done: str) -> None:
    survey = find_survey(survey_id)
    try:
        action(survey)
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    click.echo(f"Survey {survey.id} {done}.")
    click.echo(survey.status)


@cli.command("open-survey")
@click.argument("survey_id", type=RECORD_ID)
def open_survey_command(survey_id: int) -> None:
    """Open a draft (or reopen a closed) survey."""
    _status_command(survey_id, ops.open_survey, "is open")


@cli.command("close-survey")
@click.argument("survey_id", type=RECORD_ID)
def close_survey_command(survey_id: int) -> None:
    """Close an open survey; every answer is kept."""
    _status_command(survey_id, ops.close_survey, "is closed")


@cli.command("send-invitations")
@click.argument("survey_id", type=RECORD_ID)
def send_invitations_command(survey_id: int) -> None:
    """Invite everyone with an email who has not been invited yet."""
    survey = find_survey(survey_id)
    try:
        delivered = ops.send_invitations(survey)
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    click.echo("Invitations delivered (sent, or kept in the outbox without SMTP):")
    click.echo(delivered)


@cli.command("send-reminders")
@click.argument("survey_id", type=RECORD_ID)
def send_reminders_command(survey_id: int) -> None:
    """Remind those who have not completed, respecting the survey's cooldown."""
    survey = find_survey(survey_id)
    try:
        delivered = ops.send_reminders(survey)
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    click.echo("Reminders delivered:")
    click.echo(delivered)


@cli.command("next-wave")
@click.argument("survey_id", type=RECORD_ID)
@click.option(
    "--title", default=None, help="Default: the survey's title with the next wave number."
)
@click.option(
    "--instrument",
    default=None,
    help="'builtin' or an instrument id; default: the same instrument version.",
)
@click.option(
    "--carry-over/--no-carry-over",
    default=True,
    show_default=True,
    help="Invite the same respondents again, each with a new personal link.",
)
def next_wave_command(survey_id: int, title: str | None, instrument: str | None, carry_over: bool):
    """Start the next wave of a survey as a draft and print its id on the last line."""
    survey = find_survey(survey_id)
    chosen = find_instrument(instrument, survey.organisation) if instrument else None
    if title is not None and not title.strip():
        fail("--title cannot be empty.")
    try:
        started = waves.start_next_wave(
            survey, title=title, instrument=chosen, carry_over_respondents=carry_over, user=None
        )
    except ops.SurveyError as error:
        db.session.rollback()
        fail(str(error))
    db.session.commit()
    wave = started.survey
    click.echo(
        f"Created draft wave {wave.title!r} after survey {survey.id} (series {wave.series_key})"
    )
    click.echo(
        f"Instrument: {wave.instrument.label} ({started.shared_dimensions} dimensions comparable)"
    )
    click.echo(f"Respondents carried over with new personal links: {started.carried_over}")
    click.echo(wave.id)
