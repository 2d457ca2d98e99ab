"""Security headers on every response, and a first check of every request's input.

The input check refuses, before any view runs, what no form of the app can legitimately
send and what would otherwise surface as a server error deep down:

* NUL characters anywhere in the URL, the query string or the form (PostgreSQL cannot
  store them in text columns, and no person types one): 400;
* JSON bodies sent to the HTML forms (Flask-WTF would read a JSON list or a number as
  form data; every form of the app posts form data): 415;
* integer ids in the URL beyond what the database can hold (SQLite raises
  ``OverflowError`` for them, PostgreSQL "integer out of range"): 404, the answer for any
  id that does not exist. Ids and page numbers in forms and query strings are read with
  :func:`database_int` for the same reason.

tests/test_fuzz_forms.py is what found each of these.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

# No inline scripts or styles anywhere: every script and stylesheet is a file in static/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# Primary keys are 32-bit integers on PostgreSQL; nothing larger can name a row.
MAX_ID = 2**31 - 1

NUL_MESSAGE = (
    "The request contains a NUL character, which no form accepts. Remove it and try again."
)


def database_int(value: str) -> int:
    """``type=`` for ids and page numbers read from a form or query string.

    A positive integer in ASCII digits that the database's integer columns can hold;
    anything else raises ``ValueError``, which Werkzeug's ``get(name, type=...)`` turns
    into the default. (``int()`` alone accepts ``1_000`` and 40-digit numbers, and
    ``str.isdigit()`` accepts ``²``, which ``int()`` then refuses.)
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a positive integer: {value[:20]!r}")
    number = int(text)
    if not 0 < number <= MAX_ID:
        raise ValueError(f"out of range: {value[:20]!r}")
    return number


def record_id(reference: str) -> int | None:
    """The id a form field or command-line argument names, or None when it is not one the
    database could hold (``"²"`` passes ``str.isdigit()``, and a 40-digit number overflows
    the column)."""
    try:
        return database_int(reference)
    except ValueError:
        return None


def contains_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def check_request_input() -> None:
    """Refuse input that no page of the app sends (see the module docstring)."""
    if "\x00" in request.path or contains_nul(request.args.keys()):
        abort(400, NUL_MESSAGE)
    if contains_nul(value for values in request.args.listvalues() for value in values):
        abort(400, NUL_MESSAGE)
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            abort(404)
        if isinstance(value, str) and "\x00" in value:
            abort(400, NUL_MESSAGE)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json and not request.path.startswith("/api/"):
            abort(415, "This form accepts form data only.")
        form = request.form
        if contains_nul(form.keys()) or contains_nul(
            value for values in form.listvalues() for value in values
        ):
            abort(400, NUL_MESSAGE)


def register(app: Flask) -> None:
    app.before_request(check_request_input)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
