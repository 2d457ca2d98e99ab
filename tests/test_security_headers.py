"""Security headers on every response, and no open redirect after login.

Every rule of ``app.url_map`` is requested with every method it allows, anonymously and
as the owner of the organisation that owns the data (see ``tests/hostile.py``), plus
every error page (400, 403, 404, 405, 413, 415, 429, 500, 503), a static file, the PDF
report, file downloads and the JSON API. Each response must carry:

* ``Content-Security-Policy`` whose ``script-src`` (or ``default-src``) allows neither
  inline scripts nor ``eval``, with ``frame-ancestors 'none'`` (or ``X-Frame-Options``);
* ``X-Content-Type-Options: nosniff``;
* a ``Referrer-Policy`` that never sends full URLs to other sites.

After login, ``next`` may only lead to a page of this site: hypothesis crafts targets
(``//evil.com``, ``/\\evil.com``, ``https:evil.com``, tabs and newlines that browsers
drop, unicode, percent-encoded variants) and the ``Location`` is read the way a browser
would read it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from tests.conftest import PASSWORD, make_test_app
from tests.hostile import (
    METHODS,
    build_path,
    changed_tables,
    methods_of,
    rules,
    send,
    snapshot,
    stage,
)

SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def header_problems(headers: dict) -> list[str]:
    problems = []
    csp = headers.get("Content-Security-Policy", "")
    directives = {}
    for part in csp.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.split()
    scripts = directives.get("script-src", directives.get("default-src"))
    if not csp:
        problems.append("no Content-Security-Policy")
    elif scripts is None:
        problems.append("CSP without script-src or default-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"CSP script-src allows {scripts}")
    if directives.get("frame-ancestors") != ["'none'"] and headers.get(
        "X-Frame-Options", ""
    ).upper() not in ("DENY", "SAMEORIGIN"):
        problems.append("neither frame-ancestors 'none' nor X-Frame-Options")
    if directives.get("object-src") not in (["'none'"], None) or "base-uri" not in directives:
        problems.append("CSP lets plugins run or the base URL change")
    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy", "").lower() not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    return problems


def test_the_header_check_itself_catches_weak_headers():
    good = {
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    assert header_problems(good) == []
    inline = good | {"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"}
    assert header_problems(inline)
    assert header_problems(good | {"Referrer-Policy": "unsafe-url"})
    assert header_problems({k: v for k, v in good.items() if k != "X-Content-Type-Options"})


def test_every_rule_and_method_has_security_headers(app):
    current = stage(app, pdf=True)
    scene = current.scene
    baseline = snapshot()
    problems = []
    seen_types = set()
    for rule in rules(app, METHODS):
        path = build_path(rule, scene)
        if path is None:
            continue
        for method in methods_of(rule):
            for user in (None, scene.owner_id):
                outcome = send(app, user, method, path, data={} if method != "GET" else None)
                seen_types.add(outcome.headers.get("Content-Type", "").split(";")[0])
                for problem in header_problems(outcome.headers):
                    who = "owner" if user else "anonymous"
                    problems.append(f"{method} {path} as {who} -> {outcome.status}: {problem}")
                if changed_tables(baseline, snapshot()):
                    current.reset()
    assert not problems, "\n".join(problems)
    # The walk really saw pages, files, the PDF, the API and stylesheets.
    assert {"text/html", "application/json", "application/pdf", "text/css"} <= seen_types


@pytest.fixture
def broken_app(database_url, tmp_path):
    """The app with routes that fail, to see the 500 and 503 pages."""
    broken = make_test_app(database_url, tmp_path, TESTING=False)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @broken.get("/database-down")
    def database_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    return broken


def test_every_error_page_has_security_headers(app, broken_app, database_url, tmp_path):
    scene = stage(app).scene
    analyst = scene.analyst_id
    limited = make_test_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute"
    )
    cases = [
        (app, None, "GET", "/r/abc%00", {}, 400),
        (app, analyst, "GET", "/settings", {}, 403),
        (app, None, "GET", "/no/such/page", {}, 404),
        (app, None, "GET", "/api/v1/surveys/999999/results", {}, 401),
        (app, None, "GET", "/auth/logout", {}, 405),
        (app, None, "POST", "/auth/login", {"body": b"x" * (6 * 1024 * 1024)}, 413),
        (
            app,
            scene.owner_id,
            "POST",
            "/settings",
            {"body": b"[]", "content_type": "application/json"},
            415,
        ),
        (broken_app, None, "GET", "/boom", {}, 500),
        (broken_app, None, "GET", "/database-down", {}, 503),
    ]
    problems = []
    for target, user, method, path, kwargs, status in cases:
        outcome = send(target, user, method, path, **kwargs)
        assert outcome.status == status, (path, outcome.status)
        problems += [f"{status} {path}: {p}" for p in header_problems(outcome.headers)]
    client = limited.test_client()
    for _ in range(2):
        outcome = send(limited, None, "POST", "/auth/login", data={"email": "x"}, client=client)
    assert outcome.status == 429
    problems += [f"429: {p}" for p in header_problems(outcome.headers)]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# No open redirect after login
# ---------------------------------------------------------------------------

EVIL = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example",
    "http:/evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\nLocation: https://evil.example",
    " //evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example@cxalign",
    "/ /evil.example",
    "／／evil.example",  # fullwidth solidus
    "/\u3000/evil.example",
    "\x00//evil.example",
    "//evil%E3%80%82example",
    # Regressions: each was a 500 (a newline in the Location header; urlsplit refusing
    # a host that is invalid under NFKC normalisation).
    "/\r\nLocation: https://evil.example",
    "//::\uff0f@evil.example",
]


def browser_target(location: str) -> tuple[str, str]:
    """(scheme, host) a browser would go to: it drops tabs and newlines, trims spaces and
    control characters, and reads a backslash as a slash."""
    cleaned = "".join(ch for ch in location if ch not in "\t\n\r").strip("\x00- ")
    cleaned = cleaned.replace("\\", "/")
    parts = urlsplit(cleaned)
    return parts.scheme.lower(), parts.netloc


def assert_same_site(location: str) -> None:
    scheme, host = browser_target(location)
    assert host in ("", "localhost"), f"redirects to another host: {location!r}"
    assert scheme in ("", "http", "https"), f"redirects to a {scheme}: URL: {location!r}"
    assert location.startswith("/") or host == "localhost", location


next_targets = st.one_of(
    st.sampled_from(EVIL),
    st.builds(
        lambda prefix, middle, host: prefix + middle + host,
        st.sampled_from(["", "/", "//", "\\", "/\\", "https:", "http://", "\t", " "]),
        st.text(st.sampled_from("/\\\t\n\r %:@.\u3000\uff0f"), max_size=4),
        st.sampled_from(["evil.example", "evil.example/path", "@evil.example"]),
    ),
    st.text(max_size=30),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(target=next_targets)
@example(target="/auth/password")
@example(target="//::\uff0f@evil.example")
@example(target="/\r\nSet-Cookie: stolen=1")
def test_no_open_redirect_after_login(app, target):
    scene = stage(app).scene
    outcome = send(
        app,
        None,
        "POST",
        "/auth/login",
        data={"email": scene.owner_email, "password": PASSWORD},
        query_string={"next": target},
    )
    if "\x00" in target:  # refused before any view runs (cxalign.security)
        assert outcome.status == 400, (target, outcome.status)
        return
    assert outcome.status == 302, (target, outcome.status)
    assert_same_site(outcome.location)
    # Already logged in, the login page sends the same ``next`` on at once.
    again = send(app, scene.owner_id, "GET", "/auth/login", query_string={"next": target})
    assert again.status in (302, 400), (target, again.status)
    if again.status == 302:
        assert_same_site(again.location)
