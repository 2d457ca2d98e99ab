"""Personal links and open links: making, finding and revoking them."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from cxalign.audit import audit
from cxalign.extensions import db
from cxalign.models import (
    OpenLink,
    Respondent,
    Survey,
    User,
    hash_token,
    new_token,
    utcnow,
)
from cxalign.surveys.operations.lifecycle import refuse_if_closed
from cxalign.surveys.operations.respondents import require_group
from cxalign.surveys.operations.rules import secret_key, survey_target


def public_url(path: str) -> str:
    """An absolute URL for emails and copy buttons, from PUBLIC_BASE_URL."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def respondent_link(respondent: Respondent) -> str:
    """The respondent's personal link (absolute), re-derived from the stored nonce."""
    return public_url(f"/r/{respondent.link_token(secret_key())}")


def personal_link_url(token: str) -> str:
    return public_url(f"/r/{token}")


def open_link_url(token: str) -> str:
    return public_url(f"/join/{token}")


def _plausible_token(token: str | None) -> bool:
    return bool(token) and len(token) <= 200


def find_respondent_by_token(token: str) -> Respondent | None:
    """The respondent whose personal link carries this token, or None.

    Lookup is by the token's hash only; revoked and erased respondents are not found,
    so their links answer a plain 404.
    """
    if not _plausible_token(token):
        return None
    respondent = db.session.scalar(
        select(Respondent).where(Respondent.token_hash == hash_token(token))
    )
    if respondent is None or respondent.revoked_at or respondent.erased_at:
        return None
    return respondent


def create_open_link(survey: Survey, group: str, *, user: User | None = None) -> str:
    """Create the open link for one group and return its token (shown once, never stored).

    Any earlier open link of the group is revoked: one works at a time.
    """
    group = require_group(group)
    refuse_if_closed(survey, "A closed survey takes no new respondents.")
    now = utcnow()
    for link in survey.open_links:
        if link.group == group and link.revoked_at is None:
            link.revoked_at = now
    token = new_token()
    db.session.add(OpenLink(survey=survey, group=group, token_hash=hash_token(token)))
    audit(
        survey.organisation_id,
        user,
        "survey.open_link_created",
        survey_target(survey),
        group=group,
    )
    db.session.flush()
    return token


def revoke_open_link(survey: Survey, group: str, *, user: User | None = None) -> bool:
    """Stop the group's open link working; True when there was one."""
    group = require_group(group)
    link = active_open_link(survey, group)
    if link is None:
        return False
    link.revoked_at = utcnow()
    audit(
        survey.organisation_id,
        user,
        "survey.open_link_revoked",
        survey_target(survey),
        group=group,
    )
    db.session.flush()
    return True


def active_open_link(survey: Survey, group: str) -> OpenLink | None:
    for link in survey.open_links:
        if link.group == group and link.revoked_at is None:
            return link
    return None


def find_open_link(token: str) -> OpenLink | None:
    """The live open link carrying this token, or None (unknown or revoked)."""
    if not _plausible_token(token):
        return None
    link = db.session.scalar(select(OpenLink).where(OpenLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None:
        return None
    return link


def join_open_link(open_link: OpenLink) -> tuple[Respondent, str]:
    """A fresh respondent of the link's group, and their personal-link token.

    The respond pages send the visitor on to ``/r/<token>`` so that reloading or coming
    back later continues the same answers rather than starting again.
    """
    respondent = Respondent(survey=open_link.survey, group=open_link.group, source="open_link")
    token = respondent.issue_token(secret_key())
    db.session.add(respondent)
    db.session.flush()
    return respondent, token
