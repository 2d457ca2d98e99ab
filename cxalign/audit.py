"""The audit log: who did what sensitive thing, and when."""

from __future__ import annotations

from cxalign.extensions import db
from cxalign.models import AuditEvent, User


def audit(
    organisation_id: int,
    user: User | None,
    action: str,
    target: str = "",
    **detail,
) -> AuditEvent:
    """Record a sensitive action. ``detail`` never holds respondents' emails or answers."""
    event = AuditEvent(
        organisation_id=organisation_id,
        user_id=user.id if user is not None else None,
        action=action,
        target=target,
        detail=detail,
    )
    db.session.add(event)
    return event
