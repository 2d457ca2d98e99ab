"""``flask --app app cxalign import-responses SURVEY FILE.csv``."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import AuditEvent, Respondent, Response, Survey

HEADER = "respondent,group,LEAD_FOCUS_1,AWARE_2,OPEN_EXEC_CHANGE"


@pytest.fixture
def survey(make_organisation) -> Survey:
    survey = Survey(
        organisation=make_organisation(),
        instrument=ensure_builtin_instrument(),
        title="Wave 1",
        status="open",
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def write(tmp_path, *rows: str, name="answers.csv"):
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def invoke(runner, *args):
    return runner.invoke(args=["cxalign", "import-responses", *map(str, args)])


def respondents() -> int:
    # The command runs in the test's app context; a rollback keeps only what it committed.
    db.session.rollback()
    return db.session.scalar(select(func.count(Respondent.id)))


def test_a_good_file_is_imported_and_the_last_line_is_the_count(runner, survey, tmp_path):
    path = write(tmp_path, "ceo,executive,5,DK,Listen more", "cx-1,cx_professional,2,,")
    result = invoke(runner, survey.id, path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == (
        f"Imported into survey {survey.id} (Wave 1): 2 respondents (1 executive, "
        '1 CX professional), 2 answers, 1 "don\'t know", 1 comment.'
    )
    assert lines[-1] == "2"
    assert result.stderr == ""
    assert respondents() == 2
    assert db.session.scalar(select(func.count(Response.id))) == 3
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "responses.imported"))
    assert event.user_id is None and event.detail["respondents"] == 2


def test_problems_are_listed_on_stderr_and_nothing_is_imported(runner, survey, tmp_path):
    path = write(
        tmp_path,
        "ceo,executive,5,,",
        "cx-1,cx_professional,9,,",
        "cx-2,cx_professional,1,,Not asked of CX",
        "ceo,executive,4,,",
    )
    result = invoke(runner, survey.id, path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "line 3, column LEAD_FOCUS_1: 9 is outside the scale 1-5",
        "line 4, column OPEN_EXEC_CHANGE: a comment for executives, but this respondent is in "
        "the group cx_professional",
        "line 5, column respondent: duplicate respondent 'ceo' (first on line 2)",
        "Error: 3 problems found; nothing was imported.",
    ]
    assert respondents() == 0


def test_the_list_of_problems_is_capped(runner, survey, tmp_path):
    path = write(tmp_path, *(f"r{i},executive,7,," for i in range(60)))
    result = invoke(runner, survey.id, path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 52
    assert lines[0] == "line 2, column LEAD_FOCUS_1: 7 is outside the scale 1-5"
    assert lines[-2] == "... and 10 more"
    assert lines[-1] == "Error: 60 problems found; nothing was imported."
    assert respondents() == 0


def test_importing_twice_refuses_the_same_respondents(runner, survey, tmp_path):
    path = write(tmp_path, "ceo,executive,5,,")
    assert invoke(runner, survey.id, path).exit_code == 0
    again = invoke(runner, survey.id, path)
    assert again.exit_code == 1
    assert "line 2, column respondent: respondent 'ceo' is already in this survey" in again.stderr
    assert respondents() == 1


@pytest.mark.parametrize(
    ("survey_arg", "file_name", "message"),
    [
        ("999", "answers.csv", "Error: no survey with id 999"),
        (None, "missing.csv", "Error: cannot read "),
    ],
)
def test_bad_arguments_give_one_line_on_stderr(
    runner, survey, tmp_path, survey_arg, file_name, message
):
    write(tmp_path, "ceo,executive,5,,")
    result = invoke(runner, survey_arg or survey.id, tmp_path / file_name)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_a_draft_survey_refuses_imports(runner, survey, tmp_path):
    survey.status = "draft"
    db.session.commit()
    result = invoke(runner, survey.id, write(tmp_path, "ceo,executive,5,,"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"survey {survey.id} is a draft: open it")
    assert respondents() == 0
