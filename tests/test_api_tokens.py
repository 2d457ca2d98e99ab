"""API tokens: the operations, and the settings page where owners manage them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cxalign.api import tokens as token_ops
from cxalign.extensions import db
from cxalign.models import ApiToken, AuditEvent, Role, hash_token, utcnow

TOKENS_URL = "/settings/api-tokens"
SECRET = re.compile(r"cxa_[A-Za-z0-9_-]{43}")


def audit_actions() -> list[tuple[str, str]]:
    return list(
        db.session.execute(select(AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id))
    )


# Operations ------------------------------------------------------------------------


def test_create_stores_only_the_hash_and_audits(make_organisation, make_user):
    acme = make_organisation()
    user = make_user(organisation=acme)
    token, secret = token_ops.create_token(acme, "  BI   dashboard ", user=user)
    db.session.commit()
    assert SECRET.fullmatch(secret)
    assert token.name == "BI dashboard"
    assert token.token_hash == hash_token(secret) and secret not in token.token_hash
    assert token.created_by_id == user.id and token.revoked_at is None
    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.target, event.user_id) == (
        "api_token.created",
        f"api_token:{token.id}",
        user.id,
    )
    assert event.detail == {"name": "BI dashboard"}
    assert token_ops.authenticate(secret) == token


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name"),
        ("   ", "Give the token a name"),
        ("x" * 101, "at most 100 characters"),
        ("bi DASHBOARD", "An active token is already named “bi DASHBOARD”"),
    ],
)
def test_create_refuses_bad_names(make_organisation, name, message):
    acme = make_organisation()
    token_ops.create_token(acme, "BI dashboard", user=None)
    with pytest.raises(token_ops.TokenError, match=message):
        token_ops.create_token(acme, name, user=None)


def test_a_revoked_tokens_name_can_be_used_again_and_other_organisations_are_separate(
    make_organisation,
):
    acme, globex = make_organisation("Acme"), make_organisation("Globex")
    first, _ = token_ops.create_token(acme, "BI", user=None)
    token_ops.create_token(globex, "BI", user=None)
    token_ops.revoke_token(first, user=None)
    token_ops.create_token(acme, "BI", user=None)
    assert len(token_ops.tokens_of(acme)) == 2


def test_there_is_a_limit_on_active_tokens(make_organisation, monkeypatch):
    monkeypatch.setattr(token_ops, "MAX_ACTIVE_TOKENS", 2)
    acme = make_organisation()
    first, _ = token_ops.create_token(acme, "one", user=None)
    token_ops.create_token(acme, "two", user=None)
    with pytest.raises(token_ops.TokenError, match="already has 2 active tokens"):
        token_ops.create_token(acme, "three", user=None)
    token_ops.revoke_token(first, user=None)
    token_ops.create_token(acme, "three", user=None)


def test_revoking_is_final_and_audited(make_organisation):
    acme = make_organisation()
    token, secret = token_ops.create_token(acme, "BI", user=None)
    token_ops.revoke_token(token, user=None)
    assert token.revoked_at is not None
    assert token_ops.authenticate(secret) is None
    with pytest.raises(token_ops.TokenError, match="already revoked"):
        token_ops.revoke_token(token, user=None)
    assert [action for action, _ in audit_actions()] == ["api_token.created", "api_token.revoked"]


def test_last_used_is_written_at_most_once_a_minute(make_organisation):
    acme = make_organisation()
    token, secret = token_ops.create_token(acme, "BI", user=None)
    now = utcnow()
    token_ops.authenticate(secret, now=now)
    assert token.last_used_at == now
    token_ops.authenticate(secret, now=now + timedelta(seconds=30))
    assert token.last_used_at == now
    later = now + timedelta(minutes=2)
    token_ops.authenticate(secret, now=later)
    assert token.last_used_at == later


def test_tokens_of_another_organisation_are_not_found(make_organisation):
    acme, globex = make_organisation("Acme"), make_organisation("Globex")
    token, _ = token_ops.create_token(globex, "BI", user=None)
    assert token_ops.token_of(acme, token.id) is None
    assert token_ops.token_of(globex, token.id) == token


# The settings page --------------------------------------------------------------------


def test_owners_create_a_token_and_see_it_once(owner_client, owner):
    page = owner_client.get(TOKENS_URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No tokens yet" in html
    assert '<a href="/settings/api-tokens" aria-current="page">API tokens</a>' in html  # nav

    created = owner_client.post(TOKENS_URL, data={"name": "Data warehouse"})
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    (secret,) = set(SECRET.findall(html))
    assert "it is shown only this once" in html
    assert 'data-copy="revealed-token"' in html
    assert "Data warehouse" in html

    # Shown once: the list never shows it again, and it works.
    again = owner_client.get(TOKENS_URL).get_data(as_text=True)
    assert secret not in again and "Data warehouse" in again and "Never" in again
    listed = owner_client.get("/api/v1/surveys", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200
    db.session.rollback()  # keeps only what the request committed
    token = db.session.scalar(select(ApiToken))
    assert token.created_by_id == owner.id
    assert audit_actions() == [("api_token.created", f"api_token:{token.id}")]


def test_form_errors_are_shown_and_nothing_is_created(owner_client):
    empty = owner_client.post(TOKENS_URL, data={"name": ""})
    assert empty.status_code == 400
    assert "Give the token a name" in empty.get_data(as_text=True)
    owner_client.post(TOKENS_URL, data={"name": "BI"})
    duplicate = owner_client.post(TOKENS_URL, data={"name": "bi"})
    assert duplicate.status_code == 400
    assert "An active token is already named" in duplicate.get_data(as_text=True)
    assert len(db.session.scalars(select(ApiToken)).all()) == 1


def test_owners_revoke_a_token(owner_client, owner):
    membership = owner.memberships[0]
    token, secret = token_ops.create_token(membership.organisation, "BI", user=owner)
    db.session.commit()
    response = owner_client.post(f"{TOKENS_URL}/{token.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == TOKENS_URL
    page = owner_client.get(TOKENS_URL).get_data(as_text=True)
    assert "The token “BI” is revoked" in page
    assert "Revoked" in page
    db.session.rollback()  # keeps only what the request committed
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert (
        owner_client.get(
            "/api/v1/surveys", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )
    # Revoking twice explains instead of failing.
    owner_client.post(f"{TOKENS_URL}/{token.id}/revoke")
    assert "already revoked" in owner_client.get(TOKENS_URL).get_data(as_text=True)
    assert [a for a, _ in audit_actions()] == ["api_token.created", "api_token.revoked"]


def test_a_token_of_another_organisation_cannot_be_revoked(owner_client, make_organisation):
    globex = make_organisation("Globex")
    token, _ = token_ops.create_token(globex, "BI", user=None)
    db.session.commit()
    assert owner_client.post(f"{TOKENS_URL}/{token.id}/revoke").status_code == 404
    assert owner_client.post(f"{TOKENS_URL}/99999/revoke").status_code == 404
    db.session.rollback()  # keeps only what the request committed
    assert db.session.get(ApiToken, token.id).revoked_at is None


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CONSULTANT])
def test_only_owners_manage_tokens(client, auth, make_user, make_organisation, role):
    acme = make_organisation()
    token, _ = token_ops.create_token(acme, "BI", user=None)
    db.session.commit()
    auth.login(make_user(role=role, organisation=acme))
    assert client.get(TOKENS_URL).status_code == 403
    assert client.post(TOKENS_URL, data={"name": "Mine"}).status_code == 403
    assert client.post(f"{TOKENS_URL}/{token.id}/revoke").status_code == 403
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert ">Surveys</a>" in home and ">API tokens</a>" not in home
    assert len(db.session.scalars(select(ApiToken)).all()) == 1


def test_the_page_needs_a_login(client):
    response = client.get(TOKENS_URL)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.post(f"{TOKENS_URL}/1/revoke").status_code == 302


def test_a_user_without_an_organisation_gets_404(client, auth, make_user):
    auth.login(make_user(role=None))
    assert client.get(TOKENS_URL).status_code == 404


def test_names_are_escaped(owner_client):
    owner_client.post(TOKENS_URL, data={"name": "<script>alert(1)</script>"})
    html = owner_client.get(TOKENS_URL).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
