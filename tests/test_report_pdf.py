"""The PDF gap report: read back with pypdf, rendered without the network, cached per version."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import func, select

from cxalign.analysis import analyse_survey
from cxalign.extensions import db
from cxalign.instruments.loader import load_builtin
from cxalign.instruments.store import save_instrument
from cxalign.models import AuditEvent, RenderedReport, Respondent, Response, utcnow
from cxalign.reports.data import report_for_survey
from cxalign.reports.pdf import (
    RefusedResource,
    StaticOnlyFetcher,
    get_report_pdf,
    render_pdf_checked,
    render_report_html,
)
from tests.test_report_data import make_results_survey


@pytest.fixture
def results_survey(make_organisation):
    return make_results_survey(make_organisation("Globex Retail"))


@pytest.fixture
def web_server():
    """A local HTTP server that records every request made to it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"body { background: red }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def page_with(pages: list[str], *needles: str) -> str:
    for text in pages:
        if all(needle.lower() in flat(text).lower() for needle in needles):
            return flat(text)
    raise AssertionError(f"no page contains all of {needles}")


# --------------------------------------------------------------------------- fetcher


def fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher(current_app.static_folder, current_app.static_url_path)


def test_the_fetcher_serves_static_files_and_data_urls():
    response = fetcher()("/static/css/report.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    response = fetcher()("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file:///dev/urandom",
        "http://127.0.0.1:9/static/css/report.css",
        "https://example.com/logo.png",
        "ftp://example.com/x",
        "//example.com/static/css/report.css",
        "/etc/passwd",
        "/static/../cxalign/__init__.py",
        "/static/css/../../cxalign/__init__.py",
        "/static/%2e%2e/cxalign/__init__.py",
        "/static/..%2fcxalign/__init__.py",
        "/static/css\\..\\..\\app.py",
        "/static/",
        "/static/css/",
        "/static/css/missing.css",
        "../../etc/passwd",
        "cxalign-report:/etc/passwd",
    ],
)
def test_the_fetcher_refuses_everything_else(url):
    refusing = fetcher()
    with pytest.raises(RefusedResource):
        refusing(url)
    assert refusing.refused == [url]


def test_the_fetcher_does_not_follow_symlinks_out_of_the_static_folder(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", static / "link.css")
    with pytest.raises(RefusedResource):
        StaticOnlyFetcher(static)("/static/link.css")


def test_crafted_html_reads_no_file_and_calls_no_url(web_server):
    base, hits = web_server
    html = f"""<!doctype html><html><head>
      <link rel="stylesheet" href="{base}/remote.css">
      <style>@import url("{base}/import.css");
        body {{ background: url("file:///dev/urandom"); }}
        @font-face {{ font-family: X; src: url("{base}/font.woff"); }}</style>
      </head><body>
      <img src="file:///etc/passwd"><img src="{base}/pixel.png">
      <img src="/static/../../../../etc/passwd">
      <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
        <image href="{base}/svg.png" width="10" height="10"/>
        <image xlink:href="file:///etc/hostname" width="10" height="10"/></svg>
      <iframe src="{base}/frame"></iframe><object data="{base}/object"></object>
      <p>Body text</p></body></html>"""
    rendered = render_pdf_checked(html)
    assert rendered.pdf.startswith(b"%PDF")
    assert hits == []
    refused = set(rendered.refused)
    assert {"file:///etc/passwd", f"{base}/remote.css", f"{base}/pixel.png"} <= refused
    assert "file:///dev/urandom" in refused
    assert not any(url.startswith("/static/") and "etc" not in url for url in refused)


# --------------------------------------------------------------------------- the report


def test_the_report_reads_back_with_the_scoring_results(results_survey):
    analysis = analyse_survey(results_survey)
    result = analysis.result
    report = report_for_survey(results_survey, analysis)
    rendered = render_pdf_checked(render_report_html(report, "a4"), "a4")
    assert rendered.refused == ()  # only our stylesheet was fetched, and it was allowed
    reader = PdfReader(io.BytesIO(rendered.pdf))
    pages = [page.extract_text() or "" for page in reader.pages]
    total = len(pages)
    assert total >= 15

    # Cover: organisation, survey, dates and counts.
    cover = flat(pages[0])
    assert "Globex Retail" in cover and "Alignment wave 1" in cover
    assert "2 Mar 2026" in cover and "27 Mar 2026" in cover
    assert "6 Executives" in cover and "12 CX professionals" in cover

    # Executive summary: the alignment index and the top gap's item, as scored.
    summary = page_with(pages, "Executive summary", "Alignment index", "What we found")
    assert f"{result.alignment.index:.0f}" in summary
    apart = 100 - round(result.alignment.index)
    assert f"on average {apart}% of the scale apart" in summary
    supported = [
        i for i in result.items if i.level in ("notable", "major") and i.confidence == "supported"
    ]
    top = max(supported, key=lambda i: abs(i.gap_pomp))
    assert f"Largest item gap: {top.code}" in summary
    assert result.priorities[0].name in summary

    # Every dimension has its section, with its items in both wordings.
    for dimension in analysis.instrument.dimensions:
        section = page_with(
            pages, f"Dimension {analysis.instrument.dimensions.index(dimension) + 1} of"
        )
        assert section
    engage = page_with(pages, "Engagement with the CX team", "ENGAGE_1", "item by item")
    item = analysis.instrument.item("ENGAGE_1")
    assert flat(item.executive)[:40] in engage and flat(item.cx_professional)[:40] in engage
    item_result = result.item("ENGAGE_1")
    assert f"{item_result.executive.mean:.2f}" in engage

    # Comments print as text; nothing in them was fetched.
    comments = flat("\n".join(pages))
    assert "<script>alert(1)</script>" in comments
    assert '<img src="file:///etc/passwd">' in comments

    # Page numbers, running header, contents, methodology appendix, metadata.
    assert f"Page 2 of {total}" in flat(pages[1])
    assert f"Page {total} of {total}" in flat(pages[-1])
    assert "Alignment wave 1" in flat(pages[3])  # running header
    contents = page_with(pages, "Contents", "Executive summary", "Appendix: Methodology")
    assert "Dimension by dimension" in contents
    appendix = page_with(pages, "Methodology", "Data preparation")
    assert "POMP" in appendix
    assert reader.metadata.title.startswith("Alignment wave 1")
    assert [outline.title for outline in reader.outline if not isinstance(outline, list)][:2] == [
        "Contents",
        "Executive summary",
    ]
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_anonymity_suppression_holds_in_the_pdf(make_organisation):
    def report_text(executive_values, remark):
        survey = make_results_survey(
            make_organisation(),
            n_executive=2,
            executive_values=executive_values,
            executive_comment=remark,
        )
        pdf, _ = get_report_pdf(survey, "a4")
        return re.sub(r"Data version \w+", "", flat("\n".join(pdf_pages(pdf))))

    text = report_text((5, 4), "EXECUTIVE-SECRET-REMARK")
    assert "Only 2 executives answered; results for executives stay hidden" in text
    assert "EXECUTIVE-SECRET-REMARK" not in text
    assert "Hidden: fewer than 3 executives answered" in text
    assert "suppressed" in text
    assert "No comparison is possible yet" in text
    assert "Largest item gap" not in text and "What to do." not in text
    # Whatever the two executives answered, not one character of the report changes.
    assert report_text((1, 2), "another remark") == text


def test_crafted_item_text_is_printed_not_fetched(make_organisation, web_server):
    base, hits = web_server
    spec = load_builtin()
    crafted = f'<img src="file:///etc/passwd"><link rel="stylesheet" href="{base}/x.css">'
    first = spec.dimensions[0]
    first_item = dataclasses.replace(first.items[0], executive=crafted + " How often?")
    dimensions = (
        dataclasses.replace(first, items=(first_item, *first.items[1:])),
        *spec.dimensions[1:3],
    )
    custom = dataclasses.replace(spec, key="crafted", dimensions=dimensions)
    organisation = make_organisation()
    instrument = save_instrument(custom, organisation_id=organisation.id)
    survey = make_results_survey(organisation, instrument=instrument)

    report = report_for_survey(survey)
    rendered = render_pdf_checked(render_report_html(report))
    assert hits == [] and rendered.refused == ()
    assert crafted in flat("\n".join(pdf_pages(rendered.pdf)))


# --------------------------------------------------------------------------- cache


def test_a_second_download_comes_from_the_cache_until_an_answer_changes(results_survey):
    first, cached = get_report_pdf(results_survey, "letter")
    assert not cached
    again, cached = get_report_pdf(results_survey, "letter")
    assert cached and again == first
    assert db.session.scalar(select(func.count(RenderedReport.id))) == 1
    page = PdfReader(io.BytesIO(first)).pages[0]
    assert (round(page.mediabox.width), round(page.mediabox.height)) == (612, 792)

    respondent = Respondent(
        survey=results_survey, group="cx_professional", status="completed", completed_at=utcnow()
    )
    respondent.issue_token("test-secret-key")
    db.session.add(respondent)
    item = results_survey.instrument.dimensions[0].items[0]
    db.session.add(Response(respondent=respondent, item=item, value=1))
    db.session.commit()

    fresh, cached = get_report_pdf(results_survey, "letter")
    assert not cached and fresh != first
    assert "13 CX professionals" in flat(pdf_pages(fresh)[0])
    rows = db.session.scalars(select(RenderedReport)).all()
    assert len(rows) == 1 and rows[0].pdf == fresh  # replaced, not added
    assert get_report_pdf(results_survey, "letter") == (fresh, True)


def test_the_cache_key_follows_data_layout_and_organisation(results_survey, monkeypatch):
    from cxalign.reports import pdf as report_pdf

    key = report_pdf.cache_key(results_survey, "v1")
    assert key.startswith("v1+") and len(key) <= 64
    assert report_pdf.cache_key(results_survey, "v1") == key
    assert report_pdf.cache_key(results_survey, "v2") != key
    results_survey.organisation.name = "Globex Retail Group"
    assert report_pdf.cache_key(results_survey, "v1") != key
    results_survey.organisation.name = "Globex Retail"
    monkeypatch.setattr(report_pdf, "REPORT_FORMAT", "cxalign-report/next")
    assert report_pdf.cache_key(results_survey, "v1") != key


def test_an_unknown_paper_size_is_refused(results_survey):
    with pytest.raises(ValueError, match="paper must be one of a4, letter"):
        get_report_pdf(results_survey, "a3")


# --------------------------------------------------------------------------- CLI


def test_the_report_command_writes_the_pdf(runner, results_survey, tmp_path):
    target = tmp_path / "report.pdf"
    result = runner.invoke(
        args=["cxalign", "report", str(results_survey.id), "-o", str(target), "--paper", "letter"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(target)
    assert "rendered" in result.output
    assert target.read_bytes().startswith(b"%PDF")
    assert "Alignment wave 1" in flat(pdf_pages(target.read_bytes())[0])

    result = runner.invoke(args=["cxalign", "report", str(results_survey.id), "-o", str(target)])
    assert result.exit_code == 0 and "rendered" in result.output  # a4 is its own copy
    result = runner.invoke(args=["cxalign", "report", str(results_survey.id), "-o", str(target)])
    assert result.exit_code == 0 and "from the cache" in result.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.download"))
    assert [e.detail["via"] for e in events] == ["cli", "cli", "cli"]


@pytest.mark.parametrize("survey_id", ["999999", "abc", "0", "1.5"])
def test_the_report_command_rejects_a_bad_survey(runner, tmp_path, survey_id):
    target = tmp_path / "report.pdf"
    result = runner.invoke(args=["cxalign", "report", survey_id, "-o", str(target)])
    assert result.exit_code != 0
    assert result.output.strip().startswith("Error:")
    assert len(result.output.strip().splitlines()) == 1
    assert not target.exists()


def test_the_report_command_rejects_a_bad_paper(runner, results_survey, tmp_path):
    result = runner.invoke(
        args=["cxalign", "report", str(results_survey.id), "-o", str(tmp_path / "r.pdf"),
              "--paper", "a3"]
    )  # fmt: skip
    assert result.exit_code != 0
