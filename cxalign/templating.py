"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_login import current_user

from cxalign.instruments.spec import GROUP_LABELS


def format_number(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """Numbers as reports print them: a real minus sign, an em dash for 'no value'."""
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "\u2212")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return f"{value.day} {value:%b %Y}"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def register(app: Flask) -> None:
    app.jinja_env.filters["num"] = format_number
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["group_label"] = lambda group: GROUP_LABELS.get(group, group)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_navigation():
        from cxalign.access import current_membership, memberships_of
        from cxalign.navigation import navigation_for

        if not current_user.is_authenticated:
            return {}
        memberships = memberships_of(current_user)
        membership = current_membership()
        return {
            "nav_memberships": memberships,
            "current_membership": membership,
            "nav_links": navigation_for(membership, memberships),
        }
