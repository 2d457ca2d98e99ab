"""``cxalign demo``: seed the demo organisation and print how to log in."""

from __future__ import annotations

import click

from cxalign.cli import cli
from cxalign.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, database_is_empty, seed_demo
from cxalign.extensions import db


@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_command(if_empty: bool) -> None:
    """Seed a demo organisation (with a closed, scored survey) and print its login."""
    if if_empty and not database_is_empty():
        click.echo("Database already has data; demo not loaded.")
        return
    organisation = seed_demo()
    db.session.commit()
    click.echo(f"Demo organisation: {organisation.name}")
    click.echo(f"Log in at http://127.0.0.1:5000/auth/login as {DEMO_EMAIL} / {DEMO_PASSWORD}")
