"""``flask --app app cxalign ...``: every main action can be scripted.

Commands print their result on stdout (the last line is the useful value where
there is one). Bad input gives a one-line reason on stderr and a non-zero exit.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

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


def register_feature_commands() -> None:
    """Feature packages add their commands to ``cli`` in their own ``commands`` module."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module)


COMMAND_MODULES = (
    "cxalign.demo.commands",
    "cxalign.surveys.commands",
    "cxalign.analysis.commands",
    "cxalign.reports.commands",
    "cxalign.exports.commands",
)
