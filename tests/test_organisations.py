"""Team management: invitations, roles, removal, organisation switching, settings, audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.models import (
    AuditEvent,
    EmailMessage,
    Membership,
    Role,
    StaffInvitation,
    User,
    hash_token,
    utcnow,
)
from cxalign.organisations import operations as ops
from tests.conftest import PASSWORD


def login_as(client, user):
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def membership(user, organisation) -> Membership:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )


def audit_actions(organisation) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.organisation_id == organisation.id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def organisation(owner):
    return owner.memberships[0].organisation


# ---------------------------------------------------------------------------
# Operations, without HTTP
# ---------------------------------------------------------------------------


def test_invitation_stores_only_a_hash_sends_mail_and_expires_in_seven_days(owner, organisation):
    invitation, link = ops.invite_member(
        organisation, " New@Example.com ", "analyst", invited_by=owner
    )
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    assert invitation.email == "new@example.com"
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash
    assert timedelta(days=6, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=7)
    message = db.session.scalar(select(EmailMessage).where(EmailMessage.kind == "staff_invitation"))
    assert message.recipient == "new@example.com" and link in message.body_text
    assert message.organisation_id == organisation.id
    assert audit_actions(organisation) == ["member.invited"]


def test_invitation_refuses_bad_role_and_existing_members(owner, organisation, make_user):
    with pytest.raises(ops.OrganisationError, match="owner, analyst or consultant"):
        ops.invite_member(organisation, "x@example.com", "admin", invited_by=owner)
    with pytest.raises(ops.OrganisationError, match="already a member"):
        ops.invite_member(organisation, owner.email, "analyst", invited_by=owner)


def test_inviting_again_withdraws_the_earlier_link(owner, organisation):
    first, first_link = ops.invite_member(
        organisation, "a@example.com", "analyst", invited_by=owner
    )
    second, _ = ops.invite_member(organisation, "a@example.com", "owner", invited_by=owner)
    db.session.commit()
    assert ops.invitation_state(first) == "revoked"
    assert ops.pending_invitations(organisation) == [second]
    with pytest.raises(ops.InvitationUnavailable) as error:
        ops.accept_invitation(first_link.rsplit("/", 1)[1], name="A", password="a-long-passphrase")
    assert error.value.state == "revoked"


def test_invitation_is_single_use(owner, organisation):
    _, link = ops.invite_member(organisation, "new@example.com", "analyst", invited_by=owner)
    token = link.rsplit("/", 1)[1]
    joined = ops.accept_invitation(token, name="New Person", password="a-long-passphrase")
    db.session.commit()
    assert joined.role == Role.ANALYST and joined.user.check_password("a-long-passphrase")
    assert joined.user.current_organisation_id == organisation.id
    with pytest.raises(ops.InvitationUnavailable) as error:
        ops.accept_invitation(token, name="Someone Else", password="another-passphrase")
    assert error.value.state == "accepted"


def test_expired_invitation_cannot_be_used(owner, organisation):
    invitation, link = ops.invite_member(
        organisation, "late@example.com", "analyst", invited_by=owner
    )
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(ops.InvitationUnavailable, match="expired"):
        ops.accept_invitation(link.rsplit("/", 1)[1], name="Late", password="a-long-passphrase")
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_new_account_needs_a_sensible_password(owner, organisation):
    _, link = ops.invite_member(organisation, "new@example.com", "analyst", invited_by=owner)
    with pytest.raises(ops.OrganisationError, match="too common"):
        ops.accept_invitation(link.rsplit("/", 1)[1], name="New", password="password123")
    with pytest.raises(ops.OrganisationError, match="at least 10"):
        ops.accept_invitation(link.rsplit("/", 1)[1], name="New", password="short")


def test_existing_account_must_be_the_invited_one(owner, organisation, make_user):
    other = make_user("other@example.com")
    invited = make_user("invited@example.com")
    _, link = ops.invite_member(organisation, "invited@example.com", "consultant", invited_by=owner)
    token = link.rsplit("/", 1)[1]
    with pytest.raises(ops.OrganisationError, match="log in to accept"):
        ops.accept_invitation(token, name="Impostor", password="a-long-passphrase")
    with pytest.raises(ops.OrganisationError, match=r"This invitation is for invited@example\.com"):
        ops.accept_invitation(token, user=other)
    joined = ops.accept_invitation(token, user=invited)
    db.session.commit()
    assert joined.role == Role.CONSULTANT
    assert len(invited.memberships) == 2  # their own organisation and this one


def test_last_owner_can_be_neither_demoted_nor_removed(owner, organisation, make_user):
    mine = membership(owner, organisation)
    with pytest.raises(ops.OrganisationError, match="last owner"):
        ops.change_role(mine, "analyst", by=owner)
    with pytest.raises(ops.OrganisationError, match="last owner"):
        ops.remove_member(mine, by=owner)
    second = make_user("second@example.com", role=Role.ANALYST, organisation=organisation)
    assert ops.change_role(membership(second, organisation), "owner", by=owner)
    assert ops.change_role(mine, "analyst", by=owner)
    db.session.commit()
    assert mine.role == Role.ANALYST
    assert audit_actions(organisation) == ["member.role_changed", "member.role_changed"]


def test_removing_a_member_keeps_their_account(owner, organisation, make_user):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=organisation)
    ops.remove_member(membership(analyst, organisation), by=owner)
    db.session.commit()
    assert membership(analyst, organisation) is None
    assert db.session.get(User, analyst.id).current_organisation_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.removed"))
    assert event.detail["email"] == "analyst@example.com" and event.user_id == owner.id


def test_audit_page_is_newest_first_and_paginated(owner, organisation):
    for number in range(7):
        ops.record_audit(organisation.id, owner, "survey.opened", f"survey:{number}")
    db.session.commit()
    first = ops.audit_page(organisation.id, 1, per_page=3)
    assert first.total == 7 and first.pages == 3 and first.has_next and not first.has_previous
    assert [e.target for e in first.events] == ["survey:6", "survey:5", "survey:4"]
    last = ops.audit_page(organisation.id, 99, per_page=3)
    assert last.page == 3 and [e.target for e in last.events] == ["survey:0"]


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def test_owner_invites_and_sees_the_link_once(owner_client, organisation):
    response = owner_client.post(
        "/team/invite", data={"email": "new@example.com", "role": "analyst"}
    )
    assert response.status_code == 200
    invitation = db.session.scalar(select(StaffInvitation))
    page = response.text
    assert "/invitations/" in page and "shown only this once" in page
    token = page.split("/invitations/", 1)[1].split('"', 1)[0]
    assert invitation.token_hash == hash_token(token)
    again = owner_client.get("/team")
    assert token not in again.text and "new@example.com" in again.text


def test_invite_form_errors_are_shown(owner_client):
    response = owner_client.post("/team/invite", data={"email": "not-an-email", "role": "analyst"})
    assert response.status_code == 400 and "valid email" in response.text
    response = owner_client.post(
        "/team/invite", data={"email": "owner@example.com", "role": "owner"}
    )
    assert response.status_code == 400 and "already a member" in response.text


def test_new_person_accepts_an_invitation_and_is_logged_in(client, owner, organisation):
    _, link = ops.invite_member(organisation, "new@example.com", "analyst", invited_by=owner)
    db.session.commit()
    path = "/invitations/" + link.rsplit("/", 1)[1]
    page = client.get(path)
    assert (
        page.status_code == 200
        and organisation.name in page.text
        and "new@example.com" in page.text
    )
    weak = client.post(
        path, data={"name": "New", "password": "password1234", "confirm": "password1234"}
    )
    assert weak.status_code == 400 and "too common" in weak.text
    response = client.post(
        path,
        data={
            "name": "New Person",
            "password": "a-long-passphrase",
            "confirm": "a-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/home").status_code == 200  # logged in
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert membership(user, organisation).role == Role.ANALYST
    used = client.get(path)
    assert used.status_code == 410 and "already been used" in used.text


@pytest.mark.parametrize(
    ("state", "status", "text"),
    [("expired", 410, "expired"), ("revoked", 410, "withdrawn"), ("unknown", 404, "cannot find")],
)
def test_unusable_invitation_links_explain_why(client, owner, organisation, state, status, text):
    invitation, link = ops.invite_member(organisation, "x@example.com", "analyst", invited_by=owner)
    if state == "expired":
        invitation.expires_at = utcnow() - timedelta(minutes=1)
    elif state == "revoked":
        invitation.revoked_at = utcnow()
    db.session.commit()
    path = "/invitations/" + (link.rsplit("/", 1)[1] if state != "unknown" else "nope" * 10)
    for response in (client.get(path), client.post(path, data={"name": "X"})):
        assert response.status_code == status and text in response.text


def test_existing_user_logs_in_to_accept(client, owner, organisation, make_user):
    consultant = make_user("consultant@example.com")
    _, link = ops.invite_member(organisation, consultant.email, "consultant", invited_by=owner)
    db.session.commit()
    path = "/invitations/" + link.rsplit("/", 1)[1]
    assert "Log in to accept" in client.get(path).text
    login_as(client, consultant)
    response = client.post(path)
    assert response.status_code == 302
    assert membership(consultant, organisation).role == Role.CONSULTANT


def test_owner_changes_roles_but_not_of_the_last_owner(
    owner_client, owner, organisation, make_user
):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=organisation)
    target = membership(analyst, organisation)
    response = owner_client.post(f"/team/members/{target.id}/role", data={"role": "consultant"})
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.role == Role.CONSULTANT
    mine = membership(owner, organisation)
    response = owner_client.post(
        f"/team/members/{mine.id}/role", data={"role": "analyst"}, follow_redirects=True
    )
    assert "last owner" in response.text
    db.session.refresh(mine)
    assert mine.role == Role.OWNER
    bad = owner_client.post(f"/team/members/{target.id}/role", data={"role": "emperor"})
    assert bad.status_code == 400


def test_owner_removes_members_but_never_the_last_owner(
    owner_client, owner, organisation, make_user
):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=organisation)
    target = membership(analyst, organisation)
    assert owner_client.post(f"/team/members/{target.id}/remove").status_code == 302
    assert membership(analyst, organisation) is None
    mine = membership(owner, organisation)
    response = owner_client.post(f"/team/members/{mine.id}/remove", follow_redirects=True)
    assert "last owner" in response.text and membership(owner, organisation) is not None


def test_owner_revokes_an_invitation(owner_client, owner, organisation):
    invitation, link = ops.invite_member(organisation, "x@example.com", "analyst", invited_by=owner)
    db.session.commit()
    assert owner_client.post(f"/team/invitations/{invitation.id}/revoke").status_code == 302
    assert owner_client.get("/invitations/" + link.rsplit("/", 1)[1]).status_code == 410


def test_analysts_see_the_team_but_cannot_manage_it(client, organisation, make_user, owner):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=organisation)
    ops.invite_member(organisation, "pending@example.com", "analyst", invited_by=owner)
    db.session.commit()
    login_as(client, analyst)
    page = client.get("/team")
    assert page.status_code == 200 and owner.email in page.text
    assert "pending@example.com" not in page.text and "Invite someone" not in page.text
    mine = membership(owner, organisation)
    assert (
        client.post("/team/invite", data={"email": "x@example.com", "role": "owner"}).status_code
        == 403
    )
    assert client.post(f"/team/members/{mine.id}/role", data={"role": "analyst"}).status_code == 403
    assert client.post(f"/team/members/{mine.id}/remove").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/settings").status_code == 403


def test_audit_page_is_for_owners_and_shows_this_organisation_only(
    owner_client, owner, organisation, make_organisation
):
    other = make_organisation("Other Co")
    ops.record_audit(organisation.id, owner, "report.downloaded", "survey:1", paper="a4")
    ops.record_audit(other.id, None, "export.downloaded", "survey:99")
    db.session.commit()
    page = owner_client.get("/audit")
    assert page.status_code == 200
    assert "report.downloaded" in page.text and "a4" in page.text
    assert "export.downloaded" not in page.text and "survey:99" not in page.text


def test_owner_renames_the_organisation(owner_client, organisation):
    response = owner_client.post("/settings", data={"name": "  Acme   Mutual "})
    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.name == "Acme Mutual"
    assert owner_client.post("/settings", data={"name": ""}).status_code == 400
    assert "organisation.renamed" in audit_actions(organisation)


def test_one_user_in_several_organisations_switches_between_them(
    client, make_user, make_organisation
):
    first = make_organisation("First Client")
    second = make_organisation("Second Client")
    outside = make_organisation("Not Mine")
    consultant = make_user("c@example.com", role=Role.CONSULTANT, organisation=first)
    db.session.add(Membership(user=consultant, organisation=second, role=Role.ANALYST))
    db.session.commit()
    login_as(client, consultant)
    assert "First Client" in client.get("/team").text
    response = client.post("/organisations/switch", data={"organisation_id": second.id})
    assert response.status_code == 302
    assert "Second Client" in client.get("/team").text
    assert (
        client.post("/organisations/switch", data={"organisation_id": outside.id}).status_code
        == 404
    )
    db.session.refresh(consultant)
    assert consultant.current_organisation_id == second.id
