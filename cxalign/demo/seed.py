"""Demo data, so that a newcomer sees a finished gap report at once.

``seed_demo()`` creates the demo organisation and its owner, then two waves on the
built-in instrument:

* **wave 1**, closed: 8 executives and 30 CX professionals, all completed, with
  synthetic answers drawn from a fixed-seed generator. The two groups see some things
  very differently (executives far more positive about how often they seek the CX team's
  advice, funding, accountability and pay, and the CX leader's standing: blind spots),
  agree on others (voice-of-the-customer measurement, employee engagement), and one
  dimension is a hidden strength (executives rate closing the loop lower than the CX
  team does). Some CX professionals answer "don't know" on compensation items. Reverse-
  coded items are answered consistently: the generator works in the "higher is better"
  direction and stores the raw answer the respondent would have ticked.
* **wave 2**, open, the next wave of wave 1 in the same series: respondents invited,
  some started, some completed, with invitations and reminders in the outbox, so the
  status page shows a live wave. Enough people in both groups have completed for its
  results to show, so its dashboard already has a trend against wave 1 (the gaps on
  advice and funding narrowing by more than their uncertainty).

Everything is inserted in bulk, so seeding takes well under two seconds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
from flask import current_app
from sqlalchemy import func, insert, select

from cxalign.accounts import find_user
from cxalign.extensions import db
from cxalign.models import (
    Comment,
    EmailMessage,
    Group,
    Instrument,
    Item,
    Membership,
    Organisation,
    Respondent,
    RespondentStatus,
    Response,
    Role,
    Survey,
    SurveyStatus,
    User,
    utcnow,
)

DEMO_EMAIL = "demo@cxalign.example"
DEMO_PASSWORD = "see-the-gap-2026"
DEMO_ORGANISATION = "Northwind Retail (demo)"
WAVE_1_TITLE = "Executive alignment 2026 — wave 1"
WAVE_2_TITLE = "Executive alignment 2026 — wave 2"
SEED = 20260123

EXEC = Group.EXECUTIVE.value
CX = Group.CX_PROFESSIONAL.value

# Where each group stands per dimension, as a mean on a 5-point scale in the "higher is
# better" direction. Wave 1 is the baseline; wave 2 shows the gaps starting to close.
PROFILES: dict[str, tuple[float, float]] = {
    "LEAD_FOCUS": (4.4, 3.5),
    "AWARE": (4.2, 3.4),
    "ENGAGE": (4.3, 2.2),  # blind spot: "the CEO rarely asks us for advice"
    "STRATEGY": (4.1, 3.0),
    "INVEST": (4.1, 2.3),  # blind spot: funding
    "ACCOUNT": (3.9, 2.1),  # blind spot: accountability and compensation
    "CX_LEAD": (4.3, 2.4),  # blind spot: the CX leader's seat at the table
    "VOC": (2.9, 2.9),  # agreement: measurement is weak, and both sides know it
    "LOOP": (2.5, 3.7),  # hidden strength: the CX team closes more loops than executives think
    "EMPLOYEE": (3.9, 3.9),  # agreement: a shared strength
    "DISCIPLINE": (3.5, 3.1),
    "CUST_VIEW": (4.2, 3.2),
}
ITEM_PROFILES: dict[str, tuple[float, float]] = {
    "ENGAGE_1": (4.4, 1.9),  # how often executives ask the CX team for advice
    "ACCOUNT_1": (3.6, 1.8),  # compensation tied to CX
}
WAVE_2_SHIFT = {"ENGAGE": (-0.2, 0.5), "CX_LEAD": (-0.1, 0.4), "INVEST": (-0.2, 0.3)}

# "Don't know" shares per group, on items that offer it.
DONT_KNOW: dict[str, tuple[float, float]] = {
    "ACCOUNT_1": (0.0, 0.4),  # CX professionals often do not know how executives are paid
    "ACCOUNT_3": (0.0, 0.2),
    "LOOP_2": (0.25, 0.03),  # a quarter of executives do not know how often loops close
    "INVEST_3": (0.0, 0.1),
}
DONT_KNOW_DEFAULT = (0.0, 0.04)

EXECUTIVES = [
    ("Margaret Okafor", "Chief Executive Officer"),
    ("Henrik Sandberg", "Chief Financial Officer"),
    ("Priya Raman", "Chief Operating Officer"),
    ("Tom Achterberg", "Chief Marketing Officer"),
    ("Lucía Fernández", "Chief Digital Officer"),
    ("David Mensah", "Chief People Officer"),
    ("Claire Dubois", "Chief Commercial Officer"),
    ("Kenji Watanabe", "Chief Information Officer"),
]
WAVE_2_EXECUTIVES = EXECUTIVES[:6]
CX_FIRST = [
    "Amira", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kaia", "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Samuel", "Tara",
    "Umar", "Vera", "Will", "Xin", "Yara", "Zoltan", "Aisha", "Bruno", "Carmen", "Dev",
]  # fmt: skip
CX_LAST = [
    "Haddad", "Novak", "Brennan", "Petrov", "Rossi", "Karimi", "Lindqvist", "Moreau",
    "Costa", "Becker", "Tamm", "O'Neill", "Patel", "Volkov", "Hughes", "Almeida", "Fischer",
    "Santos", "Adeyemi", "Kaur", "Siddiqui", "Horvat", "Turner", "Li", "Nasser", "Kovacs",
    "Bello", "Romano", "Ortiz", "Sharma",
]  # fmt: skip

COMMENTS = {
    "OPEN_EXEC_CHANGE": [
        "Fix the returns process in stores. It is the number one complaint I hear when I visit.",
        "Give store managers a budget they can spend on the spot to put things right for a "
        "customer.",
        "One customer view across online and stores, so nobody has to explain themselves twice.",
        "Keep investing in the app: it is where our younger customers already are.",
        "Faster delivery slots in the regions outside the big cities.",
        "Honestly, I think we are in good shape; we need to keep doing what works.",
    ],
    "OPEN_EXEC_ASK": [
        "Fewer dashboards, more recommendations: tell me what to do on Monday.",
        "What the data says about why customers leave, not only how many.",
        "Early warning when a change we made is hurting customers, before it shows up in sales.",
        "I would like to hear directly from customers more often, not only through summaries.",
        "Which of our initiatives actually moved the numbers last year.",
    ],
    "OPEN_CX_CHANGE": [
        "Let the people who handle complaints fix the root cause, not only the individual case.",
        "A real budget line for CX instead of borrowing from marketing every quarter.",
        "Tie part of executive bonuses to customer outcomes. Until then it stays a slogan.",
        "Invite the head of CX to the executive meeting every month, not once a year.",
        "Measure effort, not only satisfaction: our customers work far too hard to buy from us.",
        "The monthly CX pack arrives as slides full of <b>HTML</b> tables nobody reads; give "
        "executives three numbers and one customer story instead.",
        "Stop launching new programmes before the last one has shown any result.",
        "Share complaint themes with every store team weekly, with what we did about them.",
        "Give frontline staff the authority to refund up to a set amount without approval.",
    ],
    "OPEN_CX_UNDERSTAND": [
        "Customers do not care about our org chart. They see one company.",
        "Our NPS looks fine because we only survey people who completed a purchase.",
        "Most customers who leave never complain. They just stop coming.",
        "Delivery promises we break cost us more than any price cut wins back.",
        "We close the loop on complaints far better than executives think. Ask to see it.",
        "The customers who call us are not angry about the product; they are angry about being "
        "passed around.",
        "Small businesses buying from us have completely different needs from consumers.",
        "We hear the same five problems every month. They are not new; they are unresolved.",
    ],
}


@dataclass(frozen=True)
class _Person:
    name: str
    email: str


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count(User.id))) == 0


def seed_demo() -> Organisation:
    """Create the demo organisation, its owner and two survey waves (the caller commits)."""
    from cxalign.instruments.store import ensure_builtin_instrument

    user = find_user(DEMO_EMAIL)
    if user is None:
        user = User(email=DEMO_EMAIL, name="Dana Demo", is_admin=database_is_empty())
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    organisation = Organisation(name=DEMO_ORGANISATION)
    db.session.add(organisation)
    db.session.flush()
    db.session.add(Membership(user=user, organisation=organisation, role=Role.OWNER))
    user.current_organisation_id = organisation.id
    db.session.flush()

    instrument = ensure_builtin_instrument()
    rng = np.random.default_rng(SEED)
    now = utcnow().replace(microsecond=0)
    wave_1 = _seed_wave_1(organisation, instrument, user, rng, now)
    _seed_wave_2(organisation, instrument, user, rng, now, previous=wave_1)
    db.session.flush()
    return organisation


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=utcnow().tzinfo)


def _people() -> tuple[list[_Person], list[_Person]]:
    def email(name: str) -> str:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        return ".".join(ascii_name.lower().replace("'", "").split()) + "@northwind.example"

    executives = [_Person(f"{name} ({role})", email(name)) for name, role in EXECUTIVES]
    names = [f"{first} {last}" for first, last in zip(CX_FIRST, CX_LAST, strict=True)]
    cx = [_Person(name, email(name)) for name in names]
    return executives, cx


def _seed_wave_1(organisation, instrument, owner, rng, now) -> Survey:
    opened = now - timedelta(days=70)
    closed = now - timedelta(days=45)
    survey = Survey(
        organisation=organisation,
        instrument=instrument,
        title=WAVE_1_TITLE,
        introduction="Thank you for taking part. We ask our executive team and our CX "
        "professionals the same questions, to see where we agree and where we do not.",
        status=SurveyStatus.CLOSED.value,
        opens_on=opened.date(),
        closes_on=closed.date(),
        opened_at=opened,
        closed_at=_at(closed.date(), 17),
        anonymity_executive=3,
        anonymity_cx=3,
        gap_threshold=0.5,
        anonymous_to_staff=True,
        created_by_id=owner.id,
        created_at=opened - timedelta(days=7),
    )
    db.session.add(survey)
    db.session.flush()
    survey.series_key = str(survey.id)
    executives, cx = _people()
    respondents = _respondents(survey, executives, cx, opened, closed - opened, rng)
    for respondent in respondents:
        respondent.status = RespondentStatus.COMPLETED.value
        respondent.last_page = 99
    db.session.add_all(respondents)
    db.session.flush()
    _answer(instrument, respondents, rng, shift={})
    _comment(instrument, respondents, rng)
    return survey


def _seed_wave_2(organisation, instrument, owner, rng, now, previous: Survey) -> Survey:
    opened = now - timedelta(days=6)
    survey = Survey(
        organisation=organisation,
        instrument=instrument,
        title=WAVE_2_TITLE,
        introduction="Six months on: the same questions again, to see whether the gaps we "
        "found in wave 1 are closing.",
        status=SurveyStatus.OPEN.value,
        opens_on=opened.date(),
        closes_on=(now + timedelta(days=15)).date(),
        opened_at=opened,
        anonymity_executive=3,
        anonymity_cx=3,
        gap_threshold=0.5,
        reminder_cooldown_hours=48,
        # Not anonymous to staff, so the status page can show who has not answered yet.
        anonymous_to_staff=False,
        series_key=previous.series_key,
        previous_survey_id=previous.id,
        created_by_id=owner.id,
        created_at=opened - timedelta(days=2),
    )
    db.session.add(survey)
    db.session.flush()
    executives, cx = _people()
    executives = executives[: len(WAVE_2_EXECUTIVES)]
    cx = cx[:24]
    respondents = _respondents(survey, executives, cx, opened, now - opened, rng)
    # Who has done what so far: completed first, then started, the rest only invited.
    progress = {EXEC: (4, 1), CX: (14, 4)}
    done, partial = [], []
    for group, (n_done, n_started) in progress.items():
        members = [r for r in respondents if r.group == group]
        for r in members[:n_done]:
            r.status = RespondentStatus.COMPLETED.value
            r.last_page = 99
            done.append(r)
        for r in members[n_done : n_done + n_started]:
            r.status = RespondentStatus.STARTED.value
            r.completed_at = None
            r.last_page = 2
            partial.append(r)
        for r in members[n_done + n_started :]:
            r.status = RespondentStatus.INVITED.value
            r.started_at = None
            r.completed_at = None
    db.session.add_all(respondents)
    db.session.flush()
    _answer(instrument, done, rng, shift=WAVE_2_SHIFT)
    _answer(instrument, partial, rng, shift=WAVE_2_SHIFT, dimensions=4)
    _comment(instrument, done, rng)
    _messages(survey, respondents, opened, now)
    return survey


def _respondents(survey, executives, cx, start, window, rng) -> list[Respondent]:
    secret = current_app.config["SECRET_KEY"]
    respondents = []
    for group, people in ((EXEC, executives), (CX, cx)):
        for person in people:
            started = start + timedelta(
                seconds=int(rng.uniform(0.05, 0.9) * window.total_seconds())
            )
            respondent = Respondent(
                survey=survey,
                group=group,
                email=person.email,
                name=person.name,
                source="invited",
                created_at=start - timedelta(hours=2),
                started_at=started,
                completed_at=started + timedelta(minutes=int(rng.integers(9, 31))),
            )
            respondent.issue_token(secret)
            respondents.append(respondent)
    return respondents


def _items(instrument: Instrument) -> list[Item]:
    return [item for dimension in instrument.dimensions for item in dimension.items]


def _answer(instrument, respondents, rng, *, shift, dimensions: int | None = None) -> None:
    """Answers drawn around each group's profile, stored as the respondent would tick them."""
    chosen = instrument.dimensions[:dimensions] if dimensions else instrument.dimensions
    rows = []
    for respondent in respondents:
        is_exec = respondent.group == EXEC
        # Some people answer everything a little higher or lower than others.
        leniency = rng.normal(0.0, 0.3)
        noise = 0.55 if is_exec else 0.7
        answered_at = respondent.completed_at or respondent.started_at or utcnow()
        for dimension in chosen:
            base = PROFILES[dimension.code]
            delta = shift.get(dimension.code, (0.0, 0.0))
            for item in dimension.items:
                exec_mean, cx_mean = ITEM_PROFILES.get(item.code, base)
                mean5 = (exec_mean + delta[0]) if is_exec else (cx_mean + delta[1])
                dk_exec, dk_cx = DONT_KNOW.get(item.code, DONT_KNOW_DEFAULT)
                if item.dont_know and rng.random() < (dk_exec if is_exec else dk_cx):
                    rows.append(_response(respondent, item, None, answered_at))
                    continue
                points = item.points
                # The same position on a longer scale: 1 + (m - 1) * (points - 1) / 4.
                mean = 1 + (mean5 - 1) * (points - 1) / 4
                spread = (points - 1) / 4
                good = round(mean + (leniency + rng.normal(0.0, noise)) * spread)
                good = min(points, max(1, good))
                value = (points + 1 - good) if item.reverse else good
                rows.append(_response(respondent, item, value, answered_at))
    if rows:
        db.session.execute(insert(Response), rows)


def _response(respondent, item, value, when) -> dict:
    return {
        "respondent_id": respondent.id,
        "item_id": item.id,
        "value": value,
        "dont_know": value is None,
        "updated_at": when,
    }


def _comment(instrument, respondents, rng) -> None:
    rows = []
    for question in instrument.open_questions:
        texts = list(COMMENTS.get(question.code, []))
        group = [r for r in respondents if r.group == question.group]
        if not texts or not group:
            continue
        order = rng.permutation(len(group))
        for text, index in zip(texts, order, strict=False):
            respondent = group[int(index)]
            rows.append(
                {
                    "respondent_id": respondent.id,
                    "question_id": question.id,
                    "text": text,
                    "updated_at": respondent.completed_at or utcnow(),
                }
            )
    if rows:
        db.session.execute(insert(Comment), rows)


def _messages(survey, respondents, opened, now) -> None:
    """Invitations for everyone and one round of reminders, kept in the outbox."""
    from cxalign.surveys.operations import MESSAGE_INVITATION, MESSAGE_REMINDER, compose_message

    reminded_at = now - timedelta(hours=30)
    rows = []
    for respondent in respondents:
        subject, body = compose_message(MESSAGE_INVITATION, respondent)
        rows.append(_message(survey, respondent, MESSAGE_INVITATION, subject, body, opened))
        if respondent.status != RespondentStatus.COMPLETED:
            subject, body = compose_message(MESSAGE_REMINDER, respondent)
            rows.append(_message(survey, respondent, MESSAGE_REMINDER, subject, body, reminded_at))
            respondent.last_reminded_at = reminded_at
            respondent.reminder_count = 1
    db.session.execute(insert(EmailMessage), rows)


def _message(survey, respondent, kind, subject, body, when) -> dict:
    return {
        "organisation_id": survey.organisation_id,
        "survey_id": survey.id,
        "respondent_id": respondent.id,
        "kind": kind,
        "recipient": respondent.email,
        "subject": subject,
        "body_text": body,
        "status": "outbox",
        "created_at": when,
    }
