"""Demo data, so that a newcomer sees a finished gap report at once."""

from __future__ import annotations

from sqlalchemy import func, select

from cxalign.accounts import find_user
from cxalign.extensions import db
from cxalign.models import Membership, Organisation, Role, User

DEMO_EMAIL = "demo@cxalign.example"
DEMO_PASSWORD = "see-the-gap-2026"
DEMO_ORGANISATION = "Northwind Retail (demo)"


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count(User.id))) == 0


def seed_demo() -> Organisation:
    """Create the demo organisation and its owner (idempotent on the login)."""
    user = find_user(DEMO_EMAIL)
    if user is None:
        user = User(email=DEMO_EMAIL, name="Dana Demo", is_admin=database_is_empty())
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    organisation = Organisation(name=DEMO_ORGANISATION)
    db.session.add(organisation)
    db.session.flush()
    db.session.add(Membership(user=user, organisation=organisation, role=Role.OWNER))
    user.current_organisation_id = organisation.id
    db.session.flush()
    return organisation
