"""The schema protects the data: unique answers and tokens, no orphans, frozen instruments."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cxalign.extensions import db
from cxalign.models import (
    Comment,
    Dimension,
    Instrument,
    Item,
    Membership,
    OpenQuestion,
    Organisation,
    Respondent,
    Response,
    Survey,
    hash_token,
)


@pytest.fixture
def survey(make_organisation):
    organisation = make_organisation()
    instrument = Instrument(key="test", version=1, name="Test instrument")
    dimension = Dimension(instrument=instrument, code="LEAD", name="Leadership", importance=0.8)
    Item(
        instrument=instrument,
        dimension=dimension,
        code="LEAD_1",
        executive_text="I talk about CX.",
        cx_text="Our CEO talks about CX.",
        scale_key="agree5",
        scale_kind="agreement",
        scale_labels=["SD", "D", "N", "A", "SA"],
    )
    OpenQuestion(instrument=instrument, code="OPEN_1", group="executive", text="One change?")
    survey = Survey(organisation=organisation, instrument=instrument, title="Wave 1")
    db.session.add(survey)
    db.session.commit()
    return survey


def add_respondent(survey, group="executive", email=None) -> tuple[Respondent, str]:
    respondent = Respondent(survey=survey, group=group, email=email)
    token = respondent.issue_token("test-secret-key")
    db.session.add(respondent)
    db.session.commit()
    return respondent, token


def test_only_the_token_hash_is_stored(survey):
    respondent, token = add_respondent(survey)
    assert len(token) >= 43  # 256 bits in URL-safe base64
    assert respondent.token_hash == hash_token(token)
    stored = " ".join(str(getattr(respondent, c.key)) for c in Respondent.__table__.columns)
    assert token not in stored


def test_the_same_link_can_be_sent_again_but_not_without_the_secret(survey):
    respondent, token = add_respondent(survey)
    assert respondent.link_token("test-secret-key") == token
    assert respondent.link_token("another-secret") != token
    reissued = respondent.issue_token("test-secret-key")
    assert reissued != token
    assert respondent.token_hash == hash_token(reissued)


def test_token_hashes_are_unique(survey):
    first, _ = add_respondent(survey)
    twin = Respondent(survey=survey, group="executive", token_hash=first.token_hash, link_nonce="x")
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_one_answer_per_respondent_and_item(survey):
    respondent, _ = add_respondent(survey)
    item = survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=4))
    db.session.commit()
    db.session.add(Response(respondent=respondent, item=item, value=2))
    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize(("value", "dont_know"), [(None, False), (3, True)])
def test_an_answer_is_a_value_or_dont_know_never_both_or_neither(survey, value, dont_know):
    respondent, _ = add_respondent(survey)
    item = survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=value, dont_know=dont_know))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_deleting_an_organisation_leaves_no_orphans(survey, make_user):
    owner = make_user(organisation=survey.organisation)
    respondent, _ = add_respondent(survey)
    item = survey.instrument.dimensions[0].items[0]
    question = survey.instrument.open_questions[0]
    db.session.add(Response(respondent=respondent, item=item, dont_know=True))
    db.session.add(Comment(respondent=respondent, question=question, text="More budget"))
    db.session.commit()

    db.session.delete(db.session.get(Organisation, survey.organisation_id))
    db.session.commit()

    for model in (Survey, Respondent, Response, Comment, Membership):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert db.session.get(type(owner), owner.id) is not None  # the person keeps their account


def test_deleting_a_survey_in_the_database_cascades_to_answers(survey):
    """ON DELETE CASCADE in the schema itself, not only in the ORM."""
    respondent, _ = add_respondent(survey)
    item = survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=5))
    db.session.commit()
    db.session.execute(Survey.__table__.delete().where(Survey.id == survey.id))
    db.session.commit()
    assert db.session.scalar(select(func.count(Response.id))) == 0
    assert db.session.scalar(select(func.count(Respondent.id))) == 0


def test_an_instrument_in_use_cannot_be_deleted(survey):
    with pytest.raises(IntegrityError):
        db.session.execute(
            Instrument.__table__.delete().where(Instrument.id == survey.instrument_id)
        )
        db.session.commit()


def test_item_codes_are_unique_within_an_instrument(survey):
    dimension = survey.instrument.dimensions[0]
    db.session.add(
        Item(
            instrument=survey.instrument,
            dimension=dimension,
            code="LEAD_1",
            executive_text="x",
            cx_text="y",
            scale_key="agree5",
            scale_kind="agreement",
            scale_labels=["1", "2", "3", "4", "5"],
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_respondent_email_is_unique_within_a_survey(survey):
    add_respondent(survey, email="a@example.com")
    with pytest.raises(IntegrityError):
        add_respondent(survey, email="a@example.com")
