"""Account operations, callable from views, the CLI and tests alike."""

from __future__ import annotations

from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.models import Membership, Organisation, Role, User, utcnow


class AccountError(ValueError):
    """An account operation that cannot go ahead, with a reason fit to show the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_account(*, email: str, password: str, name: str, organisation_name: str | None) -> User:
    """Create a staff account; with ``organisation_name`` the user owns that new organisation.

    The first account of a fresh instance also becomes its administrator.
    """
    email = normalise_email(email)
    if find_user(email):
        raise AccountError("An account with that email already exists. Log in instead.")
    first_user = db.session.scalar(select(func.count(User.id))) == 0
    user = User(email=email, name=name.strip(), is_admin=first_user)
    user.set_password(password)
    db.session.add(user)
    if organisation_name:
        organisation = Organisation(name=organisation_name.strip())
        db.session.add(organisation)
        db.session.flush()
        db.session.add(Membership(user=user, organisation=organisation, role=Role.OWNER))
        user.current_organisation_id = organisation.id
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None or not user.is_active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("Your current password is not right.")
    user.set_password(new)
