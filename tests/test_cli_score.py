"""``flask --app app cxalign score SURVEY [--json]``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cxalign.analysis import results_document
from cxalign.analysis.importer import import_responses
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument, spec_from_instrument
from cxalign.models import Survey


def answers_csv(survey: Survey, n_exec: int, n_cx: int, seed: int = 3) -> str:
    """Executives optimistic, CX professionals not: a real gap on every item."""
    rng = np.random.default_rng(seed)
    items = spec_from_instrument(survey.instrument).items
    lines = ["respondent,group," + ",".join(item.code for item in items)]
    for group, n, centre in (("executive", n_exec, 0.8), ("cx_professional", n_cx, 0.35)):
        for i in range(n):
            cells = []
            for item in items:
                points = item.scale.points
                score = int(
                    np.clip(round(1 + (points - 1) * (centre + rng.normal(0, 0.15))), 1, points)
                )
                cells.append(str(points + 1 - score if item.reverse else score))
            lines.append(f"{group}-{i},{group}," + ",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def scored_survey(make_organisation) -> Survey:
    survey = Survey(
        organisation=make_organisation("Acme Insurance"),
        instrument=ensure_builtin_instrument(),
        title="Wave 1",
        status="closed",
        anonymity_executive=1,
        anonymity_cx=3,
    )
    db.session.add(survey)
    db.session.commit()
    import_responses(survey, answers_csv(survey, 3, 12))
    db.session.commit()
    return survey


def score(runner, *args):
    return runner.invoke(args=["cxalign", "score", *map(str, args)])


def test_json_is_the_full_results_document(runner, scored_survey):
    result = score(runner, scored_survey.id, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == results_document(scored_survey)
    assert list(document) == [
        "survey",
        "method_version",
        "instrument",
        "settings",
        "thresholds",
        "groups",
        "alignment",
        "dimensions",
        "items",
        "priorities",
        "notes",
    ]
    assert document["survey"]["title"] == "Wave 1"
    assert document["groups"]["executive"]["n"] == 3
    assert result.stdout.startswith('{\n  "survey": {')  # indented, readable
    assert result.stderr == ""


def test_the_summary_names_groups_priorities_and_ends_with_the_index(runner, scored_survey):
    result = score(runner, scored_survey.id)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"Wave 1 (survey {scored_survey.id}, Acme Insurance, closed)"
    assert lines[1].startswith("Executives: 3 responding of 3 completed (anonymity threshold 1")
    assert lines[2].startswith("CX professionals: 12 responding of 12 completed")
    assert lines[3] == "Top 5 priorities:"
    assert [line.split(".")[0].strip() for line in lines[4:9]] == ["1", "2", "3", "4", "5"]
    assert "blind" in lines[4] and "POMP" in lines[4]
    document = results_document(scored_survey)
    index = document["alignment"]["index"]
    assert lines[-1].startswith(f"Alignment index: {index:.1f}")


def test_a_survey_without_answers_says_the_index_is_not_available(runner, make_organisation):
    survey = Survey(
        organisation=make_organisation(),
        instrument=ensure_builtin_instrument(),
        title="Empty",
    )
    db.session.add(survey)
    db.session.commit()
    result = score(runner, survey.id)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "hidden" in lines[1] and "hidden" in lines[2]
    assert lines[-1].startswith("Alignment index: not available")
    empty = json.loads(score(runner, survey.id, "--json").stdout)
    assert empty["groups"]["executive"]["suppressed"] is True
    assert empty["alignment"]["index"] is None


@pytest.mark.parametrize("args", [("42",), ("42", "--json")])
def test_an_unknown_survey_is_one_line_on_stderr(runner, args):
    result = score(runner, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["Error: no survey with id 42"]
