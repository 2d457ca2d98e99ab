"""The JSON API: who may read which survey's results, and that they equal ``score --json``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from cxalign.analysis.importer import import_responses
from cxalign.api import tokens as token_ops
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import ApiToken, Role, Survey, utcnow
from tests.test_cli_score import answers_csv


def make_survey(organisation, title="Wave 1", n_exec=3, n_cx=12, **settings) -> Survey:
    survey = Survey(
        organisation=organisation,
        instrument=ensure_builtin_instrument(),
        title=title,
        status="open",
        anonymity_executive=settings.pop("anonymity_executive", 1),
        **settings,
    )
    db.session.add(survey)
    db.session.commit()
    if n_exec or n_cx:
        import_responses(survey, answers_csv(survey, n_exec, n_cx))
        db.session.commit()
    return survey


@pytest.fixture
def acme(make_organisation):
    return make_organisation("Acme Insurance")


@pytest.fixture
def globex(make_organisation):
    return make_organisation("Globex Bank")


@pytest.fixture
def survey(acme) -> Survey:
    return make_survey(acme)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def new_token(organisation, name="BI") -> str:
    _token, secret = token_ops.create_token(organisation, name, user=None)
    db.session.commit()
    return secret


def results_url(survey_id: int) -> str:
    return f"/api/v1/surveys/{survey_id}/results"


# The same document as the CLI ------------------------------------------------------


def test_results_equal_the_score_json_output(client, auth, make_user, acme, survey, runner):
    auth.login(make_user(role=Role.ANALYST, organisation=acme))
    response = client.get(results_url(survey.id))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    cli = runner.invoke(args=["cxalign", "score", str(survey.id), "--json"])
    assert cli.exit_code == 0
    assert response.get_json() == json.loads(cli.stdout)
    # Same keys in the same order, not merely equal dicts.
    assert list(json.loads(response.data)) == list(json.loads(cli.stdout))
    assert response.get_json()["survey"] == {
        "id": survey.id,
        "title": "Wave 1",
        "organisation": "Acme Insurance",
        "status": "open",
        "opens_on": None,
        "closes_on": None,
    }


def test_suppressed_groups_show_no_statistics(client, acme):
    survey = make_survey(acme, n_exec=2, n_cx=12, anonymity_executive=3)
    secret = new_token(acme)
    document = client.get(results_url(survey.id), headers=bearer(secret)).get_json()
    assert document["groups"]["executive"]["suppressed"] is True
    assert all(item["executive"] is None for item in document["items"])
    assert all(item["gap_points"] is None for item in document["items"])
    assert all(dim["executive"] is None for dim in document["dimensions"])


# Who may read ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST, Role.CONSULTANT])
def test_every_member_of_the_organisation_may_read(client, auth, make_user, acme, survey, role):
    auth.login(make_user(role=role, organisation=acme))
    assert client.get(results_url(survey.id)).status_code == 200


def test_members_of_another_organisation_get_404_as_for_a_missing_survey(
    client, auth, make_user, globex, survey
):
    auth.login(make_user(role=Role.OWNER, organisation=globex))
    hidden = client.get(results_url(survey.id))
    missing = client.get(results_url(survey.id + 1000))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"] == missing.get_json()["error"] == "Not found"
    assert "Acme" not in hidden.get_data(as_text=True)


def test_a_user_with_no_organisation_gets_404(client, auth, make_user, survey):
    auth.login(make_user(role=None))
    assert client.get(results_url(survey.id)).status_code == 404


def test_anonymous_requests_are_asked_to_authenticate(client, survey):
    response = client.get(results_url(survey.id))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cxalign"'
    assert response.get_json() == {
        "error": "Unauthorized",
        "detail": "Log in, or send an API token as 'Authorization: Bearer <token>'.",
        "status": 401,
    }
    # The same answer whether or not the survey exists: ids reveal nothing.
    assert client.get(results_url(99999)).status_code == 401


def test_a_token_of_the_organisation_reads_and_is_marked_used(client, acme, survey):
    secret = new_token(acme)
    response = client.get(results_url(survey.id), headers=bearer(secret))
    assert response.status_code == 200
    assert response.get_json()["survey"]["id"] == survey.id
    db.session.rollback()  # the request committed it: a rollback here keeps it
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is not None
    assert utcnow() - token.last_used_at < timedelta(minutes=1)


def test_a_token_of_another_organisation_gets_404(client, globex, survey):
    secret = new_token(globex)
    response = client.get(results_url(survey.id), headers=bearer(secret))
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_a_revoked_token_is_refused(client, acme, survey):
    secret = new_token(acme)
    token = db.session.scalar(select(ApiToken))
    token_ops.revoke_token(token, user=None)
    db.session.commit()
    response = client.get(results_url(survey.id), headers=bearer(secret))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cxalign", error="invalid_token"'
    assert response.get_json()["detail"] == "This token is not valid or has been revoked."


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer cxa_not-a-real-token", "invalid_token"),
        ("Bearer not-even-our-prefix", "invalid_token"),
        ("Bearer ", "invalid_request"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("cxa_token-without-scheme", "invalid_request"),
    ],
)
def test_malformed_or_unknown_tokens_get_401(client, survey, header, error):
    response = client.get(results_url(survey.id), headers={"Authorization": header})
    assert response.status_code == 401
    assert f'error="{error}"' in response.headers["WWW-Authenticate"]


def test_a_bearer_token_wins_over_the_session(client, auth, make_user, acme, globex, survey):
    """A request carrying a token is judged by the token alone."""
    auth.login(make_user(role=Role.OWNER, organisation=acme))
    response = client.get(results_url(survey.id), headers=bearer(new_token(globex)))
    assert response.status_code == 404


def test_other_methods_are_not_allowed(client, acme, survey):
    response = client.post(results_url(survey.id), headers=bearer(new_token(acme)))
    assert response.status_code == 405
    assert response.is_json


# Caching -----------------------------------------------------------------------------


def test_an_unchanged_survey_answers_304_to_its_etag(client, acme, survey):
    headers = bearer(new_token(acme))
    first = client.get(results_url(survey.id), headers=headers)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(results_url(survey.id), headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    import_responses(survey, "respondent,group,LEAD_FOCUS_1\nlate,cx_professional,1\n")
    db.session.commit()
    changed = client.get(results_url(survey.id), headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["groups"]["cx_professional"]["n"] == 13


# The survey list ---------------------------------------------------------------------


def test_the_list_shows_the_callers_surveys_only(client, auth, make_user, acme, globex):
    first = make_survey(acme, "Wave 1", n_exec=0, n_cx=0)
    second = make_survey(acme, "Wave 2", n_exec=0, n_cx=0)
    other = make_survey(globex, "Globex wave", n_exec=0, n_cx=0)

    listed = client.get("/api/v1/surveys", headers=bearer(new_token(acme))).get_json()["surveys"]
    assert [s["id"] for s in listed] == [second.id, first.id]
    assert listed[0]["organisation"] == {"id": acme.id, "name": "Acme Insurance"}
    assert listed[0]["results_url"] == f"http://localhost/api/v1/surveys/{second.id}/results"
    assert set(listed[0]) == {
        "id",
        "title",
        "status",
        "organisation",
        "opens_on",
        "closes_on",
        "created_at",
        "results_url",
    }

    # A consultant in both organisations sees both, grouped by organisation.
    consultant = make_user(role=Role.CONSULTANT, organisation=acme)
    db.session.add_all([_membership(consultant, globex)])
    db.session.commit()
    auth.login(consultant)
    ids = [s["id"] for s in client.get("/api/v1/surveys").get_json()["surveys"]]
    assert ids == [second.id, first.id, other.id]


def _membership(user, organisation):
    from cxalign.models import Membership

    return Membership(user=user, organisation=organisation, role=Role.CONSULTANT)


def test_the_list_needs_credentials(client):
    response = client.get("/api/v1/surveys")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
