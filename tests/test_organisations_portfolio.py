"""A consultant's portfolio: latest surveys, response rates, alignment index, benchmarks."""

from __future__ import annotations

import statistics

import pytest

from cxalign.analysis import analyse_survey
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    Group,
    Membership,
    Respondent,
    RespondentStatus,
    Response,
    Role,
    Survey,
    SurveyStatus,
    utcnow,
)
from cxalign.organisations.portfolio import BENCHMARK_MINIMUM, build_portfolio
from tests.conftest import PASSWORD


@pytest.fixture
def instrument():
    instrument = ensure_builtin_instrument()
    db.session.commit()
    return instrument


@pytest.fixture
def add_survey(app, instrument):
    """A survey whose executives answer ``executive`` and CX professionals ``cx`` everywhere."""
    counter = iter(range(10_000))

    def add(
        organisation,
        title,
        *,
        status=SurveyStatus.CLOSED,
        executive=4,
        cx=(2, 3, 2),
        invited_executives=0,
        anonymity_cx=3,
    ):
        survey = Survey(
            organisation_id=organisation.id,
            instrument_id=instrument.id,
            title=title,
            status=status,
            anonymity_executive=1,
            anonymity_cx=anonymity_cx,
        )
        db.session.add(survey)
        db.session.flush()
        items = [item for dimension in instrument.dimensions for item in dimension.items]
        people = [(Group.EXECUTIVE, executive)] + [(Group.CX_PROFESSIONAL, v) for v in cx]
        for group, value in people:
            respondent = Respondent(
                survey_id=survey.id,
                group=group,
                email=f"r{next(counter)}@example.com",
                token_hash="",
                link_nonce="",
                status=RespondentStatus.COMPLETED,
                completed_at=utcnow(),
            )
            respondent.issue_token(app.config["SECRET_KEY"])
            db.session.add(respondent)
            db.session.flush()
            db.session.add_all(
                Response(
                    respondent_id=respondent.id, item_id=item.id, value=min(value, item.points)
                )
                for item in items
            )
        for _ in range(invited_executives):
            respondent = Respondent(
                survey_id=survey.id,
                group=Group.EXECUTIVE,
                email=f"r{next(counter)}@example.com",
                token_hash="",
                link_nonce="",
            )
            respondent.issue_token(app.config["SECRET_KEY"])
            db.session.add(respondent)
        db.session.commit()
        return survey

    return add


@pytest.fixture
def consultant(make_user, make_organisation):
    first = make_organisation("Client One")
    return make_user("consultant@example.com", role=Role.CONSULTANT, organisation=first)


def join(user, organisation, role=Role.CONSULTANT):
    db.session.add(Membership(user=user, organisation=organisation, role=role))
    db.session.commit()


def client_named(portfolio, name):
    return next(c for c in portfolio.clients if c.organisation_name == name)


def benchmark_named(portfolio, name):
    return next(b for b in portfolio.benchmarks if b.organisation_name == name)


def test_portfolio_lists_each_client_with_latest_survey_rates_and_index(
    consultant, make_organisation, add_survey
):
    one = consultant.memberships[0].organisation
    two = make_organisation("Client Two")
    empty = make_organisation("Client Empty")
    join(consultant, two, Role.ANALYST)
    join(consultant, empty)
    add_survey(one, "Old wave", status=SurveyStatus.CLOSED)
    latest = add_survey(one, "New wave", status=SurveyStatus.OPEN, invited_executives=1)
    add_survey(two, "Too few", cx=(3,))  # CX below its threshold of 3: suppressed

    portfolio = build_portfolio(consultant)
    assert [c.organisation_name for c in portfolio.clients] == [
        "Client Empty",
        "Client One",
        "Client Two",
    ]
    first = client_named(portfolio, "Client One")
    assert (first.survey_title, first.survey_status) == ("New wave", "open")
    rates = {r.group: (r.completed, r.invited, r.rate) for r in first.rates}
    assert rates == {"executive": (1, 2, 0.5), "cx_professional": (3, 3, 1.0)}
    expected = analyse_survey(latest).result.alignment.index
    assert first.scored.survey_id == latest.id and first.scored.alignment_index == expected
    assert first.latest_is_scored

    suppressed = client_named(portfolio, "Client Two")
    assert suppressed.scored is None and "anonymity" in suppressed.unscored_reason
    assert client_named(portfolio, "Client Empty").unscored_reason == "No survey yet."


def test_draft_and_suppressed_surveys_fall_back_to_the_latest_scored_one(consultant, add_survey):
    one = consultant.memberships[0].organisation
    scored = add_survey(one, "Scored wave")
    add_survey(one, "Suppressed wave", status=SurveyStatus.OPEN, cx=(2,))
    add_survey(one, "Draft wave", status=SurveyStatus.DRAFT)
    client = build_portfolio(consultant).clients[0]
    assert client.survey_title == "Draft wave"
    assert client.scored.survey_id == scored.id and not client.latest_is_scored


def test_benchmark_needs_three_other_qualifying_clients(consultant, make_organisation, add_survey):
    one = consultant.memberships[0].organisation
    add_survey(one, "One", executive=5)
    others = []
    for number, (executive, cx) in enumerate([(4, (2, 2, 2)), (3, (3, 3, 2)), (5, (1, 2, 1))]):
        organisation = make_organisation(f"Peer {number}")
        join(consultant, organisation)
        others.append((organisation, executive, cx))
    # Two peers, plus one whose survey is suppressed: not enough.
    for organisation, executive, cx in others[:2]:
        add_survey(organisation, organisation.name, executive=executive, cx=cx)
    add_survey(others[2][0], "Suppressed", cx=(2,))
    portfolio = build_portfolio(consultant)
    notice = benchmark_named(portfolio, "Client One")
    assert not notice.shown and notice.peers == 2 and notice.rows == ()
    assert f"at least {BENCHMARK_MINIMUM} other clients" in notice.notice

    # The third peer gets a scored survey: now the benchmark appears.
    organisation, executive, cx = others[2]
    add_survey(organisation, "Scored now", executive=executive, cx=cx)
    portfolio = build_portfolio(consultant)
    shown = benchmark_named(portfolio, "Client One")
    assert shown.shown and shown.peers == 3
    peers = [c for c in portfolio.clients if c.organisation_name != "Client One"]
    for row in shown.rows:
        gaps = [d.gap_pomp for c in peers for d in c.scored.dimensions if d.code == row.code]
        assert row.median_pomp == pytest.approx(statistics.median(gaps))
    own = client_named(portfolio, "Client One").scored.dimensions
    assert [row.gap_pomp for row in shown.rows] == [d.gap_pomp for d in own]


def test_portfolio_page_is_for_consultants(client, consultant, make_user, make_organisation):
    analyst = make_user("analyst@example.com", role=Role.ANALYST)
    client.post("/auth/login", data={"email": analyst.email, "password": PASSWORD})
    assert client.get("/portfolio").status_code == 403
    client.post("/auth/logout")
    stranger = make_organisation("Stranger Holdings")
    assert stranger.id
    client.post("/auth/login", data={"email": consultant.email, "password": PASSWORD})
    home = client.get("/home")
    assert 'href="/portfolio"' in home.text
    page = client.get("/portfolio")
    assert page.status_code == 200
    assert "Client One" in page.text and "Stranger Holdings" not in page.text
    assert "No survey yet" in page.text and "at least 3 other clients" in page.text


def test_portfolio_page_shows_the_benchmark(client, consultant, make_organisation, add_survey):
    add_survey(consultant.memberships[0].organisation, "Wave 1")
    for number in range(3):
        organisation = make_organisation(f"Peer {number}")
        join(consultant, organisation)
        add_survey(organisation, f"Peer wave {number}", executive=3 + number % 2)
    client.post("/auth/login", data={"email": consultant.email, "password": PASSWORD})
    page = client.get("/portfolio")
    assert page.status_code == 200
    assert "Median of 3 others" in page.text and "Wave 1" in page.text
