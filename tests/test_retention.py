"""Data protection: retention periods, purging a closed survey's personal data, erasure.

A purge removes what points to a person (emails, names, import ids, messages, links) and
keeps the anonymous answers: the dashboard, the PDF and the exports must not change.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cxalign.analysis import analyse_survey
from cxalign.exports.files import build_export
from cxalign.extensions import db
from cxalign.models import (
    AuditEvent,
    Comment,
    EmailMessage,
    OpenLink,
    Respondent,
    Response,
    Role,
    Survey,
    hash_token,
    new_token,
    utcnow,
)
from cxalign.surveys import operations as ops
from cxalign.surveys import retention
from tests.test_exports import export_survey, read_csv

NOW = utcnow()


@pytest.fixture
def organisation(owner):
    return owner.memberships[0].organisation


def with_personal_data(survey: Survey, *, closed_days_ago: int = 40, retention_days=30) -> Survey:
    """The export fixture, closed ``closed_days_ago`` days ago, with messages and links."""
    survey.closed_at = NOW - timedelta(days=closed_days_ago)
    survey.retention_days = retention_days
    for respondent in survey.respondents:
        if respondent.erased_at is None:
            respondent.external_ref = f"HR-{respondent.id}"
            db.session.add(
                EmailMessage(
                    organisation_id=survey.organisation_id,
                    survey_id=survey.id,
                    respondent_id=respondent.id,
                    kind="invitation",
                    recipient=respondent.email,
                    subject=f"{survey.organisation.name} asks for your view",
                    body_text=f"Dear {respondent.name}, your link: http://localhost/r/secret",
                    status="failed",
                    error=f"550 mailbox {respondent.email} unavailable",
                )
            )
    db.session.add(OpenLink(survey=survey, group="executive", token_hash=hash_token(new_token())))
    db.session.commit()
    return survey


@pytest.fixture
def survey(organisation):
    return with_personal_data(export_survey(organisation, anonymous=False))


def personal_data_left(survey: Survey) -> list[str]:
    db.session.expire_all()
    found = []
    for respondent in db.session.scalars(
        select(Respondent).where(Respondent.survey_id == survey.id)
    ):
        if respondent.email or respondent.name or respondent.external_ref:
            found.append(f"respondent {respondent.id}")
        if respondent.revoked_at is None:
            found.append(f"live link {respondent.id}")
    for message in db.session.scalars(
        select(EmailMessage).where(EmailMessage.survey_id == survey.id)
    ):
        if "@" in message.recipient + message.body_text + (message.error or ""):
            found.append(f"message {message.id}")
    if db.session.scalar(
        select(func.count(OpenLink.id)).where(
            OpenLink.survey_id == survey.id, OpenLink.revoked_at.is_(None)
        )
    ):
        found.append("open link")
    return found


def answers_and_comments(survey: Survey) -> tuple[int, int]:
    answers = db.session.scalar(
        select(func.count(Response.id)).join(Respondent).where(Respondent.survey_id == survey.id)
    )
    comments = db.session.scalar(
        select(func.count(Comment.id)).join(Respondent).where(Respondent.survey_id == survey.id)
    )
    return answers, comments


# The domain --------------------------------------------------------------------------


def test_a_purge_removes_personal_data_and_keeps_the_answers(app, survey, owner):
    respondent = next(r for r in survey.respondents if r.erased_at is None)
    token = respondent.link_token("test-secret-key")
    assert ops.find_respondent_by_token(token) is respondent
    before = analyse_survey(survey).result
    kept = answers_and_comments(survey)
    assert personal_data_left(survey)

    summary = retention.purge_personal_data(survey, user=owner, now=NOW)
    db.session.commit()

    assert personal_data_left(survey) == []
    assert answers_and_comments(survey) == kept
    assert ops.find_respondent_by_token(token) is None
    assert summary.respondents == 18 and summary.messages == 18 and summary.open_links == 1
    assert survey.personal_data_purged_at == NOW
    message = db.session.scalar(select(EmailMessage).where(EmailMessage.survey_id == survey.id))
    assert message.recipient == message.body_text == message.error == "(purged)"
    assert message.subject.startswith("Acme Insurance")
    after = analyse_survey(survey).result
    assert after.alignment == before.alignment
    assert after.items == before.items
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "survey.personal_data_purged")
    )
    assert event.user_id == owner.id and event.target == f"survey:{survey.id}"
    assert event.detail == {
        "respondents": 18,
        "messages": 18,
        "open_links": 1,
        "retention_days": 30,
        "early": False,
        "via": "web",
    }


def test_exports_after_a_purge_have_the_answers_but_no_identities(survey):
    before = read_csv(build_export(survey, "responses", "csv").data)
    assert "email" in before[0]
    retention.purge_personal_data(survey, now=NOW)
    db.session.commit()
    after = read_csv(build_export(survey, "responses", "csv").data)
    assert "email" not in after[0] and "external_ref" not in after[0]
    assert len(after) == len(before)
    by_id = {row["respondent"]: row for row in before}
    for row in after:  # same pseudonyms, same answers
        assert {k: v for k, v in row.items() if k not in ("started_at", "completed_at")} == {
            k: by_id[row["respondent"]][k] for k in row if k not in ("started_at", "completed_at")
        }
    text = build_export(survey, "survey", "json").data.decode()
    assert "@example.com" not in text and "HR-" not in text
    assert json.loads(text)["survey"]["personal_data_purged_at"] is not None


def test_the_dashboard_and_pdf_still_work_after_a_purge(owner_client, survey):
    index = analyse_survey(survey).result.alignment.index
    retention.purge_personal_data(survey, now=NOW)
    db.session.commit()
    dashboard = owner_client.get(f"/surveys/{survey.id}/results")
    assert dashboard.status_code == 200
    assert f'<span class="alignment-value">{index:.0f}</span>' in dashboard.text
    assert analyse_survey(survey).result.alignment.index == index
    pdf = owner_client.get(f"/surveys/{survey.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_purged_survey_cannot_reopen(survey):
    retention.purge_personal_data(survey, now=NOW)
    db.session.commit()
    assert "personal data has been purged" in " ".join(ops.open_problems(survey))
    with pytest.raises(ops.SurveyError, match="purged"):
        ops.reopen_survey(survey)


def test_a_purge_before_the_retention_period_ends_is_refused_with_the_date(survey):
    survey.closed_at = NOW - timedelta(days=10)  # 30 days' retention: 20 to go
    db.session.commit()
    with pytest.raises(ops.SurveyError) as refused:
        retention.purge_personal_data(survey, now=NOW)
    due = (NOW + timedelta(days=20)).strftime("%d %b %Y")
    assert str(refused.value) == (
        f"The retention period of 30 days after closing ends on {due}. "
        "Purge early to remove the personal data now."
    )
    assert personal_data_left(survey)
    summary = retention.purge_personal_data(survey, now=NOW, early=True)
    db.session.commit()
    assert summary.early and personal_data_left(survey) == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("%purged")))
    assert event.detail["early"] is True


@pytest.mark.parametrize("status", ["draft", "open"])
def test_only_closed_surveys_can_be_purged(survey, status):
    survey.status = status
    db.session.commit()
    with pytest.raises(ops.SurveyError, match="Only a closed survey can be purged"):
        retention.purge_personal_data(survey, now=NOW, early=True)


def test_without_a_retention_period_an_owner_purges_by_hand(survey):
    survey.retention_days = None
    db.session.commit()
    assert retention.purge_due_at(survey) is None
    assert retention.purge_refusal(survey, NOW) is None
    assert retention.due_surveys(NOW) == []  # cron leaves it alone
    retention.purge_personal_data(survey, now=NOW)
    assert personal_data_left(survey) == []


@pytest.mark.parametrize(("days", "ok"), [(1, True), (3650, True), (None, True), (0, False),
                                          (3651, False), (-5, False)])  # fmt: skip
def test_retention_days_are_validated_and_changes_audited(survey, owner, days, ok):
    if not ok:
        with pytest.raises(ops.SurveyError, match="from 1 to 3650 days"):
            retention.set_retention(survey, days, user=owner)
        return
    assert retention.set_retention(survey, days, user=owner) is True
    assert survey.retention_days == days
    assert retention.set_retention(survey, days, user=owner) is False
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "survey.retention_changed")
    ).all()
    assert [e.detail for e in events] == [{"previous": 30, "retention_days": days}]


def test_purge_due_surveys_purges_only_those_whose_period_has_passed(organisation, survey):
    fresh = with_personal_data(
        export_survey(organisation, title="Fresh wave"), closed_days_ago=5, retention_days=30
    )
    kept = with_personal_data(export_survey(organisation, title="Kept wave"), retention_days=None)
    assert retention.due_surveys(NOW) == [survey]
    preview = retention.purge_due_surveys(NOW, dry_run=True)
    assert [p.survey_id for p in preview] == [survey.id] and preview[0].dry_run
    assert personal_data_left(survey)
    summaries = retention.purge_due_surveys(NOW)
    db.session.commit()
    assert [s.survey_id for s in summaries] == [survey.id]
    assert personal_data_left(survey) == []
    assert personal_data_left(fresh) and personal_data_left(kept)
    assert retention.purge_due_surveys(NOW) == []  # already purged: nothing to do


# The CLI -------------------------------------------------------------------------------


def test_cli_dry_run_prints_and_changes_nothing(runner, survey):
    result = runner.invoke(args=["cxalign", "purge-personal-data", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert f"survey {survey.id} “Alignment wave 1” (Acme Insurance): would purge" in result.stdout
    assert "Dry run: 1 survey would be purged; nothing was changed." in result.stdout
    assert personal_data_left(survey)
    assert db.session.get(Survey, survey.id).personal_data_purged_at is None
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "survey.personal_data_purged"
    ))  # fmt: skip


def test_cli_purges_every_due_survey_and_says_what_it_did(runner, survey):
    result = runner.invoke(args=["cxalign", "purge-personal-data"])
    assert result.exit_code == 0, result.stderr
    assert "purged personal data of 18 respondents, 18 messages, 1 open link." in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "Purged 1 survey."
    assert personal_data_left(survey) == []
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "survey.personal_data_purged")
    )
    assert event.detail["via"] == "cli" and event.user_id is None
    again = runner.invoke(args=["cxalign", "purge-personal-data"])
    assert again.exit_code == 0 and again.stdout.strip() == "Purged 0 surveys."


def test_cli_one_survey_is_refused_with_the_reason_before_its_time(runner, survey):
    survey.closed_at = NOW - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["cxalign", "purge-personal-data", "--survey", str(survey.id)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: survey {survey.id}: The retention period of 30 days")
    assert personal_data_left(survey)
    missing = runner.invoke(args=["cxalign", "purge-personal-data", "--survey", "99999"])
    assert missing.exit_code == 1 and "no survey with id 99999" in missing.stderr


def test_cli_one_due_survey(runner, survey):
    result = runner.invoke(
        args=["cxalign", "purge-personal-data", "--survey", str(survey.id), "--dry-run"]
    )
    assert result.exit_code == 0 and "would purge" in result.stdout
    assert personal_data_left(survey)
    result = runner.invoke(args=["cxalign", "purge-personal-data", "--survey", str(survey.id)])
    assert result.exit_code == 0, result.stderr
    assert personal_data_left(survey) == []


# The Data page: retention form and the purge confirmation ---------------------------------


def test_owners_set_the_retention_period_on_the_data_page(owner_client, survey):
    page = owner_client.get(f"/surveys/{survey.id}/data")
    assert "30 days after closing" in page.text
    due = survey.closed_at + timedelta(days=30)
    assert f"{due.day} {due:%b %Y}" in page.text
    response = owner_client.post(
        f"/surveys/{survey.id}/data/retention", data={"retention_days": "365"}
    )
    assert response.status_code == 302
    db.session.refresh(survey)
    assert survey.retention_days == 365
    response = owner_client.post(
        f"/surveys/{survey.id}/data/retention", data={"retention_days": ""}
    )
    db.session.refresh(survey)
    assert survey.retention_days is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Enter a number of days from 1 to 3650, or leave it empty."),
        ("5000", "Enter a number of days from 1 to 3650, or leave it empty."),
        ("a year", "Enter the number of days as a whole number (e.g. 365), or leave it empty."),
    ],
)
def test_a_bad_retention_period_is_a_form_message(owner_client, survey, value, message):
    response = owner_client.post(
        f"/surveys/{survey.id}/data/retention", data={"retention_days": value}
    )
    assert response.status_code == 400
    errors = re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.text, re.S)
    assert errors == [message]
    db.session.refresh(survey)
    assert survey.retention_days == 30


def test_the_purge_takes_a_confirmation_step(owner_client, survey):
    url = f"/surveys/{survey.id}/data/purge"
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "Email addresses, names and import ids of 18 respondents" in page.text
    assert "Purge now, before the retention period ends." not in page.text  # it is due
    unconfirmed = owner_client.post(url, data={})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm the purge." in unconfirmed.text
    assert personal_data_left(survey)
    done = owner_client.post(url, data={"confirm": "y"})
    assert done.status_code == 302
    assert personal_data_left(survey) == []
    page = owner_client.get(f"/surveys/{survey.id}/data")
    assert "Personal data was purged on" in page.text


def test_an_early_purge_must_be_ticked_explicitly(owner_client, survey):
    survey.closed_at = NOW - timedelta(days=3)
    db.session.commit()
    url = f"/surveys/{survey.id}/data/purge"
    assert "Purge now, before the retention period ends." in owner_client.get(url).text
    refused = owner_client.post(url, data={"confirm": "y"})
    assert refused.status_code == 400
    assert "The retention period has not ended: tick this to purge now." in refused.text
    assert personal_data_left(survey)
    assert owner_client.post(url, data={"confirm": "y", "early": "y"}).status_code == 302
    assert personal_data_left(survey) == []


def test_an_open_survey_shows_why_it_cannot_be_purged(owner_client, survey):
    survey.status = "open"
    db.session.commit()
    url = f"/surveys/{survey.id}/data/purge"
    assert "Only a closed survey can be purged" in owner_client.get(url).text
    assert owner_client.post(url, data={"confirm": "y", "early": "y"}).status_code == 400
    assert personal_data_left(survey)


def test_analysts_get_403_and_other_organisations_404(client, auth, make_user, make_organisation,
                                                      survey):  # fmt: skip
    auth.login(make_user(role=Role.ANALYST, organisation=survey.organisation))
    base = f"/surveys/{survey.id}/data"
    assert client.get(f"{base}/purge").status_code == 403
    assert client.post(f"{base}/purge", data={"confirm": "y", "early": "y"}).status_code == 403
    assert client.post(f"{base}/retention", data={"retention_days": "1"}).status_code == 403
    auth.logout()
    auth.login(make_user(role=Role.OWNER, organisation=make_organisation("Globex")))
    assert client.get(f"{base}/purge").status_code == 404
    assert client.post(f"{base}/purge", data={"confirm": "y", "early": "y"}).status_code == 404
    assert client.post(f"{base}/retention", data={"retention_days": "1"}).status_code == 404
    assert personal_data_left(survey)
    db.session.refresh(survey)
    assert survey.retention_days == 30


# Erasing one respondent (cxalign.surveys.operations.erase_respondent) --------------------


def test_erasing_a_respondent_is_audited_and_leaves_the_exports(owner_client, survey, owner):
    respondent = next(
        r for r in survey.respondents if r.erased_at is None and r.group == "cx_professional"
    )
    email = respondent.email
    rows_before = len(read_csv(build_export(survey, "responses", "csv").data))
    response = owner_client.post(f"/surveys/{survey.id}/respondents/{respondent.id}/erase")
    assert response.status_code == 302
    db.session.expire_all()
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "respondent.erased")
        .order_by(AuditEvent.id.desc())
    )
    assert event.user_id == owner.id and event.detail == {"respondent_id": respondent.id}
    assert email not in json.dumps(event.detail)
    rows = read_csv(build_export(survey, "responses", "csv").data)
    assert len(rows) == rows_before - 1
    assert email not in {row["email"] for row in rows}
    assert not db.session.scalar(
        select(func.count(Response.id)).where(Response.respondent_id == respondent.id)
    )


def test_analysts_cannot_erase(client, auth, make_user, survey):
    respondent = next(r for r in survey.respondents if r.erased_at is None)
    auth.login(make_user(role=Role.ANALYST, organisation=survey.organisation))
    response = client.post(f"/surveys/{survey.id}/respondents/{respondent.id}/erase")
    assert response.status_code == 403
    db.session.refresh(respondent)
    assert respondent.erased_at is None and respondent.email


def test_a_purge_can_be_repeated_without_a_second_early_decision(owner_client, survey):
    survey.closed_at = NOW - timedelta(days=3)
    db.session.commit()
    retention.purge_personal_data(survey, now=NOW, early=True)
    db.session.commit()
    page = owner_client.get(f"/surveys/{survey.id}/data")
    assert "purge again" in page.text and "Save retention" not in page.text
    # Answers imported into the closed survey later bring import ids back.
    respondent = next(r for r in survey.respondents if r.erased_at is None)
    respondent.external_ref = "PAPER-1"
    db.session.commit()
    assert retention.purge_refusal(survey, NOW) is None
    summary = retention.purge_personal_data(survey, now=NOW)
    db.session.commit()
    assert summary.respondents == 1 and not summary.early
    assert personal_data_left(survey) == []
