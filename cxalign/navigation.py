"""The main navigation: one list, filtered to the pages this app and user have."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from cxalign.access import MANAGE_ROLES
from cxalign.models import Membership, Role


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


# Roles that see a link: a set checked against the current organisation's membership, or
# ANY_CONSULTANT for pages that span organisations (a consultant somewhere sees them anywhere).
ANY_CONSULTANT = "any-consultant"

# (label, endpoint, blueprint that marks it current, roles that see it; None = every member)
NAVIGATION = (
    ("Surveys", "main.home", ("main", "surveys", "results"), None),
    ("Instruments", "instruments.index", ("instruments",), None),
    ("Portfolio", "organisations.portfolio", ("organisations.portfolio",), ANY_CONSULTANT),
    ("Team", "organisations.members", ("organisations.members",), MANAGE_ROLES),
    ("Outbox", "surveys.outbox", ("surveys.outbox",), MANAGE_ROLES),
    ("Settings", "organisations.settings", ("organisations.settings",), MANAGE_ROLES),
    ("API tokens", "api.tokens", ("api.tokens",), MANAGE_ROLES),
)


def navigation_for(membership: Membership | None, memberships: list[Membership]) -> list[NavLink]:
    links = []
    endpoint = request.endpoint or ""
    for label, target, current_prefixes, roles in NAVIGATION:
        if target not in current_app.view_functions:
            continue
        if roles == ANY_CONSULTANT:
            if not any(m.role == Role.CONSULTANT for m in memberships):
                continue
        elif roles is not None and (membership is None or membership.role not in roles):
            continue
        current = any(
            endpoint == prefix or endpoint.startswith(prefix + ".") for prefix in current_prefixes
        )
        links.append(NavLink(label, url_for(target), current))
    # Only one link is current: the most specific match wins over the catch-all "Surveys".
    if sum(link.current for link in links) > 1:
        links = [
            NavLink(link.label, link.url, False) if link.label == "Surveys" else link
            for link in links
        ]
    return links
