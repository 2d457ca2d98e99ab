"""Per-organisation API tokens: create, revoke, authenticate.

A token is ``cxa_`` followed by 256 random bits (URL-safe base64). It is shown once, when
it is created; the database keeps only its SHA-256 hash, so a copy of the database
opens nothing. A token reads the results of every survey of its organisation and nothing
else. Revoking is immediate and final.

These functions add and flush rows but never commit: the caller decides when the unit of
work is done. Creating and revoking are recorded as audit events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.models import ApiToken, AuditEvent, Organisation, User, hash_token, new_token, utcnow

PREFIX = "cxa_"
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 25
# last_used_at is written at most this often per token, so busy clients do not turn
# every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token operation that cannot go ahead, with a reason fit to show the owner."""


def tokens_of(organisation: Organisation) -> list[ApiToken]:
    """The organisation's tokens, active ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.organisation_id == organisation.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def token_of(organisation: Organisation, token_id: int) -> ApiToken | None:
    """One of the organisation's tokens by id; None for any other organisation's."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organisation_id != organisation.id:
        return None
    return token


def create_token(
    organisation: Organisation, name: str, *, user: User | None
) -> tuple[ApiToken, str]:
    """A new token for ``organisation``: returns the row and the secret (shown only once).

    Names are required, at most 100 characters, and unique among the active tokens, so
    that the list tells them apart. An organisation has at most 25 active tokens.
    """
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Give the token a name, such as the system that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"Token names are at most {MAX_NAME_LENGTH} characters.")
    active = select(ApiToken).where(
        ApiToken.organisation_id == organisation.id, ApiToken.revoked_at.is_(None)
    )
    if db.session.scalar(active.where(func.lower(ApiToken.name) == name.lower())) is not None:
        raise TokenError(f"An active token is already named “{name}”. Choose another name.")
    count = db.session.scalar(select(func.count()).select_from(active.subquery()))
    if count >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            f"This organisation already has {MAX_ACTIVE_TOKENS} active tokens. "
            "Revoke one you no longer use first."
        )
    secret = PREFIX + new_token()
    token = ApiToken(
        organisation_id=organisation.id,
        name=name,
        token_hash=hash_token(secret),
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(token)
    db.session.flush()
    _audit(token, user, "api_token.created")
    return token, secret


def revoke_token(token: ApiToken, *, user: User | None, now: datetime | None = None) -> None:
    """Revoke a token at once; requests carrying it are refused from now on."""
    if token.revoked_at is not None:
        raise TokenError(f"The token “{token.name}” was already revoked.")
    token.revoked_at = now or utcnow()
    _audit(token, user, "api_token.revoked")
    db.session.flush()


def authenticate(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The active token with this secret, or None.

    Sets ``last_used_at`` (at most once a minute) without flushing: the caller commits.
    """
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now  # the caller commits
    return token


def _audit(token: ApiToken, user: User | None, action: str) -> None:
    db.session.add(
        AuditEvent(
            organisation_id=token.organisation_id,
            user_id=user.id if user is not None else None,
            action=action,
            target=f"api_token:{token.id}",
            detail={"name": token.name},
        )
    )
