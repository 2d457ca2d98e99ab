"""Every route of the app, walked as an outsider, as members of another organisation and as
an analyst, against the data of organisation B.

The route list comes from ``app.url_map``, so a new route is walked automatically. A route
whose URL has a parameter this file does not know how to fill fails
:func:`test_every_route_is_public_or_mapped`: add an access check to the view and a
mapping to ``PARAMETERS`` (or, for a truly public route, an entry in ``PUBLIC`` with the
reason why).

What must hold, for every method a rule allows:

* anonymous visitors are sent to the login page, or get 401 / 404; never B's data, never 500;
* owners and analysts of organisation A get 404 for anything that belongs to B (analysts
  may get 403 first for owner-only actions), never B's data in any page, never a 500, and
  B's data is unchanged afterwards;
* B's own analyst gets 403 (or 404) for every owner-only page and every change, and B's
  data is unchanged afterwards.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import Rule

from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    ApiToken,
    AuditEvent,
    EmailMessage,
    Group,
    Instrument,
    Membership,
    OpenLink,
    Organisation,
    Respondent,
    RespondentStatus,
    Response,
    Role,
    StaffInvitation,
    Survey,
    SurveyStatus,
    User,
    hash_token,
    new_token,
    utcnow,
)

# Every string of organisation B's data contains this marker, so that a page showing any
# of it to someone outside B is caught whatever the page looks like.
MARKER = "zqxborealis"

# ---------------------------------------------------------------------------
# Routes that anyone may call: each with the reason why.
# ---------------------------------------------------------------------------

PUBLIC: dict[str, str] = {
    "static": "stylesheets, scripts and images; no organisation data",
    "main.index": "the landing page (members are redirected to their home page)",
    "main.health": "load-balancer health check; answers only {'status': 'ok'}",
    "auth.login": "the login form itself",
    "auth.signup": "creating an account and a new, empty organisation",
    "organisations.accept_invitation": "a staff invitation link: authorised by its "
    "single-use, expiring token alone",
}

# Respondents have no account: their personal or open link is their only credential.
PUBLIC_RULE_PREFIXES: dict[str, str] = {
    "/r/<token>": "a respondent's personal link: authorised by its secret token",
    "/join/<token>": "a survey's open link: authorised by its secret token",
}

# POSTs an analyst may make: everything else that changes data is for owners only.
ANALYST_ACTIONS: dict[str, str] = {
    "main.switch_organisation": "switching to another organisation the user belongs to",
    "auth.logout": "logging out",
    "auth.password": "changing one's own password",
}

# Pages that only owners may even read (their links appear only for owners).
OWNER_ONLY_PAGES: frozenset[str] = frozenset(
    {
        "organisations.audit",
        "organisations.settings",
        "api.tokens",
        "surveys.new",
        "surveys.settings",
        "surveys.outbox",
        "surveys.outbox_message",
        "exports.purge",
    }
)

PUBLIC_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------------------
# Two organisations with one of everything
# ---------------------------------------------------------------------------


@dataclass
class Tenant:
    organisation: Organisation
    owner: User
    analyst: User
    survey: Survey
    respondent: Respondent
    respondent_token: str
    open_link: OpenLink
    open_link_token: str
    api_token: ApiToken
    api_secret: str
    audit_event: AuditEvent
    invitation: StaffInvitation
    invitation_token: str
    message: EmailMessage
    instrument: Instrument
    analyst_membership: Membership
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    a: Tenant
    b: Tenant


def make_tenant(app: Flask, label: str, marker: str, builtin: Instrument) -> Tenant:
    organisation = Organisation(name=f"{label} organisation {marker}")
    db.session.add(organisation)
    db.session.flush()
    users = {}
    memberships = {}
    for role in (Role.OWNER, Role.ANALYST):
        user = User(
            email=f"{role}.{label.lower()}{marker}@example.com",
            name=f"{label} {role} {marker}",
        )
        user.set_password("correct-horse-battery")
        db.session.add(user)
        membership = Membership(user=user, organisation=organisation, role=role)
        db.session.add(membership)
        db.session.flush()
        user.current_organisation_id = organisation.id
        users[role] = user
        memberships[role] = membership
    instrument = Instrument(
        organisation_id=organisation.id,
        key=f"custom-{label.lower()}",
        version=1,
        name=f"{label} instrument {marker}",
    )
    db.session.add(instrument)
    survey = Survey(
        organisation_id=organisation.id,
        instrument_id=builtin.id,
        title=f"{label} survey {marker}",
        status=SurveyStatus.OPEN,
        opened_at=utcnow(),
        anonymity_executive=1,
        anonymity_cx=1,
        comment_minimum=1,
        created_by_id=users[Role.OWNER].id,
    )
    db.session.add(survey)
    db.session.flush()
    respondent = Respondent(
        survey_id=survey.id,
        group=Group.CX_PROFESSIONAL,
        email=f"respondent.{label.lower()}{marker}@example.com",
        name=f"{label} respondent {marker}",
        token_hash="",
        link_nonce="",
        status=RespondentStatus.COMPLETED,
        started_at=utcnow(),
        completed_at=utcnow(),
    )
    respondent_token = respondent.issue_token(app.config["SECRET_KEY"])
    db.session.add(respondent)
    db.session.flush()
    first_item = builtin.dimensions[0].items[0]
    db.session.add(Response(respondent_id=respondent.id, item_id=first_item.id, value=4))
    open_link_token = new_token()
    open_link = OpenLink(
        survey_id=survey.id, group=Group.EXECUTIVE, token_hash=hash_token(open_link_token)
    )
    api_secret = "cxa_" + new_token()
    api_token = ApiToken(
        organisation_id=organisation.id,
        name=f"{label} token {marker}",
        token_hash=hash_token(api_secret),
        created_by_id=users[Role.OWNER].id,
    )
    audit_event = AuditEvent(
        organisation_id=organisation.id,
        user_id=users[Role.OWNER].id,
        action="report.downloaded",
        target=f"survey:{label}{marker}",
        detail={"note": marker},
    )
    invitation_token = new_token()
    invitation = StaffInvitation(
        organisation_id=organisation.id,
        email=f"invitee.{label.lower()}{marker}@example.com",
        role=Role.ANALYST,
        token_hash=hash_token(invitation_token),
        invited_by_id=users[Role.OWNER].id,
        expires_at=utcnow() + timedelta(days=7),
    )
    message = EmailMessage(
        organisation_id=organisation.id,
        survey_id=survey.id,
        respondent_id=respondent.id,
        kind="invitation",
        recipient=respondent.email,
        subject=f"{label} message {marker}",
        body_text=f"Body {marker}",
        status="outbox",
    )
    db.session.add_all([open_link, api_token, audit_event, invitation, message])
    db.session.commit()
    return Tenant(
        organisation=organisation,
        owner=users[Role.OWNER],
        analyst=users[Role.ANALYST],
        survey=survey,
        respondent=respondent,
        respondent_token=respondent_token,
        open_link=open_link,
        open_link_token=open_link_token,
        api_token=api_token,
        api_secret=api_secret,
        audit_event=audit_event,
        invitation=invitation,
        invitation_token=invitation_token,
        message=message,
        instrument=instrument,
        analyst_membership=memberships[Role.ANALYST],
    )


@pytest.fixture
def world(app) -> World:
    builtin = ensure_builtin_instrument()
    db.session.commit()
    return World(
        a=make_tenant(app, "Alpha", "alphamark", builtin),
        b=make_tenant(app, "Borealis", MARKER, builtin),
    )


# ---------------------------------------------------------------------------
# Filling URL parameters with B's ids, by parameter name
# ---------------------------------------------------------------------------

# parameter name -> the value that points at organisation B's data
PARAMETERS: dict[str, Callable[[Tenant], object]] = {
    "survey_id": lambda b: b.survey.id,
    "respondent_id": lambda b: b.respondent.id,
    "token": lambda b: b.respondent_token,
    "token_id": lambda b: b.api_token.id,
    "api_token_id": lambda b: b.api_token.id,
    "message_id": lambda b: b.message.id,
    "instrument_id": lambda b: b.instrument.id,
    "member_id": lambda b: b.analyst_membership.id,
    "membership_id": lambda b: b.analyst_membership.id,
    "invitation_id": lambda b: b.invitation.id,
    "organisation_id": lambda b: b.organisation.id,
    "user_id": lambda b: b.analyst.id,
    "event_id": lambda b: b.audit_event.id,
    "audit_id": lambda b: b.audit_event.id,
    "link_id": lambda b: b.open_link.id,
    "open_link_id": lambda b: b.open_link.id,
    "item_id": lambda b: b.respondent.responses[0].item_id,
    # Not ids: plain values that let the request reach the access check.
    "group": lambda b: Group.EXECUTIVE.value,
    "number": lambda b: 1,
    "page": lambda b: 1,
    "paper": lambda b: "a4",
}

# A bare ``<id>`` means the blueprint's main object.
ID_BY_BLUEPRINT: dict[str, Callable[[Tenant], object]] = {
    "surveys": lambda b: b.survey.id,
    "results": lambda b: b.survey.id,
    "reports": lambda b: b.survey.id,
    "api": lambda b: b.survey.id,
    "instruments": lambda b: b.instrument.id,
    "organisations": lambda b: b.analyst_membership.id,
}

# Parameters that do not point at organisation data: a request for them is not "B's".
NEUTRAL_PARAMETERS = frozenset({"group", "number", "page", "paper"})


def is_public(rule: Rule) -> str | None:
    """The reason a rule needs no membership, or None."""
    if rule.endpoint in PUBLIC:
        return PUBLIC[rule.endpoint]
    for prefix, reason in PUBLIC_RULE_PREFIXES.items():
        if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
            return reason
    return None


def resolver(rule: Rule, name: str) -> Callable[[Tenant], object] | None:
    if name == "id":
        return ID_BY_BLUEPRINT.get(rule.endpoint.partition(".")[0])
    return PARAMETERS.get(name)


def unmapped(rule: Rule) -> list[str]:
    return sorted(name for name in rule.arguments if resolver(rule, name) is None)


def build_path(rule: Rule, tenant: Tenant) -> str:
    values = {name: resolver(rule, name)(tenant) for name in rule.arguments}
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)
    return path


def points_at_b(rule: Rule) -> bool:
    return any(name not in NEUTRAL_PARAMETERS for name in rule.arguments)


def methods_of(rule: Rule) -> list[str]:
    return [m for m in PUBLIC_METHODS if m in (rule.methods or ())]


def form_data(tenant: Tenant) -> dict[str, str]:
    """What a hostile form would send: B's ids under every likely field name."""
    return {
        "organisation_id": str(tenant.organisation.id),
        "survey_id": str(tenant.survey.id),
        "respondent_id": str(tenant.respondent.id),
        "member_id": str(tenant.analyst_membership.id),
        "invitation_id": str(tenant.invitation.id),
        "instrument_id": str(tenant.instrument.id),
        "token_id": str(tenant.api_token.id),
        "role": Role.OWNER.value,
        "group": Group.EXECUTIVE.value,
        "status": SurveyStatus.CLOSED.value,
        "confirm": "y",
    }


def walked_rules(app: Flask) -> list[Rule]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if not is_public(rule)),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


# ---------------------------------------------------------------------------
# What "B's data" is, to prove that nothing changed
# ---------------------------------------------------------------------------


def snapshot(b: Tenant, *, include_logs: bool = True) -> dict:
    db.session.rollback()  # a fresh transaction: see what the requests committed
    org_id = b.organisation.id
    survey_ids = select(Survey.id).where(Survey.organisation_id == org_id).scalar_subquery()
    state = {
        "organisation": db.session.execute(
            select(Organisation.name).where(Organisation.id == org_id)
        ).all(),
        "memberships": db.session.execute(
            select(Membership.user_id, Membership.role)
            .where(Membership.organisation_id == org_id)
            .order_by(Membership.user_id)
        ).all(),
        "invitations": db.session.execute(
            select(StaffInvitation.id, StaffInvitation.accepted_at, StaffInvitation.revoked_at)
            .where(StaffInvitation.organisation_id == org_id)
            .order_by(StaffInvitation.id)
        ).all(),
        "surveys": db.session.execute(
            select(
                Survey.id,
                Survey.title,
                Survey.status,
                Survey.anonymity_executive,
                Survey.anonymity_cx,
                Survey.closes_on,
            )
            .where(Survey.organisation_id == org_id)
            .order_by(Survey.id)
        ).all(),
        "respondents": db.session.execute(
            select(
                Respondent.id,
                Respondent.status,
                Respondent.token_hash,
                Respondent.revoked_at,
                Respondent.erased_at,
                Respondent.email,
            )
            .where(Respondent.survey_id.in_(survey_ids))
            .order_by(Respondent.id)
        ).all(),
        "responses": db.session.scalar(
            select(func.count(Response.id))
            .join(Respondent)
            .where(Respondent.survey_id.in_(survey_ids))
        ),
        "open_links": db.session.execute(
            select(OpenLink.id, OpenLink.token_hash, OpenLink.revoked_at)
            .where(OpenLink.survey_id.in_(survey_ids))
            .order_by(OpenLink.id)
        ).all(),
        "api_tokens": db.session.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.revoked_at)
            .where(ApiToken.organisation_id == org_id)
            .order_by(ApiToken.id)
        ).all(),
        "instruments": db.session.execute(
            select(Instrument.id, Instrument.name)
            .where(Instrument.organisation_id == org_id)
            .order_by(Instrument.id)
        ).all(),
    }
    if include_logs:
        # Reading B's data as B's own analyst may rightly log a download; nobody else may.
        state["audit_events"] = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.organisation_id == org_id)
        )
        state["emails"] = db.session.scalar(
            select(func.count(EmailMessage.id)).where(EmailMessage.organisation_id == org_id)
        )
    db.session.rollback()
    return state


def changes(before: dict, after: dict) -> list[str]:
    return [key for key in before if before[key] != after[key]]


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------


def request(app: Flask, user: User | None, method: str, path: str, data: dict | None):
    """One request in a fresh client; ``user`` is logged in through the session cookie."""
    client = app.test_client()
    user_id = str(user.id) if user is not None else None
    # Its own app context: otherwise the request would share the test's ``g`` (where
    # Flask-Login caches the user) and database session.
    with app.app_context():
        if user_id is not None:
            with client.session_transaction() as session:
                session["_user_id"] = user_id
                session["_fresh"] = True
        response = client.open(path, method=method, data=data if method != "GET" else None)
        response.get_data()
        response.close()
    return response


def leaks(response) -> bool:
    return MARKER in response.get_data(as_text=True).lower()


def describe(rule: Rule, method: str, path: str, response, problem: str) -> str:
    return f"{method} {path} ({rule.endpoint}) -> {response.status_code}: {problem}"


def login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "/auth/login" in response.headers.get(
        "Location", ""
    )


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def coverage_problems(app: Flask) -> list[str]:
    problems = []
    for rule in app.url_map.iter_rules():
        if is_public(rule):
            continue
        missing = unmapped(rule)
        if missing:
            problems.append(
                f"{rule.rule} ({rule.endpoint}): no mapping for parameter(s) {missing}. "
                "Check membership in the view (cxalign.access: get_survey_or_404, "
                "require_current_membership) and add the parameter to PARAMETERS in "
                "tests/test_route_isolation.py so this walk can test it."
            )
    return problems


def test_every_route_is_public_or_mapped(app):
    problems = coverage_problems(app)
    assert not problems, "\n".join(problems)


def test_allowlist_names_only_existing_routes(app):
    endpoints = set(app.view_functions)
    assert set(PUBLIC) <= endpoints, set(PUBLIC) - endpoints
    assert all(reason.strip() for reason in (*PUBLIC.values(), *PUBLIC_RULE_PREFIXES.values()))


def anonymous_problems(app: Flask, world: World) -> list[str]:
    before = snapshot(world.b)
    problems = []
    for rule in walked_rules(app):
        if unmapped(rule):
            continue  # reported by test_every_route_is_public_or_mapped
        path = build_path(rule, world.b)
        for method in methods_of(rule):
            response = request(app, None, method, path, form_data(world.b))
            if response.status_code >= 500:
                problems.append(describe(rule, method, path, response, "server error"))
            elif leaks(response):
                problems.append(describe(rule, method, path, response, "shows B's data"))
            elif not (login_redirect(response) or response.status_code in (401, 404)):
                problems.append(
                    describe(rule, method, path, response, "expected login redirect, 401 or 404")
                )
    changed = changes(before, snapshot(world.b))
    if changed:
        problems.append(f"anonymous requests changed B's {changed}")
    return problems


def test_anonymous_visitors_see_nothing(app, world):
    problems = anonymous_problems(app, world)
    assert not problems, "\n".join(problems)


def outsider_problems(app: Flask, world: World, outsider: User, allowed: set[int]) -> list[str]:
    problems = []
    for rule in walked_rules(app):
        if unmapped(rule):
            continue
        path = build_path(rule, world.b)
        for method in methods_of(rule):
            before = snapshot(world.b)
            response = request(app, outsider, method, path, form_data(world.b))
            after = snapshot(world.b)
            if response.status_code >= 500:
                problems.append(describe(rule, method, path, response, "server error"))
            if leaks(response):
                problems.append(describe(rule, method, path, response, "shows B's data"))
            if points_at_b(rule) and response.status_code not in allowed:
                problems.append(
                    describe(rule, method, path, response, f"expected {sorted(allowed)}")
                )
            changed = changes(before, after)
            if changed:
                problems.append(describe(rule, method, path, response, f"changed B's {changed}"))
            db.session.refresh(outsider)
            if outsider.current_organisation_id == world.b.organisation.id:
                problems.append(
                    describe(rule, method, path, response, "switched the outsider into B")
                )
                outsider.current_organisation_id = world.a.organisation.id
                db.session.commit()
    return problems


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST])
def test_members_of_another_organisation_get_404(app, world, role):
    outsider = world.a.owner if role == Role.OWNER else world.a.analyst
    allowed = {404} if role == Role.OWNER else {403, 404}
    problems = outsider_problems(app, world, outsider, allowed)
    assert not problems, "\n".join(problems)


def analyst_problems(app: Flask, world: World) -> list[str]:
    analyst = world.b.analyst
    problems = []
    for rule in walked_rules(app):
        if unmapped(rule):
            continue
        path = build_path(rule, world.b)
        for method in methods_of(rule):
            manage = (method != "GET" and rule.endpoint not in ANALYST_ACTIONS) or (
                method == "GET" and rule.endpoint in OWNER_ONLY_PAGES
            )
            before = snapshot(world.b, include_logs=False)
            response = request(app, analyst, method, path, form_data(world.b))
            after = snapshot(world.b, include_logs=False)
            if response.status_code >= 500:
                problems.append(describe(rule, method, path, response, "server error"))
            if manage and response.status_code not in (403, 404):
                problems.append(describe(rule, method, path, response, "expected 403 or 404"))
            changed = changes(before, after) if rule.endpoint not in ANALYST_ACTIONS else []
            if changed:
                problems.append(describe(rule, method, path, response, f"changed B's {changed}"))
    return problems


def test_analysts_cannot_manage(app, world):
    problems = analyst_problems(app, world)
    assert not problems, "\n".join(problems)


def test_api_token_reads_only_its_own_organisation(app, world):
    problems = []
    for rule in walked_rules(app):
        if not rule.rule.startswith("/api/") or unmapped(rule):
            continue
        path = build_path(rule, world.b)
        for method in methods_of(rule):
            with app.app_context():
                response = app.test_client().open(
                    path, method=method, headers={"Authorization": f"Bearer {world.a.api_secret}"}
                )
                response.get_data()
            if response.status_code >= 500 or leaks(response):
                problems.append(describe(rule, method, path, response, "server error or leak"))
            elif points_at_b(rule) and response.status_code != 404:
                problems.append(describe(rule, method, path, response, "expected 404"))
    assert not problems, "\n".join(problems)


def test_public_routes_refuse_unknown_tokens(app, world):
    """Token-authorised pages answer 404 (or the invitation's 404 page) to a made-up token."""
    problems = []
    for rule in app.url_map.iter_rules():
        if not is_public(rule) or "token" not in rule.arguments:
            continue
        values = dict.fromkeys(rule.arguments, 1) | {"token": secrets.token_urlsafe(32)}
        path = rule.rule
        for name, value in values.items():
            path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)
        for method in methods_of(rule):
            response = request(app, None, method, path, {})
            if response.status_code != 404 or leaks(response):
                problems.append(describe(rule, method, path, response, "expected a plain 404"))
    assert not problems, "\n".join(problems)


def test_public_routes_show_no_organisation_data(app, world):
    problems = []
    for rule in app.url_map.iter_rules():
        if not is_public(rule) or rule.arguments - {"filename"}:
            continue
        path = rule.rule.replace("<path:filename>", "css/app.css")
        response = request(app, None, "GET", path, None) if "GET" in rule.methods else None
        if response is not None and (response.status_code >= 500 or leaks(response)):
            problems.append(describe(rule, "GET", path, response, "server error or leak"))
    assert not problems, "\n".join(problems)


def test_the_walk_covers_b_specific_routes(app, world):
    """A guard against a walk that silently tests nothing."""
    rules = [rule for rule in walked_rules(app) if points_at_b(rule)]
    assert any(rule.endpoint == "organisations.change_role" for rule in rules)
    assert "/surveys/<int:survey_id>" in {rule.rule for rule in rules} or not any(
        rule.endpoint.startswith("surveys.") for rule in app.url_map.iter_rules()
    )
    assert world.b.organisation.name.lower().count(MARKER) == 1


# ---------------------------------------------------------------------------
# The walk itself is tested: an app with deliberately careless routes must fail it.
# ---------------------------------------------------------------------------


@pytest.fixture
def careless_app(app):
    """The real app plus routes that forgot their checks (same database)."""
    from flask import abort
    from flask_login import login_required

    from tests.conftest import make_test_app

    careless = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], None)

    @careless.get("/careless/<int:survey_id>")
    @login_required
    def careless_survey(survey_id: int):
        survey = db.session.get(Survey, survey_id) or abort(404)
        return survey.title

    @careless.post("/careless/<int:survey_id>/close")
    @login_required
    def careless_close(survey_id: int):
        survey = db.session.get(Survey, survey_id) or abort(404)
        survey.status = SurveyStatus.CLOSED
        db.session.commit()
        return "closed"

    @careless.get("/careless/widgets/<int:widget_id>")
    def careless_widget(widget_id: int):
        return "?"

    yield careless
    with careless.app_context():
        db.engine.dispose()


def test_the_walk_catches_careless_routes(careless_app, world):
    assert any("widget_id" in problem for problem in coverage_problems(careless_app))
    found = "\n".join(outsider_problems(careless_app, world, world.a.owner, {404}))
    assert "GET /careless/" in found and "shows B's data" in found
    assert "POST /careless/" in found and "changed B's ['surveys']" in found
    found = "\n".join(analyst_problems(careless_app, world))
    assert "careless_close) -> 200: expected 403 or 404" in found
