"""Mail delivery: the in-app outbox without SMTP, and a real SMTP server on loopback.

The SMTP tests run aiosmtpd on 127.0.0.1 and read back what actually arrived.
"""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.mail import send_message
from cxalign.models import EmailMessage, Organisation
from cxalign.surveys import operations as ops
from tests.test_surveys import opened


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses bounce@ addresses."""

    def __init__(self):
        self.messages = []
        self.logins = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def smtp_config(app, monkeypatch, smtp_server):
    """Point the app at the loopback server (plain SMTP: MAIL_USE_TLS off)."""
    inbox, port = smtp_server
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_TIMEOUT": 5,
        "MAIL_DEFAULT_SENDER": "Acme CX <cx@acme.example>",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return inbox


@pytest.fixture
def organisation(make_organisation):
    return make_organisation("Acme Insurance")


def test_without_smtp_messages_wait_in_the_outbox(organisation, smtp_server):
    inbox, _ = smtp_server
    message = send_message(
        "invitation", "ada@example.com", "Hello", "Body", organisation_id=organisation.id
    )
    db.session.commit()
    assert message.status == "outbox" and message.sent_at is None and message.error is None
    assert inbox.messages == []


def test_invitations_arrive_over_smtp(organisation, smtp_config):
    survey = opened(organisation, "ada@example.com, executive, Ada\nbob@example.com, cx")
    assert ops.send_invitations(survey) == 2
    db.session.commit()
    assert len(smtp_config.messages) == 2
    by_recipient = {rcpt[0]: (sender, message) for sender, rcpt, message in smtp_config.messages}
    sender, message = by_recipient["ada@example.com"]
    assert sender == "cx@acme.example"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Acme Insurance asks for your view: Wave 1"
    assert message["From"] == "Acme CX <cx@acme.example>"
    assert message["Message-ID"].endswith("@acme.example>")
    body = message.get_content()
    ada = next(r for r in survey.respondents if r.email == "ada@example.com")
    assert body.startswith("Dear Ada,")
    assert ops.respondent_link(ada) in body
    records = db.session.scalars(select(EmailMessage)).all()
    assert {r.status for r in records} == {"sent"}
    assert all(r.sent_at is not None for r in records)


def test_reminders_arrive_over_smtp_and_unicode_survives(organisation, smtp_config):
    survey = opened(organisation, "zoë@example.com, cx, Zoë", title="Wave — spring")
    ops.send_invitations(survey)
    survey.reminder_cooldown_hours = 1
    from datetime import timedelta

    from cxalign.models import utcnow

    assert ops.send_reminders(survey, now=utcnow() + timedelta(hours=2)) == 1
    reminder = smtp_config.messages[-1][2]
    assert reminder["Subject"] == "Reminder: Wave — spring"
    assert reminder.get_content().startswith("Dear Zoë,")


def test_a_refused_recipient_fails_alone_and_the_reason_is_kept(organisation, smtp_config):
    survey = opened(organisation, "bounce@example.com, executive\nok@example.com, cx")
    assert ops.send_invitations(survey) == 1
    db.session.commit()
    assert [rcpt for _, rcpt, _ in smtp_config.messages] == [["ok@example.com"]]
    failed = db.session.scalar(select(EmailMessage).where(EmailMessage.status == "failed"))
    assert failed.recipient == "bounce@example.com"
    assert "550" in failed.error and "No such mailbox" in failed.error
    # The failed invitation is retried next time; the delivered one is not sent again.
    assert [r.email for r in ops.uninvited_respondents(survey)] == ["bounce@example.com"]


def test_an_unreachable_server_fails_every_message_without_crashing(
    app, monkeypatch, owner_client, owner
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    organisation = db.session.get(Organisation, owner.current_organisation_id)
    survey = opened(organisation, "a@example.com, executive\nb@example.com, cx")
    response = owner_client.post(f"/surveys/{survey.id}/invitations")
    assert response.status_code == 302
    page = owner_client.get(f"/surveys/{survey.id}")
    assert "2 invitations could not be sent; the outbox shows why." in page.text
    records = db.session.scalars(select(EmailMessage)).all()
    assert [r.status for r in records] == ["failed", "failed"]
    assert all("could not connect to the mail server" in r.error for r in records)
    outbox = owner_client.get("/surveys/outbox")
    assert "Failed" in outbox.text and "could not connect" in outbox.text


def test_starttls_required_but_not_offered_is_a_recorded_failure(
    app, monkeypatch, organisation, smtp_config
):
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", True)
    message = send_message(
        "invitation", "ada@example.com", "Hi", "Body", organisation_id=organisation.id
    )
    assert message.status == "failed"
    assert "STARTTLS" in message.error
    assert smtp_config.messages == []


def test_login_is_used_when_a_username_is_set(app, monkeypatch, organisation):
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        inbox.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right", handled=False)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # one mechanism: one login attempt per send
    )
    controller.start()
    try:
        for key, value in {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": controller.port,
            "MAIL_USE_TLS": False,
            "MAIL_USERNAME": "cxalign",
            "MAIL_PASSWORD": "right",
        }.items():
            monkeypatch.setitem(app.config, key, value)
        sent = send_message("test", "ada@example.com", "S", "B", organisation_id=organisation.id)
        monkeypatch.setitem(app.config, "MAIL_PASSWORD", "wrong")
        refused = send_message("test", "ada@example.com", "S", "B", organisation_id=organisation.id)
    finally:
        controller.stop()
    assert sent.status == "sent"
    assert refused.status == "failed" and "535" in refused.error
    assert inbox.logins == [(b"cxalign", b"right"), (b"cxalign", b"wrong")]
    assert len(inbox.messages) == 1


def test_headers_cannot_be_injected_through_the_subject(organisation, smtp_config):
    send_message(
        "test",
        "ada@example.com",
        "Hello\r\nBcc: victim@example.com",
        "Body",
        organisation_id=organisation.id,
    )
    _, recipients, message = smtp_config.messages[0]
    assert recipients == ["ada@example.com"]
    assert message["Bcc"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.com"
