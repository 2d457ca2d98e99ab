"""The results dashboard in a real Chromium: read it, download the PDF, use it on a phone."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from pypdf import PdfReader

from cxalign.analysis import analyse_survey
from cxalign.models import Role
from tests.conftest import PASSWORD
from tests.test_report_data import make_results_survey

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


@pytest.fixture
def survey(owner):
    return make_results_survey(owner.memberships[0].organisation)


def log_in(page, live_server, email):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/home")


def test_open_the_dashboard_and_download_the_pdf(page, live_server, owner, survey, tmp_path):
    result = analyse_survey(survey).result
    log_in(page, live_server, owner.email)
    page.goto(f"{live_server}/surveys/{survey.id}/results")

    assert page.get_by_role("heading", name=survey.title, level=1).is_visible()
    assert page.locator(".alignment-value").inner_text() == f"{result.alignment.index:.0f}"
    assert page.get_by_role("img", name="Executives and CX professionals, dimension by dimension")
    assert page.get_by_role("heading", name="Blind spots").is_visible()
    # A crafted comment is shown as text, and nothing ran.
    assert page.get_by_text("<script>alert(1)</script>", exact=False).is_visible()

    # A first render takes several CPU seconds; on a busy 2-core runner allow for contention.
    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("link", name="Download PDF report (A4)").click()
    download = download_info.value
    assert download.suggested_filename == "cxalign-acme-insurance-alignment-wave-1-a4.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    assert len(reader.pages) > 10
    summary = next(p.extract_text() for p in reader.pages if "What we found" in p.extract_text())
    assert f"{result.alignment.index:.0f}" in summary


def test_the_dashboard_works_on_a_phone(phone_page, live_server, make_user, survey):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=survey.organisation)
    page = phone_page
    log_in(page, live_server, analyst.email)
    page.goto(f"{live_server}/surveys/{survey.id}/results")
    assert page.get_by_role("heading", name=survey.title, level=1).is_visible()
    # Nothing overflows sideways; the wide chart scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("link", name="Download PDF report (A4)").is_visible()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_no_serious_accessibility_violations(request, device, live_server, owner, survey):
    page = request.getfixturevalue("phone_page" if device == "phone" else "page")
    log_in(page, live_server, owner.email)
    page.goto(f"{live_server}/surveys/{survey.id}/results")
    results = Axe().run(page)
    violations = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert violations == []
