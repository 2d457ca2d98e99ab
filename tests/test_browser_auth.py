"""A person signs up, logs out and logs back in, in a real Chromium."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_up_log_out_log_in_and_see_home(page, live_server):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Work email").fill("grace@example.com")
    page.get_by_label("Organisation").fill("Compilers Inc")
    page.get_by_label("Password", exact=True).fill("nanosecond-wire-2026")
    page.get_by_label("Repeat password").fill("nanosecond-wire-2026")
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(live_server + "/home")
    assert page.get_by_role("heading", name="Surveys", exact=True).is_visible()
    assert "Compilers Inc" in page.content()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server + "/auth/login")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password").fill("nanosecond-wire-2026")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")
    assert "Welcome back, Grace Hopper" in page.content()


def test_navigation_works_on_a_phone(phone_page, live_server, make_user):
    make_user("phone@example.com", name="Pat Phone")
    page = phone_page
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill("phone@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")

    log_out = page.get_by_role("button", name="Log out")
    assert not log_out.is_visible()  # folded away behind the menu on a small screen
    page.get_by_text("Menu").click()
    assert log_out.is_visible()
    # Nothing overflows sideways on a 375px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
