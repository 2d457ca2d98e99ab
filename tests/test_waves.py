"""Starting the next wave of a survey: settings, respondents and links, access, the CLI."""

from __future__ import annotations

import dataclasses

import pytest
from flask import current_app
from sqlalchemy import select

from cxalign.extensions import db
from cxalign.instruments.store import (
    ensure_builtin_instrument,
    save_instrument,
    spec_from_instrument,
)
from cxalign.models import AuditEvent, Organisation, Respondent, Role, Survey, utcnow
from cxalign.surveys import operations as ops
from cxalign.surveys import waves
from tests.test_surveys import opened

PEOPLE = """ceo@example.com, executive, Ada CEO
cfo@example.com, executive
maria@example.com, cx_professional, Maria
lee@example.com, cx_professional
gone@example.com, cx_professional
revoked@example.com, cx_professional"""


@pytest.fixture
def organisation(owner) -> Organisation:
    return db.session.get(Organisation, owner.current_organisation_id)


@pytest.fixture
def source(organisation, owner) -> Survey:
    """An open wave with every kind of respondent and non-default settings."""
    survey = opened(
        organisation,
        PEOPLE,
        title="Executive alignment 2026 — wave 1",
        anonymity_executive=1,
        anonymity_cx=5,
        gap_threshold=0.75,
        reminder_cooldown_hours=72,
        anonymous_to_staff=False,
        introduction="Thanks for taking part.",
    )
    survey.comment_minimum = 4
    survey.allow_review = False
    survey.retention_days = 400
    by_email = {r.email: r for r in survey.respondents}
    ops.erase_respondent(by_email["gone@example.com"])
    ops.revoke_respondent(by_email["revoked@example.com"])
    ops.add_respondent_without_email(survey, "executive", name="Board member")
    link = ops.create_open_link(survey, "cx_professional")
    ops.join_open_link(ops.find_open_link(link))
    db.session.commit()
    return survey


def secret() -> str:
    return current_app.config["SECRET_KEY"]


# The domain function -------------------------------------------------------------


def test_the_next_wave_copies_the_settings_and_joins_the_series(source, owner):
    started = waves.start_next_wave(source, carry_over_respondents=False, user=owner)
    db.session.commit()
    wave = started.survey
    assert wave.status == "draft" and wave.organisation_id == source.organisation_id
    assert wave.title == "Executive alignment 2026 — wave 2"
    assert wave.instrument_id == source.instrument_id
    copied = [
        "introduction",
        "anonymity_executive",
        "anonymity_cx",
        "comment_minimum",
        "gap_threshold",
        "reminder_cooldown_hours",
        "anonymous_to_staff",
        "allow_review",
        "retention_days",
    ]
    assert {name: getattr(wave, name) for name in copied} == {
        name: getattr(source, name) for name in copied
    }
    assert (wave.opens_on, wave.closes_on, wave.opened_at) == (None, None, None)
    # The first wave gets the series key by convention: its own id.
    assert source.series_key == str(source.id) == wave.series_key
    assert wave.previous_survey_id == source.id
    assert wave.respondents == [] and started.carried_over == 0
    assert started.shared_dimensions == len(source.instrument.dimensions)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "survey.next_wave_started")
    )
    assert event.user_id == owner.id and event.target == f"survey:{wave.id}"
    assert event.detail["previous_survey_id"] == source.id

    # A third wave reuses the series and counts on.
    ops.open_survey(wave)
    third = waves.start_next_wave(wave, carry_over_respondents=False, user=owner).survey
    assert third.series_key == source.series_key
    assert third.title == "Executive alignment 2026 — wave 3"
    assert [s.id for s in waves.series_of(source)] == [source.id, wave.id, third.id]
    assert waves.wave_number(third) == 3
    assert waves.next_waves(source) == [wave] and waves.previous_wave(third) == wave


def test_respondents_are_carried_over_with_fresh_links(source, owner):
    before = {r.id: r.link_token(secret()) for r in source.respondents}
    wave = waves.start_next_wave(source, carry_over_respondents=True, user=owner)
    db.session.commit()
    carried = sorted(wave.survey.respondents, key=lambda r: r.id)

    # Listed and live only: not the erased, the revoked, or the open-link joiner.
    assert wave.carried_over == len(carried) == 5
    assert sorted((r.email or "", r.group, r.name or "") for r in carried) == sorted(
        [
            ("ceo@example.com", "executive", "Ada CEO"),
            ("cfo@example.com", "executive", ""),
            ("maria@example.com", "cx_professional", "Maria"),
            ("lee@example.com", "cx_professional", ""),
            ("", "executive", "Board member"),
        ]
    )
    assert {r.status for r in carried} == {"invited"}
    assert all(r.started_at is None and r.reminder_count == 0 for r in carried)

    new_tokens = [r.link_token(secret()) for r in carried]
    assert len(set(new_tokens)) == len(new_tokens)
    assert not set(new_tokens) & set(before.values())
    assert len({r.token_hash for r in carried} | {r.token_hash for r in source.respondents}) == (
        len(carried) + len(source.respondents)
    )
    # Each link opens its own wave: the old ones the old wave, the new ones the new wave.
    old_ceo = next(r for r in source.respondents if r.email == "ceo@example.com")
    assert ops.find_respondent_by_token(before[old_ceo.id]).survey_id == source.id
    for respondent, token in zip(carried, new_tokens, strict=True):
        assert ops.find_respondent_by_token(token).id == respondent.id
        assert respondent.survey_id == wave.survey.id
    # The source wave is untouched.
    assert {r.id: r.link_token(secret()) for r in source.respondents} == before


def test_a_draft_cannot_have_a_next_wave(organisation, owner):
    draft = ops.create_survey(organisation, title="Not yet")
    with pytest.raises(ops.SurveyError, match="draft"):
        waves.start_next_wave(draft, carry_over_respondents=True, user=owner)


def test_another_instrument_must_share_a_dimension_and_belong_to_the_organisation(
    source, owner, make_organisation
):
    spec = spec_from_instrument(ensure_builtin_instrument())
    newer = save_instrument(
        dataclasses.replace(spec, key="own", version=2, dimensions=spec.dimensions[:3]),
        organisation_id=source.organisation_id,
    )
    unrelated_spec = dataclasses.replace(
        spec,
        key="unrelated",
        dimensions=(dataclasses.replace(spec.dimensions[0], code="ELSEWHERE"),),
    )
    unrelated = save_instrument(unrelated_spec, organisation_id=source.organisation_id)
    foreign = save_instrument(
        dataclasses.replace(spec, key="foreign"), organisation_id=make_organisation("Other").id
    )
    db.session.flush()

    wave = waves.start_next_wave(source, instrument=newer, carry_over_respondents=False, user=owner)
    assert wave.survey.instrument_id == newer.id and wave.shared_dimensions == 3
    assert waves.shared_dimension_codes(source.instrument, newer) == [
        d.code for d in spec.dimensions[:3]
    ]
    with pytest.raises(ops.SurveyError, match="no dimension in common"):
        waves.start_next_wave(
            source, instrument=unrelated, carry_over_respondents=False, user=owner
        )
    with pytest.raises(ops.SurveyError, match="another organisation"):
        waves.start_next_wave(source, instrument=foreign, carry_over_respondents=False, user=owner)


def test_purged_personal_data_cannot_be_carried_over(source, owner):
    source.personal_data_purged_at = utcnow()
    with pytest.raises(ops.SurveyError, match="purged"):
        waves.start_next_wave(source, carry_over_respondents=True, user=owner)
    assert waves.start_next_wave(source, carry_over_respondents=False, user=owner).survey


def test_the_series_stays_inside_the_organisation(source, owner, make_organisation):
    wave = waves.start_next_wave(source, carry_over_respondents=False, user=owner).survey
    other = Survey(
        organisation=make_organisation("Other"),
        instrument=source.instrument,
        title="Same key, other organisation",
        series_key=source.series_key,
        previous_survey_id=source.id,
    )
    db.session.add(other)
    db.session.commit()
    assert [s.id for s in waves.series_of(wave)] == [source.id, wave.id]
    assert waves.next_waves(source) == [wave]
    assert waves.previous_wave(other) is None


def test_a_long_title_still_fits():
    survey = Survey(title="x" * 200, id=1)
    title = waves.default_next_title(survey, [survey])
    assert len(title) <= 200 and title.endswith(" — wave 2")


# The page --------------------------------------------------------------------------


def test_the_owner_starts_the_next_wave_from_the_survey_page(owner_client, source):
    detail = owner_client.get(f"/surveys/{source.id}")
    assert f"/surveys/{source.id}/next-wave" in detail.text

    page = owner_client.get(f"/surveys/{source.id}/next-wave")
    assert page.status_code == 200
    assert "Carry over respondents (5 people, new personal links)" in page.text
    assert "Trends compare only the dimensions present in both waves" in page.text
    assert 'value="Executive alignment 2026 — wave 2"' in page.text

    response = owner_client.post(
        f"/surveys/{source.id}/next-wave",
        data={
            "title": "Spring pulse",
            "instrument": str(source.instrument_id),
            "carry_over": "y",
        },
    )
    assert response.status_code == 302
    wave = db.session.scalar(select(Survey).where(Survey.title == "Spring pulse"))
    assert response.headers["Location"].endswith(f"/surveys/{wave.id}")
    assert len(wave.respondents) == 5 and wave.previous_survey_id == source.id
    shown = owner_client.get(response.headers["Location"])
    assert "5 respondents carried over with new personal links" in shown.text
    assert "Waves of this study" in shown.text and source.title in shown.text


def test_without_carry_over_nobody_is_invited_again(owner_client, source):
    response = owner_client.post(
        f"/surveys/{source.id}/next-wave",
        data={"title": "Empty wave", "instrument": str(source.instrument_id)},
    )
    assert response.status_code == 302
    wave = db.session.scalar(select(Survey).where(Survey.title == "Empty wave"))
    assert wave.respondents == []


def test_bad_input_is_shown_on_the_form(owner_client, source):
    response = owner_client.post(
        f"/surveys/{source.id}/next-wave", data={"title": "", "instrument": "999999"}
    )
    assert response.status_code == 400
    assert "This field is required" in response.text or "Not a valid choice" in response.text
    assert db.session.scalar(select(Survey).where(Survey.previous_survey_id == source.id)) is None


def test_a_draft_page_explains_instead_of_offering_a_next_wave(owner_client, organisation):
    draft = ops.create_survey(organisation, title="Draft")
    db.session.commit()
    assert "next-wave" not in owner_client.get(f"/surveys/{draft.id}").text
    response = owner_client.get(f"/surveys/{draft.id}/next-wave", follow_redirects=True)
    assert "cannot have a next wave" in response.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_analysts_get_403_and_other_organisations_404(
    client, auth, make_user, source, organisation, method
):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=organisation)
    auth.login(analyst)
    data = {"title": "X", "instrument": str(source.instrument_id), "carry_over": "y"}
    assert client.open(f"/surveys/{source.id}/next-wave", method=method, data=data).status_code == (
        403
    )
    auth.logout()
    auth.login(make_user("outsider@example.com"))
    assert client.open(f"/surveys/{source.id}/next-wave", method=method, data=data).status_code == (
        404
    )
    assert db.session.scalar(select(Survey).where(Survey.previous_survey_id == source.id)) is None


# The command line ------------------------------------------------------------------


def test_cli_starts_the_next_wave_and_prints_its_id_last(runner, source):
    result = runner.invoke(args=["cxalign", "next-wave", str(source.id), "--title", "CLI wave"])
    assert result.exit_code == 0, result.output
    wave = db.session.get(Survey, int(result.stdout.strip().splitlines()[-1]))
    assert wave.title == "CLI wave" and wave.previous_survey_id == source.id
    assert len(wave.respondents) == 5

    result = runner.invoke(args=["cxalign", "next-wave", str(source.id), "--no-carry-over"])
    assert result.exit_code == 0, result.output
    empty = db.session.get(Survey, int(result.stdout.strip().splitlines()[-1]))
    assert empty.respondents == [] and empty.title.endswith("— wave 3")


def test_cli_refuses_bad_input_with_a_reason(runner, organisation, source):
    draft = ops.create_survey(organisation, title="Draft")
    db.session.commit()
    for args, reason in (
        (["999999"], "no survey with id 999999"),
        ([str(draft.id)], "cannot have a next wave"),
        ([str(source.id), "--title", "   "], "--title cannot be empty"),
        ([str(source.id), "--instrument", "nope"], "--instrument must be"),
    ):
        result = runner.invoke(args=["cxalign", "next-wave", *args])
        assert result.exit_code != 0, args
        assert reason in result.stderr, (args, result.stderr)
    assert db.session.scalar(select(Survey).where(Survey.previous_survey_id == source.id)) is None
    assert db.session.scalar(select(Respondent).where(Respondent.survey_id == draft.id)) is None
