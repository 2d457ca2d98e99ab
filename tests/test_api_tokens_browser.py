"""The API token page in a real browser: create on a phone, copy, revoke with a confirmation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_an_owner_creates_and_revokes_a_token_on_a_phone(phone_page, live_server, owner):
    page = phone_page
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")

    page.get_by_text("Menu").click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url(live_server + "/settings/api-tokens")
    assert page.get_by_text("No tokens yet").is_visible()

    page.get_by_label("Token name").fill("Power BI")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="New API token").input_value()
    assert re.fullmatch(r"cxa_[A-Za-z0-9_-]{43}", secret)
    assert page.get_by_text("it is shown only this once").is_visible()
    assert page.get_by_role("button", name="Copy token").is_visible()  # shown by app.js
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # The confirmation is asked; dismissing it keeps the token.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke Power BI").click()
    assert db.session.scalar(select(ApiToken.revoked_at)) is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Power BI").click()
    page.get_by_text("The token “Power BI” is revoked").wait_for()
    assert secret not in page.content()
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None
