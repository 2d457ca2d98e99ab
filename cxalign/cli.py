"""``flask --app app cxalign ...``: every main action can be scripted.

Commands print their result on stdout (the last line is the useful value where
there is one). Bad input gives a one-line reason on stderr and a non-zero exit.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from cxalign.extensions import db
from cxalign.security import record_id

cli = AppGroup("cxalign", help="cxalign commands: demo data, surveys, scoring, reports.")


def fail(message: str, code: int = 1) -> None:
    """Stop a command with a one-line reason on stderr."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


class RecordId(click.ParamType):
    """``type=`` for SURVEY-style arguments: a clear usage error instead of a traceback."""

    name = "id"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        number = record_id(str(value))
        if number is None:
            self.fail(f"{value!r} is not an id (a whole number of at most 10 digits).", param, ctx)
        return number


RECORD_ID = RecordId()


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_command(if_empty: bool) -> None:
    """Seed a demo organisation (with a closed, scored survey) and print its login."""
    from cxalign.demo import DEMO_EMAIL, DEMO_PASSWORD, database_is_empty, seed_demo

    if if_empty and not database_is_empty():
        click.echo("Database already has data; demo not loaded.")
        return
    organisation = seed_demo()
    db.session.commit()
    click.echo(f"Demo organisation: {organisation.name}")
    click.echo(f"Log in at http://127.0.0.1:5000/auth/login as {DEMO_EMAIL} / {DEMO_PASSWORD}")


def register_feature_commands() -> None:
    """Feature packages add their commands to ``cli`` in their own ``commands`` module."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module)


COMMAND_MODULES = (
    "cxalign.surveys.commands",
    "cxalign.analysis.commands",
    "cxalign.reports.commands",
    "cxalign.exports.commands",
)
