"""Who may see what. Every view that touches organisation data goes through here.

Outside an organisation, its surveys do not exist: lookups answer 404 whatever the
id, so ids reveal nothing. Inside it, a role that is too weak answers 403.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.models import Membership, Organisation, Role, Survey, User

READ_ROLES = frozenset({Role.OWNER, Role.ANALYST, Role.CONSULTANT})
MANAGE_ROLES = frozenset({Role.OWNER})


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, organisations loaded, in a stable order."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Organisation)
            .where(Membership.user_id == user.id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def membership_in(organisation_id: int, user: User | None = None) -> Membership | None:
    user = user or current_user
    if not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation_id
        )
    )


def current_membership() -> Membership | None:
    """The membership of the organisation the user is working in (their last choice)."""
    if not current_user.is_authenticated:
        return None
    if current_user.current_organisation_id:
        membership = membership_in(current_user.current_organisation_id)
        if membership:
            return membership
    memberships = memberships_of(current_user)
    return memberships[0] if memberships else None


def require_membership(organisation_id: int, *, manage: bool = False) -> Membership:
    """The current user's membership in an organisation: 404 outside it, 403 if too weak."""
    membership = membership_in(organisation_id)
    if membership is None:
        abort(404)
    if manage and membership.role not in MANAGE_ROLES:
        abort(403, "Only owners of this organisation can do that.")
    return membership


def require_current_membership(*, manage: bool = False) -> Membership:
    membership = current_membership()
    if membership is None:
        abort(404)
    if manage and membership.role not in MANAGE_ROLES:
        abort(403, "Only owners of this organisation can do that.")
    return membership


def get_survey_or_404(survey_id: int, *, manage: bool = False) -> Survey:
    """A survey of one of the user's organisations; 404 for anyone outside it."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        abort(404)
    require_membership(survey.organisation_id, manage=manage)
    return survey


def can_manage(organisation_id: int) -> bool:
    membership = membership_in(organisation_id)
    return membership is not None and membership.role in MANAGE_ROLES
