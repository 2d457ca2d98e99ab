"""Members of an organisation: invitations, roles, removal, settings.

Plain functions called by the views, the CLI and tests alike. They add and flush rows
but never commit: the caller decides when the unit of work is done. Anything that cannot
go ahead raises :class:`OrganisationError` with a reason fit to show the user; anything
sensitive is recorded with :func:`record_audit`.

Rules:

* An invitation is a single-use link that expires after seven days. Only the hash of
  its token is stored; the link is shown once to the owner and sent by email.
* An invitation belongs to one email address: an existing account accepts it by
  logging in with that address; a new person sets a name and a password.
* An organisation always keeps at least one owner: the last owner can neither be
  demoted nor removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from cxalign.accounts import find_user, normalise_email
from cxalign.audit import audit
from cxalign.auth.passwords import password_problem
from cxalign.extensions import db
from cxalign.mail import send_message
from cxalign.models import (
    Membership,
    Organisation,
    Role,
    StaffInvitation,
    User,
    hash_token,
    new_token,
    utcnow,
)
from cxalign.surveys.operations import public_url

INVITATION_LIFETIME = timedelta(days=7)
MAX_NAME_LENGTH = 200
ROLE_LABELS = {
    Role.OWNER: "Owner",
    Role.ANALYST: "Analyst",
    Role.CONSULTANT: "Consultant",
}
ROLE_DESCRIPTIONS = {
    Role.OWNER: "runs surveys, manages members and settings",
    Role.ANALYST: "reads results, downloads reports and exports",
    Role.CONSULTANT: "an analyst who works across several client organisations",
}

# One audit helper for the whole app: the surveys module defines it.
record_audit = audit


class OrganisationError(ValueError):
    """A member operation that cannot go ahead, with a reason fit to show the user."""


class InvitationUnavailable(OrganisationError):
    """The invitation link is unknown, used, revoked or expired (``state`` says which)."""

    def __init__(self, state: str, message: str):
        self.state = state
        super().__init__(message)


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------


def invitation_path(token: str) -> str:
    return f"/invitations/{token}"


def invitation_state(invitation: StaffInvitation | None) -> str:
    """``valid``, ``unknown``, ``accepted``, ``revoked`` or ``expired``."""
    if invitation is None:
        return "unknown"
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= utcnow():
        return "expired"
    return "valid"


UNAVAILABLE_MESSAGES = {
    "unknown": "This invitation link is not valid. Check that you copied the whole link.",
    "accepted": "This invitation has already been used. Log in to reach the organisation.",
    "revoked": "This invitation was withdrawn. Ask the organisation's owner for a new one.",
    "expired": "This invitation has expired. Ask the organisation's owner to invite you again.",
}


def find_invitation(token: str) -> StaffInvitation | None:
    """The invitation a link's token opens, whatever its state; None for an unknown token."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(StaffInvitation).where(StaffInvitation.token_hash == hash_token(token))
    )


def valid_invitation(token: str) -> StaffInvitation:
    """The invitation behind ``token``, or :class:`InvitationUnavailable` saying why not."""
    invitation = find_invitation(token)
    state = invitation_state(invitation)
    if state != "valid":
        raise InvitationUnavailable(state, UNAVAILABLE_MESSAGES[state])
    return invitation


def pending_invitations(organisation: Organisation) -> list[StaffInvitation]:
    """Invitations not yet used, withdrawn or expired, newest first."""
    return list(
        db.session.scalars(
            select(StaffInvitation)
            .where(
                StaffInvitation.organisation_id == organisation.id,
                StaffInvitation.accepted_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
                StaffInvitation.expires_at > utcnow(),
            )
            .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
        )
    )


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise OrganisationError("Choose owner, analyst or consultant.") from None


def invite_member(
    organisation: Organisation, email: str, role: str, *, invited_by: User | None
) -> tuple[StaffInvitation, str]:
    """Invite ``email`` to ``organisation`` with ``role``; returns the invitation and its link.

    Sends the link by email (or keeps it in the outbox). Inviting someone again withdraws
    their earlier pending invitation, so only the newest link works.
    """
    email = normalise_email(email or "")
    if not email or "@" not in email:
        raise OrganisationError("Enter the email address of the person to invite.")
    role = _check_role(role)
    existing = find_user(email)
    if existing is not None and _membership(organisation.id, existing.id) is not None:
        raise OrganisationError(f"{email} is already a member of {organisation.name}.")
    now = utcnow()
    for earlier in pending_invitations(organisation):
        if earlier.email == email:
            earlier.revoked_at = now
    token = new_token()
    invitation = StaffInvitation(
        organisation_id=organisation.id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    link = public_url(invitation_path(token))
    inviter = invited_by.display_name if invited_by else "An owner"
    body = (
        f"Hello,\n\n{inviter} has invited you to join {organisation.name} on cxalign "
        f"as {ROLE_LABELS[role].lower()} ({ROLE_DESCRIPTIONS[role]}).\n\n"
        f"Accept the invitation here:\n{link}\n\n"
        f"The link works once and expires on {invitation.expires_at:%d %B %Y}. "
        "If you were not expecting it, you can ignore this message.\n"
    )
    send_message(
        kind="staff_invitation",
        recipient=email,
        subject=f"Join {organisation.name} on cxalign",
        body=body,
        organisation_id=organisation.id,
    )
    record_audit(
        organisation.id,
        invited_by,
        "member.invited",
        f"invitation:{invitation.id}",
        email=email,
        role=str(role),
    )
    return invitation, link


def revoke_invitation(invitation: StaffInvitation, *, by: User | None) -> None:
    """Withdraw a pending invitation: its link stops working at once."""
    state = invitation_state(invitation)
    if state != "valid":
        raise OrganisationError("That invitation is no longer pending.")
    invitation.revoked_at = utcnow()
    record_audit(
        invitation.organisation_id,
        by,
        "member.invitation_revoked",
        f"invitation:{invitation.id}",
        email=invitation.email,
    )


def accept_invitation(
    token: str,
    *,
    user: User | None = None,
    name: str | None = None,
    password: str | None = None,
) -> Membership:
    """Use an invitation: ``user`` (logged in) joins, or a new account is made from
    ``name`` and ``password``. The invitation can be used once; a concurrent second use
    fails with :class:`InvitationUnavailable`.
    """
    invitation = valid_invitation(token)
    if user is not None:
        if normalise_email(user.email) != invitation.email:
            raise OrganisationError(
                f"This invitation is for {invitation.email}, but you are logged in as "
                f"{user.email}. Log out and open the link again."
            )
        if _membership(invitation.organisation_id, user.id) is not None:
            raise OrganisationError(f"You are already a member of {invitation.organisation.name}.")
    else:
        if find_user(invitation.email) is not None:
            raise OrganisationError(
                f"An account for {invitation.email} already exists: log in to accept."
            )
        name = " ".join((name or "").split())
        if not name:
            raise OrganisationError("Enter your name.")
        problem = password_problem(password or "", invitation.email)
        if problem:
            raise OrganisationError(problem)
        user = User(email=invitation.email, name=name[:MAX_NAME_LENGTH])
        user.set_password(password)
        db.session.add(user)
        db.session.flush()

    # Single use even under concurrency: only one request can flip accepted_at.
    claimed = db.session.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation.id,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvitationUnavailable("accepted", UNAVAILABLE_MESSAGES["accepted"])
    db.session.refresh(invitation)
    membership = Membership(
        user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role
    )
    db.session.add(membership)
    user.current_organisation_id = invitation.organisation_id
    db.session.flush()
    record_audit(
        invitation.organisation_id,
        user,
        "member.joined",
        f"user:{user.id}",
        email=user.email,
        role=invitation.role,
        invitation=invitation.id,
    )
    return membership


# ---------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------


def _membership(organisation_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation_id, Membership.user_id == user_id
        )
    )


def members_of(organisation: Organisation) -> list[Membership]:
    """Memberships with their users: owners first, then by name."""
    role_order = {Role.OWNER: 0, Role.CONSULTANT: 1, Role.ANALYST: 2}
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(User)
            .where(Membership.organisation_id == organisation.id)
            .order_by(User.name, User.email)
        )
    )
    return sorted(memberships, key=lambda m: role_order.get(m.role, 9))


def member_of(organisation: Organisation, member_id: int) -> Membership | None:
    """A membership of ``organisation`` by id; None for any other organisation's."""
    membership = db.session.get(Membership, member_id)
    if membership is None or membership.organisation_id != organisation.id:
        return None
    return membership


def invitation_of(organisation: Organisation, invitation_id: int) -> StaffInvitation | None:
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        return None
    return invitation


def _lock_owners(organisation_id: int) -> int:
    """Count the owners, locking their rows (PostgreSQL) so two owners cannot demote each
    other at the same moment and leave the organisation with none."""
    owner_ids = db.session.scalars(
        select(Membership.id)
        .where(Membership.organisation_id == organisation_id, Membership.role == Role.OWNER)
        .with_for_update()
    ).all()
    return len(owner_ids)


LAST_OWNER_MESSAGE = (
    "{name} is the last owner of {organisation}. Make someone else an owner first, "
    "so that the organisation is never left without one."
)


def change_role(membership: Membership, role: str, *, by: User | None) -> bool:
    """Give a member another role. Returns False when nothing changed.

    The last owner cannot be demoted.
    """
    role = _check_role(role)
    previous = membership.role
    if previous == role:
        return False
    if previous == Role.OWNER and _lock_owners(membership.organisation_id) <= 1:
        raise OrganisationError(
            LAST_OWNER_MESSAGE.format(
                name=membership.user.display_name, organisation=membership.organisation.name
            )
        )
    membership.role = role
    db.session.flush()
    record_audit(
        membership.organisation_id,
        by,
        "member.role_changed",
        f"user:{membership.user_id}",
        email=membership.user.email,
        previous=str(previous),
        role=str(role),
    )
    return True


def remove_member(membership: Membership, *, by: User | None) -> None:
    """Remove a member from the organisation (their account stays). Never the last owner."""
    if membership.role == Role.OWNER and _lock_owners(membership.organisation_id) <= 1:
        raise OrganisationError(
            LAST_OWNER_MESSAGE.format(
                name=membership.user.display_name, organisation=membership.organisation.name
            )
        )
    user = membership.user
    organisation_id = membership.organisation_id
    record_audit(
        organisation_id,
        by,
        "member.removed",
        f"user:{user.id}",
        email=user.email,
        role=str(membership.role),
    )
    db.session.delete(membership)
    if user.current_organisation_id == organisation_id:
        user.current_organisation_id = None
    db.session.flush()


def rename_organisation(organisation: Organisation, name: str, *, by: User | None) -> bool:
    """Rename the organisation. Returns False when the name did not change."""
    name = " ".join((name or "").split())
    if not name:
        raise OrganisationError("Enter the organisation's name.")
    if len(name) > MAX_NAME_LENGTH:
        raise OrganisationError(f"Use at most {MAX_NAME_LENGTH} characters.")
    if name == organisation.name:
        return False
    previous = organisation.name
    organisation.name = name
    record_audit(
        organisation.id,
        by,
        "organisation.renamed",
        f"organisation:{organisation.id}",
        previous=previous,
        name=name,
    )
    db.session.flush()
    return True


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    events: list
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def audit_page(organisation_id: int, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the organisation's audit log, newest first."""
    from cxalign.models import AuditEvent

    total = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.organisation_id == organisation_id)
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.organisation_id == organisation_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return AuditPage(events, page, pages, total, per_page)
