"""Sending email: over SMTP when ``MAIL_SERVER`` is set, else into the in-app outbox.

Every message is recorded as an ``EmailMessage`` whatever happens to it:

* ``sent``: the SMTP server accepted it;
* ``failed``: it did not (the error is kept, the request carries on, and owners see it
  in the outbox);
* ``outbox``: no SMTP server is configured, so the message waits in the app, where
  owners can read it. Everything works offline.

Settings (see ``cxalign/config.py``): ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``,
``MAIL_PASSWORD``, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USE_SSL`` (implicit TLS),
``MAIL_TIMEOUT`` and ``MAIL_DEFAULT_SENDER``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app

from cxalign.extensions import db
from cxalign.models import EmailMessage, utcnow

STATUS_OUTBOX = "outbox"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"

# What can go wrong talking to a mail server; anything else is a bug and is raised.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError, ValueError, UnicodeError)


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


class SMTPConnection:
    """One SMTP session shared by a batch of messages, opened on first use.

    If the server cannot be reached, every message of the batch fails with that reason
    instead of waiting for the timeout again and again.
    """

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.open_error: str | None = None

    def _open(self) -> smtplib.SMTP:
        config = self.config
        host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
        timeout = float(config.get("MAIL_TIMEOUT") or 10)
        context = ssl.create_default_context()
        if config.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            smtp.ehlo()
            if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, message: MimeMessage) -> None:
        if self.open_error:
            raise smtplib.SMTPException(self.open_error)
        for attempt in (1, 2):
            if self.smtp is None:
                try:
                    self.smtp = self._open()
                except DELIVERY_ERRORS as error:
                    self.open_error = f"could not connect to the mail server: {describe(error)}"
                    raise smtplib.SMTPException(self.open_error) from error
            try:
                self.smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                # The server hung up between messages: reconnect once.
                _quietly_close(self.smtp)
                self.smtp = None
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except DELIVERY_ERRORS:
                _quietly_close(self.smtp)
            self.smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with suppress(DELIVERY_ERRORS):
        smtp.close()


@contextmanager
def smtp_connection() -> Iterator[SMTPConnection | None]:
    """An SMTP session for a batch of messages, or None when mail goes to the outbox."""
    if not mail_configured():
        yield None
        return
    connection = SMTPConnection(current_app.config)
    try:
        yield connection
    finally:
        connection.close()


def describe(error: BaseException) -> str:
    """A short, readable reason for the owner: the SMTP reply when there is one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [
            f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for code, text in error.recipients.values()
        ]
        return "recipient refused: " + "; ".join(replies)
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        return f"{error.smtp_code} {text}"
    return str(error) or type(error).__name__


def _single_line(text: str) -> str:
    """Header values never carry line breaks (that would let text inject headers)."""
    return " ".join(str(text).split())


def build_mime(sender: str, recipient: str, subject: str, body: str) -> MimeMessage:
    message = MimeMessage()
    message["From"] = _single_line(sender)
    message["To"] = _single_line(recipient)
    message["Subject"] = _single_line(subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_message(
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    *,
    organisation_id: int | None,
    survey_id: int | None = None,
    respondent_id: int | None = None,
    connection: SMTPConnection | None = None,
) -> EmailMessage:
    """Send (or keep in the outbox) one plain-text message and record it.

    Never raises for delivery problems: a failure is recorded on the returned message.
    Pass a ``connection`` from ``smtp_connection()`` to share one SMTP session.
    """
    record = EmailMessage(
        organisation_id=organisation_id,
        survey_id=survey_id,
        respondent_id=respondent_id,
        kind=kind,
        recipient=recipient,
        subject=_single_line(subject)[:300],
        body_text=body,
        status=STATUS_OUTBOX,
    )
    db.session.add(record)
    if mail_configured():
        if connection is None:
            with smtp_connection() as own_connection:
                _deliver(record, own_connection)
        else:
            _deliver(record, connection)
    db.session.flush()
    return record


def _deliver(record: EmailMessage, connection: SMTPConnection) -> None:
    try:
        mime = build_mime(
            current_app.config["MAIL_DEFAULT_SENDER"],
            record.recipient,
            record.subject,
            record.body_text,
        )
        connection.send(mime)
    except DELIVERY_ERRORS as error:
        record.status = STATUS_FAILED
        record.error = describe(error)[:1000]
        current_app.logger.warning(
            "email %s (survey %s) failed: %s", record.kind, record.survey_id, record.error
        )
    else:
        record.status = STATUS_SENT
        record.sent_at = utcnow()
