"""The read-only JSON API and the page where owners manage API tokens.

``GET /api/v1/surveys`` and ``GET /api/v1/surveys/<id>/results`` answer either a
signed-in member of the survey's organisation (any role, through the session cookie) or
a request carrying ``Authorization: Bearer <token>`` with an active token of that
organisation. When a request carries a bearer token, only the token counts.

* no credentials at all: 401 with ``WWW-Authenticate: Bearer``;
* a malformed, unknown or revoked token: 401 with ``error="invalid_token"``;
* valid credentials but a survey that does not exist or belongs to another
  organisation: 404, the same answer in both cases, so ids reveal nothing.

The results are exactly what ``flask --app app cxalign score ID --json`` prints
(``cxalign.analysis.results_document``). See docs/api.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from cxalign.access import require_current_membership
from cxalign.api import tokens as token_ops
from cxalign.api.forms import TokenForm
from cxalign.extensions import csrf, db, limiter
from cxalign.models import ApiToken, Membership, Organisation, Survey, User

bp = Blueprint("api", __name__)

DEFAULT_RATE_LIMIT = "120 per minute"


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


# --------------------------------------------------------------------------- callers


@dataclass(frozen=True)
class ApiCaller:
    """Who is asking: a token of one organisation, or a staff member of several."""

    organisation_ids: frozenset[int]
    token: ApiToken | None = None
    user: User | None = None

    def may_read(self, survey: Survey | None) -> bool:
        return survey is not None and survey.organisation_id in self.organisation_ids


class Unauthenticated(Exception):
    """No usable credentials: answered with 401."""

    def __init__(self, detail: str, error: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.error = error


def api_caller() -> ApiCaller:
    """The caller of this API request; raises :class:`Unauthenticated` when there is none."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated(
                "Send the token as 'Authorization: Bearer <token>'.", "invalid_request"
            )
        token = token_ops.authenticate(secret.strip())
        if token is None:
            raise Unauthenticated("This token is not valid or has been revoked.", "invalid_token")
        if db.session.is_modified(token):
            db.session.commit()  # last_used_at
        return ApiCaller(frozenset({token.organisation_id}), token=token)
    if current_user.is_authenticated:
        ids = db.session.scalars(
            select(Membership.organisation_id).where(Membership.user_id == current_user.id)
        )
        return ApiCaller(frozenset(ids), user=current_user._get_current_object())
    raise Unauthenticated("Log in, or send an API token as 'Authorization: Bearer <token>'.")


@bp.errorhandler(Unauthenticated)
def unauthenticated(error: Unauthenticated):
    response = api_error(401, "Unauthorized", error.detail)
    challenge = 'Bearer realm="cxalign"'
    if error.error:
        challenge += f', error="{error.error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def api_error(status: int, title: str, detail: str) -> Response:
    """The API's error body, the same shape as ``cxalign.errors`` uses for /api/ paths."""
    response = jsonify(error=title, detail=detail, status=status)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(document: dict) -> Response:
    """JSON in the document's own key order (as ``score --json`` prints it)."""
    return Response(
        json.dumps(document, separators=(",", ":"), allow_nan=False),
        mimetype="application/json",
    )


# --------------------------------------------------------------------------- endpoints


@bp.get("/api/v1/surveys")
@csrf.exempt
@limiter.limit(_rate_limit)
def surveys():
    """The surveys the caller may read, newest first within each organisation."""
    caller = api_caller()
    rows = db.session.execute(
        select(Survey, Organisation)
        .join(Organisation, Organisation.id == Survey.organisation_id)
        .where(Survey.organisation_id.in_(caller.organisation_ids))
        .order_by(Organisation.name, Organisation.id, Survey.created_at.desc(), Survey.id.desc())
    ).all()
    response = _json(
        {
            "surveys": [
                {
                    "id": survey.id,
                    "title": survey.title,
                    "status": survey.status,
                    "organisation": {"id": organisation.id, "name": organisation.name},
                    "opens_on": _iso(survey.opens_on),
                    "closes_on": _iso(survey.closes_on),
                    "created_at": _iso(survey.created_at),
                    "results_url": url_for("api.results", survey_id=survey.id, _external=True),
                }
                for survey, organisation in rows
            ]
        }
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/api/v1/surveys/<int:survey_id>/results")
@csrf.exempt
@limiter.limit(_rate_limit)
def results(survey_id: int):
    """The full gap analysis of one survey, identical to ``cxalign score ID --json``.

    Sends an ``ETag``; a request with a matching ``If-None-Match`` gets 304 without the
    survey being scored again.
    """
    from cxalign.analysis import analyse_survey, data_version, results_document

    caller = api_caller()
    survey = db.session.get(Survey, survey_id)
    if not caller.may_read(survey):
        return api_error(
            404,
            "Not found",
            f"There is no survey {survey_id}, or these credentials cannot read it.",
        )
    etag = _results_etag(survey, data_version(survey))
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = _json(results_document(survey, analyse_survey(survey)))
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _results_etag(survey: Survey, version: str) -> str:
    from cxalign.scoring import METHOD_VERSION

    key = repr(
        (version, METHOD_VERSION, survey.instrument_id, survey.status, survey.organisation.name)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --------------------------------------------------------------------------- token settings


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _token_rows(organisation: Organisation) -> list[TokenRow]:
    tokens = token_ops.tokens_of(organisation)
    creator_ids = {t.created_by_id for t in tokens if t.created_by_id is not None}
    creators = {}
    if creator_ids:
        users = db.session.scalars(select(User).where(User.id.in_(creator_ids)))
        creators = {user.id: user.display_name for user in users}
    return [
        TokenRow(
            id=t.id,
            name=t.name,
            created_at=t.created_at,
            created_by=creators.get(t.created_by_id),
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t in tokens
    ]


@bp.route("/settings/api-tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Owners list, create and revoke their organisation's API tokens."""
    membership = require_current_membership(manage=True)
    organisation = membership.organisation
    form = TokenForm()
    revealed = None
    status = 200
    if form.validate_on_submit():
        try:
            token, secret = token_ops.create_token(
                organisation, form.name.data, user=current_user._get_current_object()
            )
        except token_ops.TokenError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            revealed = {"name": token.name, "secret": secret}
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    return (
        render_template(
            "api/tokens.html",
            organisation=organisation,
            form=form,
            tokens=_token_rows(organisation),
            revealed=revealed,
            max_active=token_ops.MAX_ACTIVE_TOKENS,
            surveys_url=url_for("api.surveys", _external=True),
        ),
        status,
    )


@bp.post("/settings/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    membership = require_current_membership(manage=True)
    token = token_ops.token_of(membership.organisation, token_id)
    if token is None:
        abort(404)
    try:
        token_ops.revoke_token(token, user=current_user._get_current_object())
    except token_ops.TokenError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"The token “{token.name}” is revoked: requests with it are refused.", "success")
    return redirect(url_for("api.tokens"))
