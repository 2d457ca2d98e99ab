"""The results dashboard and the PDF download, over HTTP."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from cxalign.analysis import analyse_survey
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import AuditEvent, Role, Survey
from tests.test_report_data import SCRIPT_COMMENT, make_results_survey


@pytest.fixture
def survey(owner):
    organisation = owner.memberships[0].organisation
    return make_results_survey(organisation)


def test_the_dashboard_shows_the_scoring_result(owner_client, survey):
    result = analyse_survey(survey).result
    response = owner_client.get(f"/surveys/{survey.id}/results")
    assert response.status_code == 200
    html = response.text

    assert survey.title in html
    assert f'<span class="alignment-value">{result.alignment.index:.0f}</span>' in html
    apart = 100 - round(result.alignment.index)
    assert f"on average {apart}% of the scale apart" in html
    assert 'class="cx-chart cx-chart-dumbbell"' in html
    # Top priority, both wordings of an item, the item's figures.
    assert result.priorities[0].name in html
    item = survey.instrument.dimensions[2].items[0]
    assert item.executive_text.replace("'", "&#39;") in html
    assert item.cx_text.replace("'", "&#39;") in html
    figures = result.item(item.code)
    assert f"{figures.executive.mean:.2f}" in html and f"{figures.cx_professional.mean:.2f}" in html
    assert "Blind spots" in html and "Hidden strengths" in html
    # Comments are escaped.
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    # Links to both paper sizes.
    assert f"/surveys/{survey.id}/report.pdf?paper=a4" in html
    assert f"/surveys/{survey.id}/report.pdf?paper=letter" in html


def test_a_group_below_its_threshold_shows_a_notice_and_no_figures(owner_client, owner):
    survey = make_results_survey(
        owner.memberships[0].organisation, n_executive=2, executive_values=(5, 4)
    )
    html = owner_client.get(f"/surveys/{survey.id}/results").text
    assert "Only 2 executives answered; results for executives stay hidden" in html
    assert "Hidden: below the threshold of 3" in html
    assert "No gaps to show yet" in html
    assert 'class="alignment-value">—<' in html
    assert ">suppressed<" in html
    assert "Blind spots" not in html


def test_a_survey_without_answers_has_a_dashboard_too(owner_client, owner):
    survey = Survey(
        organisation=owner.memberships[0].organisation,
        instrument=ensure_builtin_instrument(),
        title="Fresh wave",
    )
    db.session.add(survey)
    db.session.commit()
    response = owner_client.get(f"/surveys/{survey.id}/results")
    assert response.status_code == 200
    assert "No executives have answered yet" in response.text


def test_the_pdf_downloads_once_rendered_then_from_the_cache(owner_client, owner, survey):
    url = f"/surveys/{survey.id}/report.pdf?paper=a4"
    first = owner_client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == (
        'attachment; filename="cxalign-acme-insurance-alignment-wave-1-a4.pdf"'
    )
    assert first.headers["X-Report-Cache"] == "miss"
    reader = PdfReader(io.BytesIO(first.data))
    assert "Alignment wave 1" in reader.pages[0].extract_text()

    started = time.perf_counter()
    second = owner_client.get(url)
    elapsed = time.perf_counter() - started
    assert second.headers["X-Report-Cache"] == "hit" and second.data == first.data
    assert elapsed < 1.0  # the benchmark measures the real figure (well under 50 ms)

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.target, e.user_id) for e in events] == [
        ("report.download", f"survey:{survey.id}", owner.id)
    ] * 2
    assert [e.detail["cached"] for e in events] == [False, True]
    assert events[0].detail["paper"] == "a4"


def test_a_bad_paper_size_is_a_400(owner_client, survey):
    response = owner_client.get(f"/surveys/{survey.id}/report.pdf?paper=a3")
    assert response.status_code == 400
    assert "choose a4 or letter" in response.text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CONSULTANT])
def test_analysts_and_consultants_of_the_organisation_can_read(
    client, auth, make_user, survey, role
):
    member = make_user(role=role, organisation=survey.organisation)
    auth.login(member)
    assert client.get(f"/surveys/{survey.id}/results").status_code == 200


@pytest.mark.parametrize("path", ["results", "report.pdf"])
def test_outsiders_get_a_404(client, auth, make_user, survey, path):
    outsider = make_user("outsider@example.com")  # owner of another organisation
    auth.login(outsider)
    assert client.get(f"/surveys/{survey.id}/{path}").status_code == 404
    assert client.get(f"/surveys/987654/{path}").status_code == 404


@pytest.mark.parametrize("path", ["results", "report.pdf"])
def test_anonymous_visitors_are_sent_to_log_in(client, survey, path):
    response = client.get(f"/surveys/{survey.id}/{path}")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_comment_text_is_never_marked_safe(owner_client, survey):
    html = owner_client.get(f"/surveys/{survey.id}/results").text
    assert SCRIPT_COMMENT not in html
