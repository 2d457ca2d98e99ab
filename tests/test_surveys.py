"""Survey waves without HTTP: lifecycle, respondents, links, reminders, status, the CLI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    AuditEvent,
    EmailMessage,
    Instrument,
    OpenLink,
    Organisation,
    Respondent,
    Response,
    Survey,
    SurveyStatus,
    hash_token,
    utcnow,
)
from cxalign.surveys import operations as ops


def new_survey(organisation: Organisation, **settings):
    """A draft survey on the built-in instrument (committed)."""
    settings.setdefault("title", "Wave 1")
    survey = ops.create_survey(organisation, **settings)
    db.session.commit()
    return survey


def add(survey, text: str) -> list[Respondent]:
    respondents = ops.add_respondents(survey, ops.parse_respondent_lines(text))
    db.session.commit()
    return respondents


def opened(organisation: Organisation, lines: str = "", **settings):
    survey = new_survey(organisation, **settings)
    if lines:
        add(survey, lines)
    ops.open_survey(survey)
    db.session.commit()
    return survey


@pytest.fixture
def organisation(make_organisation) -> Organisation:
    return make_organisation("Acme Insurance")


# Creating and the lifecycle ---------------------------------------------------


def test_create_survey_uses_the_builtin_instrument_and_defaults(organisation):
    survey = new_survey(organisation, title="  Wave 1  ")
    assert survey.status == SurveyStatus.DRAFT
    assert survey.title == "Wave 1"
    assert survey.instrument.is_builtin
    assert (survey.anonymity_executive, survey.anonymity_cx) == (3, 3)
    assert survey.gap_threshold == 0.5
    assert survey.anonymous_to_staff
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey.created"))
    assert event.target == f"survey:{survey.id}"


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"title": "  "}, "Give the survey a title"),
        ({"anonymity_cx": 2}, "from 3 to 50"),
        ({"anonymity_executive": 0}, "from 1 to 50"),
        ({"gap_threshold": 0}, "gap threshold"),
        ({"reminder_cooldown_hours": 0}, "reminder cooldown"),
        ({"opens_on": date(2026, 3, 2), "closes_on": date(2026, 3, 1)}, "on or after"),
    ],
)
def test_create_survey_refuses_bad_settings_with_a_reason(organisation, settings, reason):
    with pytest.raises(ops.SurveyError, match=reason):
        ops.create_survey(organisation, **({"title": "Wave"} | settings))


def test_executives_may_go_down_to_one_and_are_then_told(organisation):
    survey = new_survey(organisation, anonymity_executive=1)
    assert ops.executives_may_be_attributable(survey)
    assert not ops.executives_may_be_attributable(new_survey(organisation))


def test_another_organisations_instrument_cannot_be_used(organisation, make_organisation):
    other = make_organisation("Other")
    builtin = ensure_builtin_instrument()
    private = Instrument(organisation=other, key="x", version=1, name="Theirs")
    db.session.add(private)
    db.session.commit()
    with pytest.raises(ops.SurveyError, match="another organisation"):
        ops.create_survey(organisation, title="Wave", instrument=private)
    assert ops.create_survey(organisation, title="Wave", instrument=builtin).instrument == builtin


def test_draft_opens_then_closes_and_keeps_every_answer(organisation):
    survey = opened(organisation, "a@example.com, executive")
    assert survey.status == SurveyStatus.OPEN
    assert survey.opened_at is not None and survey.opens_on is not None
    respondent = survey.respondents[0]
    item = survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=4))
    respondent.status = "completed"
    db.session.commit()

    ops.close_survey(survey)
    db.session.commit()
    assert survey.status == SurveyStatus.CLOSED
    assert survey.closed_at is not None
    assert db.session.scalar(select(func.count(Response.id))) == 1
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["survey.opened", "survey.closed"]


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    [
        ("draft", ops.close_survey, "Only an open survey can be closed"),
        ("open", ops.open_survey, "already open"),
        ("closed", ops.close_survey, "already closed"),
        ("draft", ops.reopen_survey, "Only a closed survey can be reopened"),
        ("open", ops.reopen_survey, "Only a closed survey can be reopened"),
    ],
)
def test_illegal_transitions_are_refused_with_a_reason(organisation, status, action, reason):
    survey = new_survey(organisation)
    if status != "draft":
        ops.open_survey(survey)
    if status == "closed":
        ops.close_survey(survey)
    with pytest.raises(ops.SurveyError, match=reason):
        action(survey)
    assert survey.status == status


def test_a_closed_survey_can_be_reopened_unless_its_closing_date_passed(organisation):
    survey = opened(organisation)
    ops.close_survey(survey)
    ops.reopen_survey(survey)
    assert survey.status == SurveyStatus.OPEN and survey.closed_at is None
    ops.close_survey(survey)
    survey.closes_on = date.today() - timedelta(days=1)
    with pytest.raises(ops.SurveyError, match="closing date"):
        ops.reopen_survey(survey)


def test_a_survey_whose_closing_date_passed_cannot_open(organisation):
    survey = new_survey(organisation, closes_on=date.today() - timedelta(days=1))
    assert "has passed" in " ".join(ops.open_problems(survey))
    with pytest.raises(ops.SurveyError, match="has passed"):
        ops.open_survey(survey)


def test_only_a_draft_can_be_deleted(organisation):
    survey = new_survey(organisation)
    ops.delete_draft_survey(survey)
    db.session.commit()
    assert organisation.surveys == []
    survey = opened(organisation)
    with pytest.raises(ops.SurveyError, match="Only a draft"):
        ops.delete_draft_survey(survey)


# Settings ---------------------------------------------------------------------


def test_every_setting_can_change_while_draft(organisation):
    survey = new_survey(organisation)
    changed = ops.update_settings(
        survey,
        ops.SurveySettings(title="Wave 2", anonymity_executive=1, anonymous_to_staff=False),
    )
    assert set(changed) == {"title", "anonymity_executive", "anonymous_to_staff"}
    assert survey.anonymity_executive == 1


def test_once_open_the_instrument_is_fixed_and_promises_only_get_stronger(organisation):
    survey = opened(organisation, anonymity_executive=2, anonymous_to_staff=False)
    current = ops.settings_of(survey)
    other = Instrument(organisation=organisation, key="mine", version=1, name="Ours")
    db.session.add(other)
    db.session.flush()

    with pytest.raises(ops.SurveyError, match="instrument cannot change"):
        ops.update_settings(survey, current, instrument=other)
    with pytest.raises(ops.SurveyError, match="only be raised"):
        ops.update_settings(
            survey, ops.SurveySettings(**{**current.__dict__, "anonymity_executive": 1})
        )
    with pytest.raises(ops.SurveyError, match="opening date"):
        ops.update_settings(
            survey, ops.SurveySettings(**{**current.__dict__, "opens_on": date(2020, 1, 1)})
        )
    changed = ops.update_settings(
        survey,
        ops.SurveySettings(
            **{
                **current.__dict__,
                "title": "Renamed",
                "anonymity_executive": 3,
                "anonymous_to_staff": True,
                "closes_on": date.today() + timedelta(days=30),
            }
        ),
    )
    assert set(changed) == {"title", "anonymity_executive", "anonymous_to_staff", "closes_on"}
    with pytest.raises(ops.SurveyError, match="stays that way"):
        ops.update_settings(
            survey,
            ops.SurveySettings(**{**ops.settings_of(survey).__dict__, "anonymous_to_staff": False}),
        )
    assert ops.locked_settings(survey) == {"instrument", "opens_on"}


# Importing respondents -----------------------------------------------------------


def test_pasted_lines_accept_commas_tabs_semicolons_names_headers_and_blank_lines():
    rows = ops.parse_respondent_lines(
        "email, group, name\n"
        "CEO@Example.com, executive, Ada Lovelace\n"
        "\n"
        "cx1@example.com,CX Professional\n"
    )
    assert [(r.line, r.email, r.group, r.name) for r in rows] == [
        (2, "ceo@example.com", "executive", "Ada Lovelace"),
        (4, "cx1@example.com", "cx_professional", None),
    ]
    tabbed = ops.parse_respondent_lines("a@example.com\texecutive\nb@example.com\tcx")
    assert [r.group for r in tabbed] == ["executive", "cx_professional"]
    semi = ops.parse_respondent_lines("a@example.com; exec")
    assert semi[0].group == "executive"


def test_every_bad_line_is_reported_with_its_number_and_reason():
    text = (
        "good@example.com, executive\n"
        "not-an-email, executive\n"
        "x@example.com, board\n"
        "GOOD@example.com, cx_professional\n"
        ", executive\n"
        "y@example.com\n"
        "z@example.com, cx, Zed, extra\n"
    )
    with pytest.raises(ops.RespondentImportError) as caught:
        ops.parse_respondent_lines(text)
    errors = dict(caught.value.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7]
    assert "bad email" in errors[2]
    assert "unknown group 'board'" in errors[3]
    assert "duplicate of line 1" in errors[4]
    assert "missing email" in errors[5]
    assert "missing group" in errors[6]
    assert "4 columns" in errors[7]
    assert "nothing was imported" in str(caught.value)


def test_csv_upload_with_header_bom_and_quoted_names():
    data = (
        '\ufeffname,email,group\r\n"Lovelace, Ada",ada@example.com,executive\r\n'
        "Grace,grace@example.com,cx_professional\r\n"
    ).encode()
    rows = ops.parse_respondent_csv(data)
    assert [(r.line, r.email, r.name) for r in rows] == [
        (2, "ada@example.com", "Lovelace, Ada"),
        (3, "grace@example.com", "Grace"),
    ]


def test_csv_errors_name_the_file_lines_and_windows_files_are_read():
    data = b"email,group\nok@example.com,executive\nbad,executive\nok@example.com,cx\n"
    with pytest.raises(ops.RespondentImportError) as caught:
        ops.parse_respondent_csv(data)
    assert caught.value.errors == [
        (3, "bad email 'bad'"),
        (4, "duplicate of line 2 (ok@example.com)"),
    ]
    assert (
        ops.parse_respondent_csv("zoë@example.com;executive;Zoë".encode("cp1252"))[0].name == "Zoë"
    )
    with pytest.raises(ops.RespondentImportError, match="1 row has a problem"):
        ops.parse_respondent_csv(b"\x00\x01binary")
    with pytest.raises(ops.RespondentImportError):
        ops.parse_respondent_csv(b"email,group\n")


def test_import_is_all_or_nothing_against_existing_respondents(organisation):
    survey = new_survey(organisation)
    add(survey, "a@example.com, executive")
    rows = ops.parse_respondent_lines("b@example.com, executive\nA@example.com, cx_professional")
    with pytest.raises(ops.RespondentImportError) as caught:
        ops.add_respondents(survey, rows)
    assert caught.value.errors == [(2, "a@example.com is already a respondent of this survey")]
    db.session.rollback()
    assert [r.email for r in survey.respondents] == ["a@example.com"]


def test_adding_respondents_is_audited_without_their_emails(organisation):
    survey = new_survey(organisation)
    add(survey, "a@example.com, executive\nb@example.com, cx")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "respondents.added"))
    assert event.detail == {"count": 2, "executive": 1, "cx_professional": 1}
    assert "example.com" not in str(event.detail)


def test_a_closed_survey_takes_no_respondents(organisation):
    survey = opened(organisation)
    ops.close_survey(survey)
    with pytest.raises(ops.SurveyError, match="closed"):
        ops.add_respondents(survey, ops.parse_respondent_lines("a@example.com, executive"))
    with pytest.raises(ops.SurveyError, match="closed"):
        ops.add_respondent_without_email(survey, "executive")


# Personal links and open links ---------------------------------------------------


def test_personal_link_tokens_are_long_random_and_only_hashed(organisation, app):
    survey = new_survey(organisation)
    respondent, token = ops.add_respondent_without_email(survey, "executive", name="Board member")
    db.session.commit()
    assert len(token) >= 43  # 256 bits of HMAC output, base64url: well over 128 bits
    assert respondent.token_hash == hash_token(token)
    stored = [str(v) for v in db.session.execute(select(Respondent.__table__)).one()]
    assert token not in stored
    assert ops.find_respondent_by_token(token) is respondent
    assert ops.respondent_link(respondent) == f"http://localhost/r/{token}"
    assert ops.find_respondent_by_token("x" * 43) is None
    assert ops.find_respondent_by_token("") is None
    assert ops.find_respondent_by_token("x" * 1000) is None


def test_new_link_replaces_the_old_one_and_revoke_stops_it(organisation):
    survey = new_survey(organisation)
    respondent, first = ops.add_respondent_without_email(survey, "cx_professional")
    second = ops.issue_new_link(respondent)
    assert first != second
    assert ops.find_respondent_by_token(first) is None
    assert ops.find_respondent_by_token(second) is respondent
    ops.revoke_respondent(respondent)
    db.session.commit()
    assert ops.find_respondent_by_token(second) is None
    third = ops.issue_new_link(respondent)  # restores the respondent with a fresh link
    assert ops.find_respondent_by_token(third) is respondent
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("respondent.new_link") == 2 and "respondent.revoked" in actions


def test_erasing_removes_answers_and_personal_data(organisation):
    survey = opened(organisation, "ada@example.com, executive, Ada")
    respondent = survey.respondents[0]
    token = respondent.link_token("test-secret-key")
    item = survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=3))
    ops.send_invitations(survey)
    db.session.commit()
    ops.erase_respondent(respondent)
    db.session.commit()
    assert respondent.email is None and respondent.name is None and respondent.erased_at
    assert db.session.scalar(select(func.count(Response.id))) == 0
    assert ops.find_respondent_by_token(token) is None
    message = db.session.scalar(select(EmailMessage))
    assert "ada@example.com" not in message.recipient + message.body_text
    assert token not in message.body_text
    assert ops.survey_status(survey).invited == 0


def test_open_link_join_creates_a_fresh_respondent_each_time(organisation):
    survey = opened(organisation)
    token = ops.create_open_link(survey, "cx_professional")
    db.session.commit()
    assert db.session.scalar(select(OpenLink.token_hash)) == hash_token(token)
    link = ops.find_open_link(token)
    first, first_token = ops.join_open_link(link)
    second, second_token = ops.join_open_link(link)
    assert first.id != second.id and first_token != second_token
    assert first.group == second.group == "cx_professional"
    assert first.source == "open_link"
    assert ops.find_respondent_by_token(second_token) is second
    assert ops.open_link_url(token) == f"http://localhost/join/{token}"


def test_a_new_open_link_revokes_the_previous_one_and_revoking_stops_it(organisation):
    survey = opened(organisation)
    old = ops.create_open_link(survey, "executive")
    other_group = ops.create_open_link(survey, "cx_professional")
    new = ops.create_open_link(survey, "executive")
    assert ops.find_open_link(old) is None
    assert ops.find_open_link(new) is not None
    assert ops.find_open_link(other_group) is not None
    assert ops.revoke_open_link(survey, "executive")
    assert ops.find_open_link(new) is None
    assert not ops.revoke_open_link(survey, "executive")
    assert ops.find_open_link("unknown-token") is None


# Invitations and reminders ---------------------------------------------------------


def test_invitations_need_an_open_survey_and_go_once_to_each_address(organisation):
    survey = new_survey(organisation)
    add(survey, "a@example.com, executive\nb@example.com, cx_professional")
    ops.add_respondent_without_email(survey, "executive")
    with pytest.raises(ops.SurveyError, match="Open the survey"):
        ops.send_invitations(survey)
    ops.open_survey(survey)
    assert ops.send_invitations(survey) == 2
    assert ops.send_invitations(survey) == 0  # nobody left to invite
    add(survey, "c@example.com, executive")
    assert ops.send_invitations(survey) == 1
    messages = db.session.scalars(select(EmailMessage).order_by(EmailMessage.id)).all()
    assert [m.status for m in messages] == ["outbox"] * 3
    first = messages[0]
    assert first.kind == "invitation"
    respondent = db.session.get(Respondent, first.respondent_id)
    assert ops.respondent_link(respondent) in first.body_text
    assert first.subject == "Acme Insurance asks for your view: Wave 1"


def test_invitation_text_tells_executives_when_answers_may_be_attributable(organisation):
    survey = opened(
        organisation, "ceo@example.com, executive, Ada\nx@example.com, cx", anonymity_executive=1
    )
    ops.send_invitations(survey)
    bodies = {m.recipient: m.body_text for m in db.session.scalars(select(EmailMessage))}
    assert bodies["ceo@example.com"].startswith("Dear Ada,")
    assert "may be attributable" in bodies["ceo@example.com"]
    assert "may be attributable" not in bodies["x@example.com"]
    assert "at least 3 people" in bodies["x@example.com"]


def test_reminders_respect_status_and_the_cooldown(organisation):
    survey = opened(
        organisation,
        "wait@example.com, executive\ndone@example.com, executive\n"
        "gone@example.com, cx\nlate@example.com, cx",
        reminder_cooldown_hours=24,
    )
    no_email, _ = ops.add_respondent_without_email(survey, "cx_professional")
    by_email = {r.email: r for r in survey.respondents}
    ops.send_invitations(
        survey, [by_email[e] for e in ("wait@example.com", "done@example.com", "gone@example.com")]
    )
    by_email["done@example.com"].status = "completed"
    ops.revoke_respondent(by_email["gone@example.com"])
    db.session.commit()
    invited_at = utcnow()

    # Straight after the invitation: still within the cooldown.
    plan = ops.reminder_plan(survey, invited_at + timedelta(hours=1))
    assert plan.due == [] and plan.cooling == 1 and plan.not_invited == 1
    assert plan.next_allowed_at > invited_at + timedelta(hours=23)
    assert ops.send_reminders(survey, now=invited_at + timedelta(hours=1)) == 0

    day_later = invited_at + timedelta(hours=25)
    assert ops.send_reminders(survey, now=day_later) == 1
    waiting = by_email["wait@example.com"]
    assert waiting.last_reminded_at == day_later and waiting.reminder_count == 1
    assert ops.send_reminders(survey, now=day_later + timedelta(hours=23)) == 0
    assert ops.send_reminders(survey, now=day_later + timedelta(hours=24)) == 1
    assert waiting.reminder_count == 2
    reminders = db.session.scalars(select(EmailMessage).where(EmailMessage.kind == "reminder"))
    assert {m.recipient for m in reminders} == {"wait@example.com"}
    assert no_email.reminder_count == 0


def test_reminders_only_while_open(organisation):
    survey = new_survey(organisation)
    with pytest.raises(ops.SurveyError, match="only be sent while the survey is open"):
        ops.send_reminders(survey)


# Status ----------------------------------------------------------------------------


def _set_statuses(survey, statuses: dict[str, str]) -> None:
    for respondent in survey.respondents:
        respondent.status = statuses.get(respondent.email, "invited")
    db.session.commit()


def test_status_counts_per_group_thresholds_and_days_left(organisation):
    survey = opened(
        organisation,
        "e1@example.com, executive\ne2@example.com, executive\n"
        "c1@example.com, cx\nc2@example.com, cx\nc3@example.com, cx\nc4@example.com, cx",
        anonymity_executive=1,
        closes_on=date.today() + timedelta(days=10),
    )
    _set_statuses(
        survey,
        {
            "e1@example.com": "completed",
            "c1@example.com": "completed",
            "c2@example.com": "completed",
            "c3@example.com": "started",
        },
    )
    ops.revoke_respondent(next(r for r in survey.respondents if r.email == "c4@example.com"))
    report = ops.survey_status(survey)
    executives, cx = report.groups
    assert (executives.invited, executives.started, executives.completed) == (2, 1, 1)
    assert executives.response_rate == 0.5 and executives.threshold_passed
    assert (cx.invited, cx.started, cx.completed) == (3, 3, 2)
    assert cx.in_progress == 1 and not cx.threshold_passed and cx.missing_for_threshold == 1
    assert report.days_left == 10
    assert report.pending is None  # anonymous to staff by default
    assert report.completed == 3 and report.invited == 5
    ops.close_survey(survey)
    assert ops.survey_status(survey).days_left is None


def test_status_lists_who_has_not_answered_only_when_not_anonymous(organisation):
    survey = opened(
        organisation, "e1@example.com, executive\nc1@example.com, cx", anonymous_to_staff=False
    )
    _set_statuses(survey, {"e1@example.com": "completed"})
    report = ops.survey_status(survey)
    assert [(p.label, p.group) for p in report.pending] == [("c1@example.com", "cx_professional")]


def test_response_counts_for_the_survey_list(organisation):
    survey = opened(organisation, "e1@example.com, executive\nc1@example.com, cx")
    _set_statuses(survey, {"e1@example.com": "completed"})
    assert ops.response_counts([survey.id]) == {survey.id: (1, 2)}
    assert ops.response_counts([]) == {}


# CLI -------------------------------------------------------------------------------


def test_cli_create_survey_prints_the_id_last(runner, organisation):
    result = runner.invoke(
        args=[
            "cxalign",
            "create-survey",
            "--org",
            "Acme Insurance",
            "--title",
            "From the CLI",
            "--anonymity-executive",
            "1",
        ]
    )
    assert result.exit_code == 0, result.output
    survey_id = int(result.stdout.strip().splitlines()[-1])
    survey = db.session.get(Survey, survey_id)
    assert survey.title == "From the CLI" and survey.anonymity_executive == 1
    assert survey.organisation_id == organisation.id and survey.instrument.is_builtin

    by_id = runner.invoke(
        args=[
            "cxalign",
            "create-survey",
            "--org",
            str(organisation.id),
            "--title",
            "By id",
            "--instrument",
            "builtin",
        ]
    )
    assert by_id.exit_code == 0, by_id.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "Nobody", "--title", "T"], "no organisation"),
        (["--org", "Acme Insurance", "--title", "T", "--anonymity-cx", "1"], "from 3 to 50"),
        (["--org", "Acme Insurance", "--title", "T", "--instrument", "999"], "no instrument 999"),
        (["--org", "Acme Insurance", "--title", "T", "--instrument", "mine"], "builtin"),
        (["--org", "Acme Insurance", "--title", " "], "title"),
    ],
)
def test_cli_create_survey_bad_input_is_one_line_on_stderr(runner, organisation, args, message):
    result = runner.invoke(args=["cxalign", "create-survey", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0]


def test_cli_survey_round_trip(runner, organisation, tmp_path):
    survey = new_survey(organisation)
    people = tmp_path / "people.csv"
    people.write_text("email,group\na@example.com,executive\nb@example.com,cx_professional\n")
    assert (
        runner.invoke(
            args=["cxalign", "add-respondents", str(survey.id), str(people)]
        ).stdout.split()[-1]
        == "2"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("email,group\nnope,executive\n")
    failed = runner.invoke(args=["cxalign", "add-respondents", str(survey.id), str(bad)])
    assert failed.exit_code == 1 and "line 2: bad email" in failed.stderr
    assert (
        runner.invoke(args=["cxalign", "open-survey", str(survey.id)]).stdout.split()[-1] == "open"
    )
    assert (
        runner.invoke(args=["cxalign", "send-invitations", str(survey.id)]).stdout.split()[-1]
        == "2"
    )
    assert (
        runner.invoke(args=["cxalign", "send-reminders", str(survey.id)]).stdout.split()[-1] == "0"
    )
    assert (
        runner.invoke(args=["cxalign", "close-survey", str(survey.id)]).stdout.split()[-1]
        == "closed"
    )
    again = runner.invoke(args=["cxalign", "close-survey", str(survey.id)])
    assert again.exit_code == 1 and "already closed" in again.stderr
    assert runner.invoke(args=["cxalign", "open-survey", "9999"]).exit_code == 1


def test_opening_before_the_planned_date_starts_the_survey_today(organisation):
    survey = new_survey(organisation, opens_on=date.today() + timedelta(days=7))
    ops.open_survey(survey)
    assert survey.opens_on == date.today()


def test_nothing_is_sent_once_the_closing_date_has_passed(organisation):
    survey = opened(organisation, "a@example.com, executive")
    survey.closes_on = date.today() - timedelta(days=1)
    assert ops.past_closing_date(survey)
    with pytest.raises(ops.SurveyError, match="closing date has passed"):
        ops.send_invitations(survey)
    with pytest.raises(ops.SurveyError, match="closing date has passed"):
        ops.send_reminders(survey)
    assert db.session.scalar(select(func.count(EmailMessage.id))) == 0
