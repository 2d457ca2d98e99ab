"""HTML, scripts and template syntax in free text are inert: in pages, emails and the PDF.

Every free-text field of the scene (``tests/hostile.py``) is overwritten with a payload
that carries its own marker: the organisation's name, the owner's name, survey titles
and introductions, instrument and dimension names and descriptions, item wordings and
help texts, open questions, respondents' names, comments, API token names, invitation
emails. Then:

* every HTML page of every GET rule (walked from ``app.url_map``, as the owner, and
  anonymously for respondent links) is parsed: no element, attribute or URL the payload
  tried to inject exists, and each payload appears somewhere as visible, escaped text;
* invitation emails carry the payload as plain text (never HTML-escaped, never HTML);
* the PDF report prints the payloads as literal text (tests/test_report_pdf.py already
  covers comments and item wording; here: organisation, title, dimension names);
* a real Chromium opens key pages: no dialog fires, no injected element exists.
"""

from __future__ import annotations

import io
import re
from email import message_from_string
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.mail import build_mime
from cxalign.models import (
    ApiToken,
    Comment,
    Dimension,
    EmailMessage,
    Group,
    Instrument,
    Item,
    OpenQuestion,
    Organisation,
    Respondent,
    RespondentStatus,
    Survey,
    User,
)
from tests.hostile import build_path, rules, send, stage, user_for


def payload(marker: str, *, short: bool = False) -> str:
    """Script, attribute break-out, javascript: URL and template syntax, with a marker.
    The short form fits a 100-character column (API token names)."""
    if short:
        return f'{marker}<script>alert(1)</script>"><img src=x onerror=alert(1)>{{{{7*7}}}}'
    return (
        f'{marker}<script>alert("{marker}")</script>"><img src=x onerror=alert("{marker}")>'
        f"<a href=\"javascript:alert('{marker}')\">{marker}</a>{{{{7*7}}}}"
    )


FIELDS = {
    "organisation": "zqorgname",
    "user": "zqusername",
    "survey": "zqsurveytitle",
    "introduction": "zqintro",
    "instrument": "zqinstrument",
    "dimension": "zqdimension",
    "item": "zqitemwording",
    "help": "zqhelptext",
    "question": "zqopenquestion",
    "respondent": "zqrespondent",
    "comment": "zqcomment",
    "token": "zqtokenname",
}
MARKERS = set(FIELDS.values())
PAYLOADS = {field: payload(marker, short=field == "token") for field, marker in FIELDS.items()}
BY_MARKER = {FIELDS[field]: text for field, text in PAYLOADS.items()}


def plant_payloads(scene) -> None:
    """Overwrite every free-text field of the scene with its payload."""
    p = PAYLOADS
    db.session.get(Organisation, scene.organisation_id).name = p["organisation"]
    db.session.get(User, scene.owner_id).name = p["user"]
    for survey in db.session.scalars(
        select(Survey).where(Survey.organisation_id == scene.organisation_id)
    ):
        survey.title = p["survey"]
        survey.introduction = p["introduction"]
    for instrument in db.session.scalars(select(Instrument)):
        instrument.name = p["instrument"]
        instrument.description = p["instrument"]
    for dimension in db.session.scalars(select(Dimension)):
        dimension.name = p["dimension"]
        dimension.description = p["dimension"]
    for item in db.session.scalars(select(Item)):
        item.executive_text = item.cx_text = p["item"]
        item.help_text = p["help"]
    for question in db.session.scalars(select(OpenQuestion)):
        question.text = p["question"]
    for respondent in db.session.scalars(select(Respondent)):
        respondent.name = p["respondent"]
    for token in db.session.scalars(select(ApiToken)):
        token.name = p["token"]
    # A's completed respondent leaves a comment on every question of their group.
    survey = db.session.get(Survey, scene.survey_id)
    done = next(r for r in survey.respondents if r.status == RespondentStatus.COMPLETED)
    for question in survey.instrument.open_questions:
        if question.group == done.group:
            db.session.add(Comment(respondent=done, question=question, text=p["comment"]))
    db.session.commit()


class PageScan(HTMLParser):
    """What a browser would build from the page: elements, attributes, visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in ("href", "src", "action", "formaction") and re.match(
                r"\s*javascript:", value, re.IGNORECASE
            ):
                self.problems.append(f"<{tag} {name}={value[:40]!r}> javascript: URL")
            if name == "src" and value == "x":
                self.problems.append(f"<{tag} src=x> injected element")
        if tag == "script":
            self._in_script = True
            if not dict(attrs).get("src"):
                self.problems.append("inline <script>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"script content {data.strip()[:40]!r}")
        self.text.append(data)


def scan(html: str) -> PageScan:
    page = PageScan()
    page.feed(html)
    page.close()
    return page


def test_the_scanner_sees_an_injection():
    found = scan("<p>" + payload("zqx") + "</p>").problems
    assert any("inline <script>" in p for p in found)
    assert any("event handler" in p for p in found)
    assert any("javascript: URL" in p for p in found)
    assert scan("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>").problems == []


def test_payloads_are_inert_on_every_page(app):
    current = stage(app)
    scene = current.scene
    plant_payloads(scene)
    problems = []
    shown = set()
    pages = 0
    for rule in rules(app, ["GET"]):
        path = build_path(rule, scene)
        if path is None or rule.rule.endswith(".pdf"):
            continue
        outcome = send(app, user_for(rule, scene), "GET", path)
        if not outcome.headers.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        page = scan(outcome.text)
        problems += [f"{path}: {problem}" for problem in page.problems]
        text = "".join(page.text)
        for marker in MARKERS:
            if BY_MARKER[marker] in text:
                shown.add(marker)
            elif f"{marker}<script>" in text.replace("\n", ""):
                shown.add(marker)  # shown, shortened or wrapped, but as text
    assert pages >= 20
    assert not problems, "\n".join(problems)
    # Every field's payload was shown as text somewhere (its ``{{7*7}}`` included, not
    # evaluated), so every field was really checked.
    assert shown == MARKERS, sorted(MARKERS - shown)


def test_invitation_emails_carry_the_payloads_as_plain_text(app):
    scene = stage(app).scene
    plant_payloads(scene)
    respondent = Respondent(
        survey_id=scene.survey_id,
        group=Group.CX_PROFESSIONAL,
        email="invitee.zq@example.com",
        name=payload(FIELDS["respondent"]),
        token_hash="",
        link_nonce="",
    )
    respondent.issue_token(app.config["SECRET_KEY"])
    db.session.add(respondent)
    db.session.commit()
    outcome = send(app, scene.owner_id, "POST", f"/surveys/{scene.survey_id}/invitations")
    assert outcome.status == 302
    message = db.session.scalar(
        select(EmailMessage).where(EmailMessage.recipient == "invitee.zq@example.com")
    )
    for field in ("organisation", "survey", "respondent"):
        assert payload(FIELDS[field]) in message.body_text, field
    assert "&lt;" not in message.body_text and "&#" not in message.body_text
    assert payload(FIELDS["organisation"]) in message.subject
    mime = message_from_string(
        build_mime(
            "cx <no-reply@example.com>", message.recipient, message.subject, message.body_text
        ).as_string()
    )
    assert mime.get_content_type() == "text/plain" and not mime.is_multipart()
    # Shown in the outbox page: escaped, inert.
    page = send(app, scene.owner_id, "GET", f"/surveys/outbox/{message.id}")
    assert page.status == 200
    assert scan(page.text).problems == []
    assert payload(FIELDS["survey"]) in "".join(scan(page.text).text)


def test_the_pdf_prints_the_payloads_as_text(app):
    scene = stage(app).scene
    plant_payloads(scene)
    outcome = send(app, scene.owner_id, "GET", f"/surveys/{scene.survey_id}/report.pdf")
    assert outcome.status == 200
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(outcome.body)).pages]
    text = " ".join(" ".join(pages).split())
    for field in ("organisation", "survey", "dimension"):
        marker = FIELDS[field]
        assert f'{marker}<script>alert("{marker}")</script>' in text, field


@pytest.mark.browser
def test_no_script_runs_in_a_real_browser(app, live_server, page):
    current = stage(app)
    scene = current.scene
    plant_payloads(scene)
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"_user_id": str(scene.owner_id), "_fresh": True})
    page.context.add_cookies([{"name": "session", "value": cookie, "url": live_server}])
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    paths = [
        "/home",
        f"/surveys/{scene.survey_id}",
        f"/surveys/{scene.survey_id}/results",
        f"/instruments/{scene.clone_id}",
        "/team",
        "/settings/api-tokens",
        "/surveys/outbox",
        f"/r/{scene.answering_token}/page/1",
    ]
    for path in paths:
        page.goto(live_server + path)
        page.wait_for_load_state("load")
        assert page.locator("img[src='x']").count() == 0, path
        assert page.locator("a[href^='javascript:']").count() == 0, path
    assert dialogs == []
    # The payload is on the page as text.
    page.goto(live_server + f"/surveys/{scene.survey_id}/results")
    assert f"{FIELDS['survey']}<script>" in page.inner_text("body")
