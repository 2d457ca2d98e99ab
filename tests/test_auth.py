"""Staff accounts: sign up, log in, log out, change password, and the pages around them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.models import Membership, Role, User
from tests.conftest import PASSWORD, make_test_app

SIGNUP = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.com",
    "organisation": "Analytical Engines Ltd",
    "password": "tidal-basin-lantern",
    "confirm": "tidal-basin-lantern",
}


def test_first_signup_becomes_admin_and_owner_of_a_new_organisation(client):
    response = client.post("/auth/signup", data=SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"

    user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user.is_admin
    assert user.password_hash != SIGNUP["password"]
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == Role.OWNER
    assert membership.organisation.name == "Analytical Engines Ltd"

    home = client.get("/home")
    assert "Analytical Engines Ltd" in home.text
    assert "No surveys yet" in home.text


def test_later_signups_are_not_admins(client, make_user):
    make_user("first@example.com")
    client.post("/auth/signup", data=SIGNUP)
    user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert not user.is_admin


def test_signup_with_an_existing_email_says_so(client, make_user):
    make_user("ada@example.com")
    response = client.post("/auth/signup", data=SIGNUP)
    assert response.status_code == 200
    assert "already exists" in response.text
    assert db.session.scalar(select(User).where(User.email == "ada@example.com")).name != "Ada"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10 characters"),
        ("password123", "too common"),
        ("aaaaaaaaaaaa", "different characters"),
        ("ada-secret-words", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(client, password, message):
    data = SIGNUP | {"email": "ada@example.com", "password": password, "confirm": password}
    response = client.post("/auth/signup", data=data)
    assert response.status_code == 200
    assert message in response.text
    assert db.session.scalar(select(User)) is None


def test_signup_form_reports_every_missing_field(client):
    response = client.post("/auth/signup", data={})
    assert response.status_code == 200
    assert response.text.count("This field is required.") >= 4


def test_login_and_logout(client, auth, owner):
    response = auth.login(owner)
    assert response.status_code == 302
    assert client.get("/home").status_code == 200
    assert client.get("/auth/logout").status_code == 405  # GET cannot log anyone out
    auth.logout()
    assert client.get("/home").status_code == 302


def test_login_with_a_wrong_password_is_refused_without_saying_which_part(client, auth, owner):
    response = auth.login(owner, "not-the-password")
    assert response.status_code == 200
    assert "do not match an account" in response.text
    assert client.get("/home").status_code == 302


def test_login_email_is_case_insensitive(client, auth, owner):
    assert auth.login(owner.email.upper()).status_code == 302


def test_pages_for_staff_redirect_to_login_with_next(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_no_open_redirect_after_login(client, owner, target):
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": owner.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_login_follows_a_local_next(client, owner):
    response = client.post(
        "/auth/login",
        query_string={"next": "/auth/password"},
        data={"email": owner.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/auth/password"


def test_password_change(client, auth, owner):
    auth.login(owner)
    wrong = client.post(
        "/auth/password",
        data={"current": "nope", "password": "new-river-stones", "confirm": "new-river-stones"},
    )
    assert "current password is not right" in wrong.text
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "password": "new-river-stones", "confirm": "new-river-stones"},
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login(owner, PASSWORD).status_code == 200
    assert auth.login(owner, "new-river-stones").status_code == 302


def test_switching_organisation_only_to_ones_you_belong_to(
    client, auth, make_user, make_organisation
):
    user = make_user("multi@example.com")
    other = make_organisation("Second Client")
    db.session.add(Membership(user=user, organisation=other, role=Role.CONSULTANT))
    stranger = make_organisation("Not Yours")
    db.session.commit()
    auth.login(user)
    assert "Second Client" in client.get("/home").text  # in the switcher

    client.post("/organisations/switch", data={"organisation_id": other.id})
    assert "Consultant" in client.get("/home").text
    assert (
        client.post("/organisations/switch", data={"organisation_id": stranger.id}).status_code
        == 404
    )
    assert client.post("/organisations/switch", data={"organisation_id": "x"}).status_code == 400


def test_friendly_error_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Traceback" not in response.text


def test_unexpected_errors_get_a_friendly_500(database_url, tmp_path):
    broken = make_test_app(database_url, tmp_path, TESTING=False)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = broken.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "kaboom" not in response.text


def test_forms_refuse_posts_without_a_csrf_token(database_url, tmp_path, owner):
    guarded = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    response = client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired or was sent from another site" in response.text


def test_login_is_rate_limited_politely(database_url, tmp_path, owner):
    limited = make_test_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"
    )
    client = limited.test_client()
    for _ in range(3):
        client.post("/auth/login", data={"email": owner.email, "password": "wrong-guess"})
    response = client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.text


def test_security_headers_on_every_response(client):
    for path in ("/", "/auth/login", "/missing"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
