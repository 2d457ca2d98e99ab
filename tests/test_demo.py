"""The demo organisation: a closed wave with clear gaps, and an open wave in progress."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from cxalign.demo import DEMO_EMAIL, DEMO_PASSWORD, WAVE_1_TITLE, WAVE_2_TITLE, seed_demo
from cxalign.extensions import db
from cxalign.models import Comment, EmailMessage, Item, OpenQuestion, Respondent, Response, Survey
from cxalign.surveys import operations as ops


@pytest.fixture
def demo():
    started = time.process_time()  # CPU time: not inflated by other tests running in parallel
    organisation = seed_demo()
    db.session.commit()
    elapsed = time.process_time() - started
    surveys = {survey.title: survey for survey in organisation.surveys}
    return organisation, surveys, elapsed


def dimension_means(survey: Survey) -> dict[tuple[str, str], float]:
    """(dimension code, group) → mean answer on the 5-point scale, reverse items recoded."""
    values = defaultdict(list)
    rows = db.session.execute(
        select(Response.value, Item, Respondent.group)
        .join(Item, Response.item_id == Item.id)
        .join(Respondent, Response.respondent_id == Respondent.id)
        .where(Respondent.survey_id == survey.id, Response.dont_know.is_(False))
    )
    for value, item, group in rows:
        good = item.points + 1 - value if item.reverse else value
        values[(item.dimension.code, group)].append(1 + 4 * (good - 1) / (item.points - 1))
    return {key: sum(v) / len(v) for key, v in values.items()}


def test_seeding_is_quick_and_makes_two_waves(demo):
    _, surveys, elapsed = demo
    assert elapsed < 2.0
    assert set(surveys) == {WAVE_1_TITLE, WAVE_2_TITLE}
    assert surveys[WAVE_1_TITLE].status == "closed"
    assert surveys[WAVE_2_TITLE].status == "open"
    assert surveys[WAVE_1_TITLE].instrument.is_builtin
    assert surveys[WAVE_2_TITLE].previous_survey_id == surveys[WAVE_1_TITLE].id


def test_wave_1_is_complete_and_both_groups_pass_their_thresholds(demo):
    _, surveys, _ = demo
    report = ops.survey_status(surveys[WAVE_1_TITLE])
    executives, cx = report.groups
    assert (executives.invited, executives.completed) == (8, 8)
    assert (cx.invited, cx.completed) == (30, 30)
    assert report.all_thresholds_passed
    items = len(surveys[WAVE_1_TITLE].instrument.dimensions) * 4
    answers = db.session.scalar(
        select(func.count(Response.id))
        .join(Respondent)
        .where(Respondent.survey_id == surveys[WAVE_1_TITLE].id)
    )
    assert answers == 38 * items


def test_wave_1_shows_blind_spots_agreement_and_a_hidden_strength(demo):
    _, surveys, _ = demo
    means = dimension_means(surveys[WAVE_1_TITLE])

    def gap(code: str) -> float:
        return means[(code, "executive")] - means[(code, "cx_professional")]

    for blind_spot in ("ENGAGE", "INVEST", "ACCOUNT", "CX_LEAD"):
        assert gap(blind_spot) >= 1.0, blind_spot
    for shared in ("VOC", "EMPLOYEE"):
        assert abs(gap(shared)) < 0.35, shared
    assert gap("LOOP") <= -0.8


def test_reverse_coded_items_are_answered_consistently(demo):
    _, surveys, _ = demo
    survey = surveys[WAVE_1_TITLE]
    raw = defaultdict(list)
    for value, code, group in db.session.execute(
        select(Response.value, Item.code, Respondent.group)
        .join(Item, Response.item_id == Item.id)
        .join(Respondent, Response.respondent_id == Respondent.id)
        .where(Respondent.survey_id == survey.id, Response.value.is_not(None))
    ):
        raw[(code, group)].append(value)

    def mean(code, group):
        return sum(raw[(code, group)]) / len(raw[(code, group)])

    # Executives see engagement as high: they agree with the positive items and
    # disagree with the reverse-worded one ("... nothing much happens").
    assert mean("ENGAGE_1", "executive") > mean("ENGAGE_1", "cx_professional")
    assert mean("ENGAGE_4", "executive") < mean("ENGAGE_4", "cx_professional")
    assert mean("ACCOUNT_4", "executive") < mean("ACCOUNT_4", "cx_professional")


def test_dont_know_appears_only_where_offered_and_mostly_on_pay(demo):
    _, surveys, _ = demo
    rows = db.session.execute(
        select(Item.code, Item.dont_know, Respondent.group)
        .select_from(Response)
        .join(Item, Response.item_id == Item.id)
        .join(Respondent, Response.respondent_id == Respondent.id)
        .where(Respondent.survey_id == surveys[WAVE_1_TITLE].id, Response.dont_know.is_(True))
    ).all()
    assert all(offered for _, offered, _ in rows)
    cx_on_pay = [code for code, _, group in rows if group == "cx_professional"]
    assert cx_on_pay.count("ACCOUNT_1") >= 3


def test_comments_for_every_open_question_including_html(demo):
    _, surveys, _ = demo
    survey = surveys[WAVE_1_TITLE]
    counts = dict(
        db.session.execute(
            select(OpenQuestion.code, func.count(Comment.id))
            .join(Comment, Comment.question_id == OpenQuestion.id)
            .join(Respondent, Comment.respondent_id == Respondent.id)
            .where(Respondent.survey_id == survey.id)
            .group_by(OpenQuestion.code)
        ).all()
    )
    assert len(counts) == len(survey.instrument.open_questions)
    assert all(count >= 4 for count in counts.values())
    texts = db.session.scalars(select(Comment.text)).all()
    assert any("<b>HTML</b>" in text for text in texts)


def test_wave_2_is_under_way_with_messages_in_the_outbox(demo):
    _, surveys, _ = demo
    survey = surveys[WAVE_2_TITLE]
    report = ops.survey_status(survey)
    for group in report.groups:
        assert group.completed > 0 and group.in_progress > 0 and group.not_started > 0
    assert report.days_left > 0
    assert report.pending  # not anonymous to staff, so the status page can list them
    kinds = db.session.scalars(
        select(EmailMessage.kind).where(EmailMessage.survey_id == survey.id)
    ).all()
    assert kinds.count("invitation") == report.invited
    assert kinds.count("reminder") == report.invited - report.completed
    plan = ops.reminder_plan(survey)
    assert plan.due == [] and plan.next_allowed_at is not None  # reminded 30 hours ago


def test_demo_owner_sees_the_surveys(client, auth, demo):
    _, surveys, _ = demo
    auth.login(DEMO_EMAIL, DEMO_PASSWORD)
    home = client.get("/home")
    assert WAVE_1_TITLE in home.text and WAVE_2_TITLE in home.text
    assert "38 of 38" in home.text
    status = client.get(f"/surveys/{surveys[WAVE_2_TITLE].id}/status")
    assert status.status_code == 200 and "@northwind.example" in status.text
    assert client.get(f"/surveys/{surveys[WAVE_1_TITLE].id}").status_code == 200
    assert client.get("/surveys/outbox").status_code == 200


def test_demo_command_loads_only_into_an_empty_database(runner):
    first = runner.invoke(args=["cxalign", "demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert DEMO_EMAIL in first.stdout
    second = runner.invoke(args=["cxalign", "demo", "--if-empty"])
    assert "not loaded" in second.stdout
    assert db.session.scalar(select(func.count(Survey.id))) == 2
