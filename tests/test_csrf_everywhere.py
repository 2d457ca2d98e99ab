"""CSRF on every state-changing route, and no state change through any GET.

The app is built with CSRF protection on (as in production). For every rule of
``app.url_map`` that accepts POST/PUT/PATCH/DELETE, a request that would otherwise be
plausible (the real form's fields, see ``tests/hostile.py``) is sent by A's owner (or,
for respondent and invitation links, anonymously with a valid token):

* without a token, with a made-up token, and with a real token of *another* session:
  each is refused with 400 and a CSRF reason, and the database is unchanged;
* with the session's own token: not refused for CSRF (so the refusals above are really
  the CSRF check at work, not some other error).

Routes without CSRF must be listed in ``CSRF_EXEMPT`` with the reason, and are then
proven not to act on a cookie-authenticated session that sends no token.

GET requests must not change state: every GET rule is requested as A's owner (public
ones anonymously) and the whole database compared, with the justified exceptions of
``GET_MAY_WRITE``.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask

from tests.conftest import make_test_app
from tests.hostile import (
    STATE_CHANGING,
    FormShape,
    build_path,
    changed_tables,
    encode_form,
    is_public,
    plausible,
    rules,
    send,
    snapshot,
    stage,
    user_for,
)

# endpoint -> why it needs no CSRF token. None today: the JSON API only reads.
CSRF_EXEMPT: dict[str, str] = {}

# endpoint -> (tables a GET may write, why).
GET_MAY_WRITE: dict[str, tuple[frozenset[str], str]] = {
    "respond.join": (
        frozenset({"respondent"}),
        "an open link's first visit creates the visitor's own respondent; it needs no "
        "account and grants nothing beyond answering (rate-limited)",
    ),
}
# Any GET may append to the audit log (downloads of reports and exports are audited) and
# fill the report cache; nothing else.
GET_MAY_APPEND = frozenset({"audit_event", "rendered_report"})

CSRF_REASONS = (
    "expired or was sent from another site",  # the error page
    "This form has expired",  # a staff form shown again
    "could not save it safely",  # a questionnaire page shown again, choices kept
)


@pytest.fixture
def guarded(database_url, tmp_path, app) -> Flask:
    stage(app)  # the scene is built with the main app, on the same database
    return make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)


def session_token(client, user_id: int | None, guarded: Flask, token_page: str) -> str:
    """The CSRF token of this client's session, as a page of the app hands it out."""
    outcome = send(guarded, user_id, "GET", token_page, client=client)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', outcome.text)
    if match is None:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', outcome.text)
    assert match, f"no CSRF token on {token_page} ({outcome.status})"
    return match.group(1)


def plausible_pairs(shape: FormShape) -> list[tuple[str, str]]:
    return [(name, plausible(name, shape)) for name in shape.field_names()]


def csrf_refused(outcome) -> bool:
    """400 for the CSRF token: the error page, the form's own message, or (the
    questionnaire's background save) a JSON error about the ``csrf_token`` field."""
    if outcome.status != 400:
        return False
    if outcome.headers.get("Content-Type", "").startswith("application/json"):
        return "csrf_token" in json.loads(outcome.body).get("fields", {})
    return any(reason in outcome.text for reason in CSRF_REASONS)


def state_changing_rules(app: Flask):
    return [r for r in rules(app, STATE_CHANGING) if r.endpoint != "static"]


def token_page_for(rule, scene) -> str:
    """A page that hands out a CSRF token to the visitor who uses this rule."""
    if rule.rule.startswith("/r/"):
        return f"/r/{scene.answering_token}/page/1"
    return "/auth/login" if is_public(rule) else "/auth/password"


def test_every_state_changing_route_requires_a_csrf_token(app, guarded):
    current = stage(app)
    scene = current.scene
    baseline = snapshot()
    problems = []
    checked = 0
    # One session per kind of visitor (with its own token) and one "other" session.
    sessions: dict[str, tuple] = {}
    for rule in state_changing_rules(guarded):
        path = build_path(rule, scene)
        if path is None or rule.endpoint in CSRF_EXEMPT:
            continue  # unknown parameters: test_route_isolation reports them
        shape = current.shapes.get(rule.endpoint, FormShape())
        query = {k: sorted(v)[0] for k, v in shape.query.items() if v}
        url = path + ("?" + encode_form(query.items()).decode() if query else "")
        user = user_for(rule, scene)
        page = token_page_for(rule, scene)
        if page not in sessions:
            own_client, other_client = guarded.test_client(), guarded.test_client()
            sessions[page] = (
                own_client,
                session_token(own_client, user, guarded, page),
                session_token(other_client, user, guarded, page),
            )
        client, own, foreign = sessions[page]
        attempts = [
            ("no token", None),
            ("a made-up token", "x" * 40),
            ("another session's token", foreign),
        ]
        for method in (m for m in STATE_CHANGING if m in rule.methods):
            for label, token in attempts:
                pairs = plausible_pairs(shape)
                if token is not None:
                    pairs.append(("csrf_token", token))
                outcome = send(guarded, user, method, url, body=encode_form(pairs), client=client)
                changed = changed_tables(baseline, snapshot())
                if not csrf_refused(outcome):
                    problems.append(f"{method} {rule.rule} with {label}: {outcome.status}")
                if changed:
                    problems.append(f"{method} {rule.rule} with {label} changed {changed}")
                    current.reset()
            # The control: with the session's own token, no CSRF refusal.
            pairs = [*plausible_pairs(shape), ("csrf_token", own)]
            outcome = send(guarded, user, method, url, body=encode_form(pairs), client=client)
            if csrf_refused(outcome):
                problems.append(f"{method} {rule.rule}: refused even with a valid token")
            if changed_tables(baseline, snapshot()):
                current.reset()
            checked += 1
    assert checked >= 30, "the walk checked too few routes"
    assert not problems, "\n".join(problems)


def test_the_csrf_header_is_checked_too(app, guarded):
    """A wrong X-CSRFToken header does not help: still 400, nothing changed."""
    scene = stage(app).scene
    before = snapshot()
    outcome = send(
        guarded,
        scene.owner_id,
        "POST",
        "/settings",
        body=encode_form([("name", "Renamed")]),
        headers={"X-CSRFToken": "forged"},
    )
    assert csrf_refused(outcome)
    assert not changed_tables(before, snapshot())


def test_exempt_routes_ignore_cookie_sessions(app, guarded):
    """Every CSRF exemption has a reason, names a real route, and a logged-in browser
    (cookie, no token) cannot change anything through it."""
    current = stage(app)
    endpoints = {rule.endpoint for rule in guarded.url_map.iter_rules()}
    for endpoint, reason in CSRF_EXEMPT.items():
        assert endpoint in endpoints and reason.strip()
    for rule in state_changing_rules(guarded):
        if rule.endpoint not in CSRF_EXEMPT:
            continue
        path = build_path(rule, current.scene)
        for method in (m for m in STATE_CHANGING if m in rule.methods):
            before = snapshot()
            outcome = send(guarded, current.scene.owner_id, method, path, body=b"a=1")
            assert outcome.status in (400, 401, 403, 405), (rule.rule, outcome.status)
            assert not changed_tables(before, snapshot()), rule.rule


def test_get_requests_change_nothing(app):
    current = stage(app, pdf=True)
    scene = current.scene
    problems = []
    for rule in rules(app, ["GET"]):
        path = build_path(rule, scene)
        if path is None:
            continue
        for user in {user_for(rule, scene), None if is_public(rule) else scene.analyst_id}:
            before = snapshot()
            outcome = send(app, user, "GET", path)
            after = snapshot()
            changed = set(changed_tables(before, after))
            allowed, _ = GET_MAY_WRITE.get(rule.endpoint, (frozenset(), ""))
            appended = {
                name for name in changed & GET_MAY_APPEND if after[name][0] >= before[name][0]
            }
            unexpected = changed - allowed - appended
            if outcome.status >= 500:
                problems.append(f"GET {path}: {outcome.status}")
            if unexpected:
                problems.append(f"GET {path} ({rule.endpoint}) changed {sorted(unexpected)}")
            if changed:
                current.reset()
    assert not problems, "\n".join(problems)


def test_get_may_write_names_real_routes_with_reasons(app):
    endpoints = set(app.view_functions)
    for endpoint, (tables, reason) in GET_MAY_WRITE.items():
        assert endpoint in endpoints, endpoint
        assert tables and reason.strip()
