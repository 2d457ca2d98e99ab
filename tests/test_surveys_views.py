"""Survey pages over HTTP: who may do what, and what each page shows."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.models import EmailMessage, Instrument, Organisation, Respondent, Role, Survey, utcnow
from cxalign.surveys import operations as ops
from tests.test_surveys import add, new_survey, opened

NEW_SURVEY = {
    "title": "Executive alignment — spring",
    "anonymity_executive": "1",
    "anonymity_cx": "3",
    "gap_threshold": "0.5",
    "reminder_cooldown_hours": "48",
    "anonymous_to_staff": "y",
}


@pytest.fixture
def organisation(owner):
    return db.session.get(Organisation, owner.current_organisation_id)


@pytest.fixture
def survey(organisation):
    return opened(organisation, "a@example.com, executive\nb@example.com, cx_professional")


def routes(survey_id: int, respondent_id: int, message_id: int) -> list[tuple[str, str]]:
    base = f"/surveys/{survey_id}"
    respondent = f"{base}/respondents/{respondent_id}"
    return [
        ("GET", base),
        ("GET", f"{base}/status"),
        ("GET", f"{base}/settings"),
        ("POST", f"{base}/settings"),
        ("POST", f"{base}/open"),
        ("POST", f"{base}/close"),
        ("POST", f"{base}/reopen"),
        ("POST", f"{base}/delete"),
        ("POST", f"{base}/respondents/paste"),
        ("POST", f"{base}/respondents/upload"),
        ("POST", f"{base}/respondents/link-only"),
        ("POST", f"{respondent}/new-link"),
        ("POST", f"{respondent}/revoke"),
        ("POST", f"{respondent}/erase"),
        ("POST", f"{base}/open-links/executive"),
        ("POST", f"{base}/open-links/executive/revoke"),
        ("POST", f"{base}/invitations"),
        ("POST", f"{base}/reminders"),
        ("GET", f"/surveys/outbox/{message_id}"),
    ]


def _fixtures(survey):
    ops.send_invitations(survey)
    db.session.commit()
    return survey.respondents[0].id, db.session.scalar(select(EmailMessage.id))


def test_every_survey_route_is_404_for_another_organisation(
    client, auth, survey, make_user, make_organisation
):
    respondent_id, message_id = _fixtures(survey)
    stranger = make_user("stranger@example.com", organisation=make_organisation("Other Co"))
    auth.login(stranger)
    for method, url in routes(survey.id, respondent_id, message_id):
        response = client.open(url, method=method)
        assert response.status_code == 404, (method, url)
    assert survey.status == "open" and len(survey.respondents) == 2


def test_analysts_see_the_status_page_but_cannot_manage(client, auth, survey, make_user):
    respondent_id, message_id = _fixtures(survey)
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=survey.organisation)
    auth.login(analyst)
    status = client.get(f"/surveys/{survey.id}/status")
    assert status.status_code == 200
    assert "Manage survey" not in status.text
    detail = client.get(f"/surveys/{survey.id}")
    assert detail.status_code == 302 and detail.headers["Location"].endswith("/status")
    for method, url in routes(survey.id, respondent_id, message_id)[2:]:
        assert client.open(url, method=method).status_code == 403, (method, url)
    assert client.get("/surveys/new").status_code == 403
    assert client.get("/surveys/outbox").status_code == 403
    home = client.get("/home")
    assert "New survey" not in home.text
    assert f'href="/surveys/{survey.id}/status"' in home.text
    db.session.refresh(survey)
    assert survey.status == "open"


def test_survey_pages_need_a_login(client, survey):
    for url in (f"/surveys/{survey.id}", "/surveys/new", "/surveys/outbox"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_owner_creates_a_survey_from_the_home_page(owner_client, organisation):
    home = owner_client.get("/home")
    assert 'href="/surveys/new"' in home.text and "New survey" in home.text
    form = owner_client.get("/surveys/new")
    assert "CX Executive Alignment Index (v1) · built-in" in form.text
    instrument_id = db.session.scalar(select(Instrument.id))
    response = owner_client.post("/surveys/new", data=NEW_SURVEY | {"instrument": instrument_id})
    survey = db.session.scalar(select(Survey))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/surveys/{survey.id}"
    assert survey.anonymity_executive == 1 and survey.created_by_id is not None
    page = owner_client.get(response.headers["Location"])
    assert "Executive alignment — spring" in page.text
    assert "may be attributable" in page.text
    assert "Open survey" in page.text


def test_the_new_survey_form_keeps_the_instrument_it_offers(owner_client):
    """The built-in instrument added for the form is committed, so its id stays valid."""
    owner_client.get("/surveys/new")
    db.session.rollback()
    offered = db.session.scalar(select(Instrument))
    assert offered is not None and offered.is_builtin


def test_new_survey_form_errors_are_shown(owner_client):
    response = owner_client.post(
        "/surveys/new", data=NEW_SURVEY | {"title": "", "anonymity_cx": "1", "instrument": "0"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert "Number must be between 3 and 50." in response.text
    assert db.session.scalar(select(func.count(Survey.id))) == 0


def test_pasting_with_errors_lists_each_line_and_adds_nobody(owner_client, organisation):
    survey = new_survey(organisation)
    response = owner_client.post(
        f"/surveys/{survey.id}/respondents/paste",
        data={"paste-lines": "ok@example.com, executive\nnope, executive\nx@example.com, ceo"},
    )
    assert response.status_code == 400
    assert "Line 2: bad email" in response.text
    assert "Line 3: unknown group" in response.text
    assert "nope, executive" in response.text  # the pasted text is kept for fixing
    assert db.session.scalar(select(func.count(Respondent.id))) == 0


def test_pasting_and_uploading_add_respondents(owner_client, organisation):
    survey = new_survey(organisation)
    pasted = owner_client.post(
        f"/surveys/{survey.id}/respondents/paste",
        data={"paste-lines": "a@example.com, executive\nb@example.com, cx_professional"},
    )
    assert pasted.status_code == 302
    uploaded = owner_client.post(
        f"/surveys/{survey.id}/respondents/upload",
        data={"upload-file": (io.BytesIO(b"email,group,name\nc@example.com,cx,Cy\n"), "p.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "Added 1 respondent." in page.text
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert email in page.text
    duplicate = owner_client.post(
        f"/surveys/{survey.id}/respondents/upload",
        data={"upload-file": (io.BytesIO(b"c@example.com,cx\n"), "p.csv")},
        content_type="multipart/form-data",
    )
    assert duplicate.status_code == 400
    assert "Line 1: c@example.com is already a respondent" in duplicate.text


def test_link_only_respondent_shows_the_link_once(owner_client, organisation):
    survey = new_survey(organisation)
    response = owner_client.post(
        f"/surveys/{survey.id}/respondents/link-only",
        data={"one-group": "executive", "one-name": "Board chair"},
    )
    assert response.status_code == 200
    respondent = db.session.scalar(select(Respondent))
    link = ops.respondent_link(respondent)
    assert link in response.text and "not shown again" in response.text
    assert link not in owner_client.get(f"/surveys/{survey.id}").text
    renewed = owner_client.post(f"/surveys/{survey.id}/respondents/{respondent.id}/new-link")
    db.session.refresh(respondent)
    assert ops.respondent_link(respondent) in renewed.text
    assert link not in renewed.text


def test_open_links_are_shown_once_and_can_be_revoked(owner_client, survey):
    response = owner_client.post(f"/surveys/{survey.id}/open-links/cx_professional")
    assert response.status_code == 200
    token = response.text.split("http://localhost/join/")[1].split('"')[0]
    assert ops.find_open_link(token) is not None
    page = owner_client.get(f"/surveys/{survey.id}")
    assert token not in page.text and "Active since" in page.text
    owner_client.post(f"/surveys/{survey.id}/open-links/cx_professional/revoke")
    assert ops.find_open_link(token) is None
    assert owner_client.post(f"/surveys/{survey.id}/open-links/board").status_code == 404


def test_status_actions_move_the_survey_and_refusals_are_explained(owner_client, organisation):
    survey = new_survey(organisation)
    assert owner_client.post(f"/surveys/{survey.id}/close").status_code == 302
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "Only an open survey can be closed." in page.text
    owner_client.post(f"/surveys/{survey.id}/open")
    db.session.refresh(survey)
    assert survey.status == "open"
    owner_client.post(f"/surveys/{survey.id}/close")
    db.session.refresh(survey)
    assert survey.status == "closed"
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "every answer given is kept" in page.text
    assert "<h3>Paste a list</h3>" not in page.text  # a closed survey takes no respondents


def test_invitations_and_reminders_from_the_survey_page(owner_client, survey):
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "2 respondents with an email address have not been invited yet." in page.text
    owner_client.post(f"/surveys/{survey.id}/invitations")
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "2 invitations put in the outbox" in page.text
    assert "Everyone with an email address has been invited." in page.text
    assert "contacted in the last 48 hours" in page.text
    owner_client.post(f"/surveys/{survey.id}/reminders")
    assert "Nobody needed a reminder just now." in owner_client.get(f"/surveys/{survey.id}").text
    # Two days later the reminders are due.
    for message in db.session.scalars(select(EmailMessage)):
        message.created_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    owner_client.post(f"/surveys/{survey.id}/reminders")
    assert "2 reminders put in the outbox" in owner_client.get(f"/surveys/{survey.id}").text


def test_status_page_shows_counts_thresholds_and_the_rule(owner_client, survey):
    survey.respondents[0].status = "completed"
    db.session.commit()
    page = owner_client.get(f"/surveys/{survey.id}/status")
    assert page.status_code == 200
    assert "Threshold met" not in page.text
    assert "2 more needed" in page.text
    assert "Anonymous to staff." in page.text
    assert "b@example.com" not in page.text


def test_status_page_lists_pending_people_when_not_anonymous(owner_client, organisation):
    survey = opened(
        organisation,
        "a@example.com, executive\nb@example.com, cx",
        anonymous_to_staff=False,
        anonymity_executive=1,
    )
    survey.respondents[0].status = "completed"
    db.session.commit()
    page = owner_client.get(f"/surveys/{survey.id}/status")
    assert "Not anonymous to staff." in page.text
    assert "b@example.com" in page.text and "a@example.com" not in page.text
    assert "Threshold met" in page.text


def test_settings_page_locks_the_instrument_once_open(owner_client, survey):
    page = owner_client.get(f"/surveys/{survey.id}/settings")
    assert 'name="instrument"' not in page.text and 'name="opens_on"' not in page.text
    assert "can only get stronger" in page.text
    response = owner_client.post(
        f"/surveys/{survey.id}/settings",
        data=NEW_SURVEY | {"title": "Renamed", "anonymity_executive": "1"},
    )
    assert response.status_code == 200 and "only be raised" in response.text
    response = owner_client.post(
        f"/surveys/{survey.id}/settings",
        data=NEW_SURVEY | {"title": "Renamed", "anonymity_executive": "4"},
    )
    assert response.status_code == 302
    db.session.refresh(survey)
    assert survey.title == "Renamed" and survey.anonymity_executive == 4


def test_outbox_lists_messages_and_shows_one(owner_client, survey):
    ops.send_invitations(survey)
    db.session.commit()
    outbox = owner_client.get("/surveys/outbox")
    assert outbox.status_code == 200
    assert "No mail server is configured" in outbox.text
    assert "a@example.com" in outbox.text and "In outbox" in outbox.text
    message = db.session.scalar(
        select(EmailMessage).where(EmailMessage.recipient == "a@example.com")
    )
    shown = owner_client.get(f"/surveys/outbox/{message.id}")
    assert ops.respondent_link(survey.respondents[0]) in shown.text
    assert owner_client.get("/surveys/outbox/99999").status_code == 404


def test_outbox_hides_reminder_recipients_of_anonymous_surveys(owner_client, survey):
    ops.send_invitations(survey)
    for message in db.session.scalars(select(EmailMessage)):
        message.created_at = utcnow() - timedelta(days=3)
    survey.respondents[0].status = "completed"
    ops.send_reminders(survey)
    db.session.commit()
    reminder = db.session.scalar(select(EmailMessage).where(EmailMessage.kind == "reminder"))
    assert reminder.recipient == "b@example.com"
    outbox = owner_client.get("/surveys/outbox")
    assert "Hidden (anonymous survey)" in outbox.text
    shown = owner_client.get(f"/surveys/outbox/{reminder.id}")
    assert "b@example.com" not in shown.text and "/r/" not in shown.text


def test_home_lists_surveys_with_completion_counts(owner_client, survey):
    survey.respondents[0].status = "completed"
    db.session.commit()
    home = owner_client.get("/home")
    assert f'href="/surveys/{survey.id}"' in home.text
    assert "1 of 2" in home.text
    # A draft has nothing to read yet; once open, the list links straight to its results.
    results = f'href="/surveys/{survey.id}/results"'
    assert survey.status == "open" and results in home.text
    survey.status = "draft"
    db.session.commit()
    assert results not in owner_client.get("/home").text


def test_erasing_and_revoking_from_the_table(owner_client, survey):
    first, second = survey.respondents
    response = owner_client.post(f"/surveys/{survey.id}/respondents/{first.id}/revoke")
    assert response.status_code == 302
    db.session.refresh(first)
    assert first.revoked_at is not None
    owner_client.post(f"/surveys/{survey.id}/respondents/{second.id}/erase")
    db.session.refresh(second)
    assert second.erased_at is not None
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "b@example.com" not in page.text
    assert "Link revoked" in page.text
    assert owner_client.post(f"/surveys/{survey.id}/respondents/99999/revoke").status_code == 404


def test_a_respondent_of_another_survey_is_404(owner_client, survey, organisation):
    other = new_survey(organisation, title="Other")
    add(other, "z@example.com, executive")
    intruder = other.respondents[0]
    response = owner_client.post(f"/surveys/{survey.id}/respondents/{intruder.id}/erase")
    assert response.status_code == 404
