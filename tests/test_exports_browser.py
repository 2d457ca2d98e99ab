"""The Data page in a real Chromium: download the responses workbook, read it on a phone."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import load_workbook

from cxalign.models import Role, utcnow
from tests.test_exports import export_survey
from tests.test_results_browser import log_in

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


@pytest.fixture
def survey(owner):
    return export_survey(owner.memberships[0].organisation)


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


def test_download_the_responses_workbook_from_the_data_page(
    page, live_server, owner, survey, tmp_path
):
    log_in(page, live_server, owner.email)
    page.goto(f"{live_server}/surveys/{survey.id}/data")
    assert page.get_by_role("heading", name=f"Data: {survey.title}", level=1).is_visible()
    assert page.get_by_text("1 erased respondent is left out.").is_visible()
    page.screenshot(path=str(tmp_path / "data-desktop.png"), full_page=True)
    assert serious_violations(page) == []

    responses = page.locator(".download").filter(
        has=page.get_by_role("heading", name="Responses", exact=True)
    )
    with page.expect_download() as download_info:
        responses.get_by_role("link", name="XLSX").click()
    download = download_info.value
    today = utcnow().date().isoformat()
    assert download.suggested_filename == (
        f"cxalign-acme-insurance-alignment-wave-1-responses-{today}.xlsx"
    )
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    workbook = load_workbook(io.BytesIO(target.read_bytes()))
    assert workbook.sheetnames == ["Responses", "Questions", "About"]
    sheet = workbook["Responses"]
    header = [cell.value for cell in sheet[1]]
    assert header[:2] == ["respondent", "group"] and header[-1] == "completed_at"
    assert sheet.max_row == 1 + 18
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "@example.com" not in text


def test_the_data_page_on_a_phone(phone_page, live_server, make_user, survey, tmp_path):
    analyst = make_user("analyst@example.com", role=Role.ANALYST, organisation=survey.organisation)
    log_in(phone_page, live_server, analyst.email)
    phone_page.goto(f"{live_server}/surveys/{survey.id}/data")
    assert phone_page.get_by_role("heading", name="Downloads").is_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways ({width}px)"
    button = phone_page.locator(".download").first.get_by_role("link").first
    assert button.bounding_box()["height"] >= 44  # a comfortable touch target
    assert phone_page.get_by_text("Only owners of this organisation can change").is_visible()
    phone_page.screenshot(path=str(tmp_path / "data-phone.png"), full_page=True)
    assert serious_violations(phone_page) == []
