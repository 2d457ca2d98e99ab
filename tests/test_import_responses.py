"""Importing completed questionnaires from CSV: every problem named, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cxalign.analysis import analyse_survey, importer
from cxalign.analysis.importer import ImportProblem, ResponseImportError, import_responses
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    AuditEvent,
    Comment,
    Respondent,
    Response,
    Survey,
    hash_token,
)

# Built-in items: LEAD_FOCUS_1 (5 points, no DK), AWARE_2 (5 points, DK offered),
# CUST_VIEW_1 (7 points). Open questions: OPEN_EXEC_CHANGE (executives),
# OPEN_CX_CHANGE (CX professionals).
HEADER = "respondent,group,LEAD_FOCUS_1,AWARE_2,CUST_VIEW_1,OPEN_EXEC_CHANGE,OPEN_CX_CHANGE"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


@pytest.fixture
def survey(make_organisation) -> Survey:
    survey = Survey(
        organisation=make_organisation(),
        instrument=ensure_builtin_instrument(),
        title="Wave 1",
        status="open",
        anonymity_executive=1,
        anonymity_cx=3,
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def problems_of(survey, text) -> list[str]:
    with pytest.raises(ResponseImportError) as caught:
        import_responses(survey, text)
    db.session.rollback()
    assert count(Respondent) == 0 and count(Response) == 0 and count(Comment) == 0
    return [str(problem) for problem in caught.value.errors]


# The happy path ----------------------------------------------------------------


def test_a_valid_file_imports_respondents_answers_dont_knows_and_comments(survey):
    summary = import_responses(
        survey,
        csv_text(
            "ceo,executive,5,DK,7,Fund the CX team properly,",
            "cx-1,cx_professional,2,3,,,We never hear from the board",
            "cx-2, CX_Professional ,1,dk,4,,",
        ),
    )
    db.session.commit()

    assert summary.respondents == 3
    assert summary.by_group == {"executive": 1, "cx_professional": 2}
    assert (summary.answers, summary.dont_know, summary.comments) == (6, 2, 2)
    assert summary.describe() == (
        '3 respondents (1 executive, 2 CX professionals), 6 answers, 2 "don\'t know", 2 comments'
    )

    people = {r.external_ref: r for r in db.session.scalars(select(Respondent))}
    assert set(people) == {"ceo", "cx-1", "cx-2"}
    ceo = people["ceo"]
    assert ceo.group == "executive" and people["cx-2"].group == "cx_professional"
    assert ceo.status == "completed" and ceo.source == "import"
    assert ceo.completed_at is not None and ceo.survey_id == survey.id
    # A personal link like anyone else's, derived from the app secret.
    assert ceo.token_hash == hash_token(ceo.link_token("test-secret-key"))
    assert len({r.token_hash for r in people.values()}) == 3

    answers = {(r.item.code, r.value, r.dont_know) for r in ceo.responses}
    assert answers == {
        ("LEAD_FOCUS_1", 5, False),
        ("AWARE_2", None, True),
        ("CUST_VIEW_1", 7, False),
    }
    assert {(r.item.code, r.value) for r in people["cx-1"].responses} == {
        ("LEAD_FOCUS_1", 2),
        ("AWARE_2", 3),
    }
    assert [(c.question.code, c.text) for c in ceo.comments] == [
        ("OPEN_EXEC_CHANGE", "Fund the CX team properly")
    ]
    assert [c.question.code for c in people["cx-1"].comments] == ["OPEN_CX_CHANGE"]

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "responses.imported"))
    assert event.organisation_id == survey.organisation_id
    assert event.target == f"survey:{survey.id}"
    assert event.detail["respondents"] == 3 and event.detail["cx_professional"] == 2


def test_imported_answers_are_scored(survey):
    rows = [f"exec-{i},executive,5,4,6,," for i in range(2)]
    rows += [f"cx-{i},cx_professional,{1 + i % 2},2,3,," for i in range(5)]
    import_responses(survey, csv_text(*rows))
    db.session.commit()
    result = analyse_survey(survey).result
    assert result.groups.executive.n == 2 and result.groups.cx_professional.n == 5
    item = result.item("LEAD_FOCUS_1")
    assert item.executive.mean == 5 and item.cx_professional.n == 5
    assert item.gap_points == pytest.approx(5 - 1.4)


def test_header_columns_in_any_order_any_case_and_only_some_items(survey):
    text = "Group;LEAD_FOCUS_1;Respondent;cust_view_1\nexecutive;4;a;\ncx_professional;;b;2\n"
    summary = import_responses(survey, text)
    db.session.commit()
    assert summary.respondents == 2 and summary.answers == 2
    refs = dict(db.session.execute(select(Respondent.external_ref, Respondent.group)).all())
    assert refs == {"a": "executive", "b": "cx_professional"}


def test_bytes_with_a_byte_order_mark_or_from_excel_in_windows_1252(survey):
    utf8 = ("\ufeff" + csv_text("ceo,executive,5,,,Plus de clients ravis,")).encode("utf-8")
    assert import_responses(survey, utf8).comments == 1
    windows = csv_text("cfo,executive,4,,,Café ☕ budgets,").replace(" ☕", "").encode("cp1252")
    assert import_responses(survey, windows).comments == 1
    db.session.commit()
    texts = set(db.session.scalars(select(Comment.text)))
    assert texts == {"Plus de clients ravis", "Café budgets"}


def test_excel_style_files_with_crlf_quotes_and_multiline_comments(survey):
    text = (
        "respondent;group;LEAD_FOCUS_1;OPEN_EXEC_CHANGE\r\n"
        '"ceo";"executive";"4";"Two lines:\r\nfund it; staff it"\r\n'
        "cfo;executive;9;\r\n"
    )
    # The comment spans lines 2-3, so the bad value of the next row is on line 4.
    assert problems_of(survey, text) == ["line 4, column LEAD_FOCUS_1: 9 is outside the scale 1-5"]
    summary = import_responses(survey, text.replace(";9;", ";5;"))
    db.session.commit()
    assert summary.respondents == 2
    assert db.session.scalar(select(Comment.text)) == "Two lines:\r\nfund it; staff it"


def test_blank_lines_are_ignored_and_line_numbers_stay_the_files(survey):
    text = csv_text("a,executive,5,,,,", "", "b,cx_professional,9,,,,")
    assert problems_of(survey, text) == ["line 4, column LEAD_FOCUS_1: 9 is outside the scale 1-5"]


def test_large_files_are_inserted_in_chunks_with_each_answer_on_its_respondent(survey, monkeypatch):
    monkeypatch.setattr(importer, "INSERT_CHUNK", 2)
    rows = [
        f"r{i},{'executive' if i % 3 == 0 else 'cx_professional'},{1 + i % 5},,,,"
        for i in range(23)
    ]
    summary = import_responses(survey, csv_text(*rows))
    db.session.commit()
    assert summary.respondents == 23 and summary.answers == 23
    stored = db.session.execute(
        select(Respondent.external_ref, Respondent.group, Response.value).join(Response)
    ).all()
    assert sorted(stored) == sorted(
        (f"r{i}", "executive" if i % 3 == 0 else "cx_professional", 1 + i % 5) for i in range(23)
    )


# Every kind of problem, with its line and column ----------------------------------


def test_a_value_outside_the_scale_names_line_and_column(survey):
    text = csv_text("a,executive,5,,,,", "b,cx_professional,2,6,8,,", "c,executive,0,,,,")
    assert problems_of(survey, text) == [
        "line 3, column AWARE_2: 6 is outside the scale 1-5",
        "line 3, column CUST_VIEW_1: 8 is outside the scale 1-7",
        "line 4, column LEAD_FOCUS_1: 0 is outside the scale 1-5",
    ]


@pytest.mark.parametrize("value", ["4.5", "four", "nan", "inf", "-"])
def test_values_must_be_whole_numbers(survey, value):
    assert problems_of(survey, csv_text(f"a,executive,{value},,,,")) == [
        f"line 2, column LEAD_FOCUS_1: {value!r} is not an answer: expected a whole number 1-5"
    ]


@pytest.mark.parametrize("value", [" 3 ", "3.0", "1e0"])
def test_whole_numbers_as_spreadsheets_write_them(survey, value):
    assert import_responses(survey, csv_text(f"a,executive,{value},,,,")).answers == 1


def test_dont_know_only_where_the_item_offers_it(survey):
    assert problems_of(survey, csv_text("a,executive,DK,DK,,,")) == [
        "line 2, column LEAD_FOCUS_1: DK (don't know) is not offered for this item; leave it empty"
    ]
    message = problems_of(survey, csv_text("a,executive,,x,,,"))[0]
    assert (
        message == "line 2, column AWARE_2: 'x' is not an answer: expected a whole number 1-5 or DK"
    )


def test_unknown_group(survey):
    assert problems_of(survey, csv_text("a,board,5,,,,", "b,,5,,,,")) == [
        "line 2, column group: unknown group 'board': use executive or cx_professional",
        "line 3, column group: the group is empty: use executive or cx_professional",
    ]


def test_duplicate_respondents_in_the_file(survey):
    text = csv_text("a,executive,5,,,,", "b,executive,5,,,,", "a,cx_professional,1,,,,")
    assert problems_of(survey, text) == [
        "line 4, column respondent: duplicate respondent 'a' (first on line 2)"
    ]


def test_respondents_already_in_the_survey(survey):
    import_responses(survey, csv_text("a,executive,5,,,,"))
    db.session.commit()
    with pytest.raises(ResponseImportError) as caught:
        import_responses(survey, csv_text("b,executive,4,,,,", "a,executive,5,,,,"))
    db.session.rollback()
    assert [str(p) for p in caught.value.errors] == [
        "line 3, column respondent: respondent 'a' is already in this survey"
    ]
    assert list(db.session.scalars(select(Respondent.external_ref))) == ["a"]


def test_the_same_id_in_another_survey_is_fine(survey):
    other = Survey(
        organisation=survey.organisation,
        instrument=survey.instrument,
        title="Wave 2",
        status="closed",
    )
    db.session.add(other)
    db.session.commit()
    import_responses(survey, csv_text("a,executive,5,,,,"))
    import_responses(other, csv_text("a,executive,5,,,,"))
    db.session.commit()
    assert count(Respondent) == 2


def test_empty_and_too_long_respondent_ids(survey):
    assert problems_of(survey, csv_text(",executive,5,,,,", f"{'x' * 101},executive,5,,,,")) == [
        "line 2, column respondent: the respondent id is empty",
        "line 3, column respondent: the respondent id is longer than 100 characters",
    ]


def test_a_comment_for_the_other_groups_question(survey):
    text = csv_text("a,executive,5,,,,Not my question", "b,cx_professional,5,,,Nor mine,")
    assert problems_of(survey, text) == [
        "line 2, column OPEN_CX_CHANGE: a comment for CX professionals, but this respondent "
        "is in the group executive",
        "line 3, column OPEN_EXEC_CHANGE: a comment for executives, but this respondent is "
        "in the group cx_professional",
    ]


def test_overlong_comments_and_rows_with_nothing_in_them(survey):
    text = csv_text(f"a,executive,,,,{'y' * 4001},", "b,executive,,,,,")
    assert problems_of(survey, text) == [
        "line 2, column OPEN_EXEC_CHANGE: the comment is longer than 4,000 characters",
        "line 3: no answers and no comments: leave this row out",
    ]


def test_rows_with_too_many_or_too_few_cells(survey):
    assert problems_of(survey, csv_text("a,executive,5,,,,,", "b,executive,5")) == [
        "line 2: 8 cells, but the header has 7 columns",
        "line 3: 3 cells, but the header has 7 columns",
    ]


def test_header_problems_are_all_reported(survey):
    header = "group,LEAD_FOCUS_1,NOT_AN_ITEM,lead_focus_1,,AWARE_2"
    assert problems_of(survey, csv_text("executive,5,1,5,,2", header=header)) == [
        "line 1, column NOT_AN_ITEM: unknown column: not an item or open-question code of this "
        "survey's instrument",
        "line 1, column lead_focus_1: duplicate column (also column 2)",
        "line 1, column #5: the header is empty: name every column",
        "line 1: the header has no 'respondent' column",
    ]
    assert problems_of(survey, csv_text("a,5", header="respondent,LEAD_FOCUS_1")) == [
        "line 1: the header has no 'group' column"
    ]
    assert problems_of(
        survey, csv_text("a,executive,x", header="respondent,group,OPEN_EXEC_ASK")
    ) == ["line 1: the header names no item of this survey's instrument"]


def test_empty_files(survey):
    assert problems_of(survey, "") == ["the file is empty: the first line must be the header row"]
    assert problems_of(survey, "\n\n") == [
        "the file is empty: the first line must be the header row"
    ]
    assert problems_of(survey, HEADER + "\n") == ["the file has a header but no respondents"]
    assert problems_of(survey, b"\x00\x01binary") == [
        "the file is not text: save it as CSV (UTF-8)"
    ]


def test_broken_csv_quoting(survey):
    text = HEADER + '\na,executive,5,,,"unterminated\n'
    assert problems_of(survey, text) == ["line 2: not valid CSV: unexpected end of data"]
    text = csv_text('a,executive,"5"x,,,,')
    assert problems_of(survey, text) == ["line 2: not valid CSV: ',' expected after '\"'"]


def test_every_problem_of_the_file_is_reported_at_once_and_nothing_is_imported(survey):
    rows = ["ok-1,executive,5,,,,", "bad-1,executive,6,7,,,", "ok-2,cx_professional,1,,,,"]
    rows += ["bad-2,ceo,1,,,,", "ok-1,executive,3,,,,"]
    with pytest.raises(ResponseImportError) as caught:
        import_responses(survey, csv_text(*rows))
    db.session.rollback()
    error = caught.value
    assert str(error) == "4 problems found; nothing was imported."
    assert [(p.line, p.column) for p in error.errors] == [
        (3, "LEAD_FOCUS_1"),  # by line, then in the file's column order
        (3, "AWARE_2"),
        (5, "group"),
        (6, "respondent"),
    ]
    assert count(Respondent) == 0 and count(Response) == 0


def test_problems_render_as_line_and_column(survey):
    assert str(ImportProblem(7, "LEAD_FOCUS_2", "9 is outside the scale 1-5")) == (
        "line 7, column LEAD_FOCUS_2: 9 is outside the scale 1-5"
    )
    assert str(ImportProblem(3, None, "x")) == "line 3: x"
    assert str(ImportProblem(None, None, "x")) == "x"


def test_too_many_rows(survey, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    text = csv_text("a,executive,5,,,,", "b,executive,5,,,,", "c,executive,5,,,,")
    assert problems_of(survey, text) == ["line 4: more than 2 respondents: split the file"]


# Survey status and atomicity --------------------------------------------------------


def test_drafts_refuse_imports_open_and_closed_surveys_accept_them(survey):
    survey.status = "draft"
    db.session.commit()
    assert problems_of(survey, csv_text("a,executive,5,,,,")) == [
        f"survey {survey.id} is a draft: open it first, so that its instrument is fixed "
        "before answers arrive"
    ]
    survey.status = "closed"
    db.session.commit()
    assert import_responses(survey, csv_text("a,executive,5,,,,")).respondents == 1


def test_a_clash_during_the_insert_imports_nothing(survey, monkeypatch):
    """Another import adding the same respondent id between validation and insert."""
    original = importer.parse_responses

    def parse_then_clash(survey, data):
        parsed = original(survey, data)
        clash = Respondent(survey=survey, group="executive", external_ref="b")
        clash.issue_token("another")
        db.session.add(clash)
        db.session.flush()
        return parsed

    monkeypatch.setattr(importer, "parse_responses", parse_then_clash)
    with pytest.raises(ResponseImportError) as caught:
        import_responses(survey, csv_text("a,executive,5,,,,", "b,executive,4,,,,"))
    db.session.rollback()
    assert "nothing was imported" in str(caught.value.errors[0])
    assert count(Respondent) == 0 and count(Response) == 0


def test_a_failure_after_some_rows_were_inserted_leaves_nothing_behind(survey, monkeypatch):
    real_bulk_insert = importer.bulk_insert
    inserted = []

    def failing_on_comments(table, columns, rows):
        if table.name == "comment":
            raise RuntimeError("disk full")
        real_bulk_insert(table, columns, rows)
        inserted.append(table.name)

    monkeypatch.setattr(importer, "bulk_insert", failing_on_comments)
    with pytest.raises(RuntimeError):
        import_responses(survey, csv_text("a,executive,5,,,Comment,"))
    assert inserted == ["response"]  # respondents and answers were written when it failed
    db.session.rollback()
    assert count(Respondent) == 0 and count(Response) == 0 and count(Comment) == 0
