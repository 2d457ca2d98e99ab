"""Friendly error pages for people, JSON errors for the API."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from cxalign.extensions import db, login_manager

MESSAGES = {
    400: ("Bad request", "We could not understand that request."),
    403: ("Not allowed", "Your account does not have permission to do that."),
    404: ("Page not found", "There is nothing here. The link may be mistyped or no longer valid."),
    405: ("Not allowed", "That page cannot be used that way."),
    413: ("Too large", "That upload is larger than 5 MB."),
    415: ("Not accepted", "That page accepts form data only."),
    429: ("Slow down", "Too many attempts. Please wait a minute and try again."),
    500: ("Something went wrong", "We have been told about it. Please try again in a moment."),
    503: (
        "Please try again",
        "We could not reach the database just now. Nothing you saved earlier is lost: "
        "wait a few seconds and try again.",
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, detail: str | None = None, **context):
    title, message = MESSAGES.get(status, MESSAGES[500])
    if wants_json():
        return jsonify(error=title, detail=detail or message, status=status), status
    return render_template(
        "errors/error.html", status=status, title=title, message=detail or message, **context
    ), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # A view's own reason (abort(400, "...")) is shown; Werkzeug's stock text is not.
        # Flask-Limiter's reason names the limit itself, so 429 keeps our kinder wording.
        custom = _is_custom(error) and error.code != 429
        return render_error(error.code or 500, error.description if custom else None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "This form has expired or was sent from another site. Go back, reload and try again.",
        )

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # A database blip must never show a stack trace; committed work is already safe.
        db.session.rollback()
        app.logger.warning("database unavailable: %s", error)
        # The page must render without the database: no user lookup for the navigation.
        g._login_user = login_manager.anonymous_user()
        # A questionnaire page that could not be saved: "Try again" sends the same answers.
        retry = None
        if request.method == "POST" and request.blueprint == "respond":
            retry = {"action": request.path, "fields": list(request.form.items(multi=True))}
        body, status = render_error(503, retry=retry)
        return body, status, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)


def _is_custom(error: HTTPException) -> bool:
    """True when a view aborted with its own reason (abort(400, "...")), not Werkzeug's default."""
    return error.description != type(error).description
