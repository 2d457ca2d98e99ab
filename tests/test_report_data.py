"""The report view-model: every figure from the scoring result, readings added, nothing leaked.

Also home of ``make_results_survey``, the closed survey with synthetic answers that the
other report and results tests use.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from sqlalchemy import insert

from cxalign.analysis import analyse_survey, load_comments
from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import Comment, Respondent, Response, Survey, utcnow
from cxalign.reports import pdf as report_pdf
from cxalign.reports.data import build_charts, build_report, report_for_survey, survey_meta

SCRIPT_COMMENT = "<script>alert(1)</script> Fix the returns process."
FILE_COMMENT = '<img src="file:///etc/passwd"> Budget, please.'

# Where each group stands per dimension ("higher is better", on a 5-point scale).
PROFILES = {
    "ENGAGE": (4.5, 1.9),  # blind spot
    "INVEST": (4.3, 2.0),  # blind spot
    "CX_LEAD": (4.2, 2.4),  # blind spot
    "LOOP": (2.0, 4.2),  # hidden strength
    "VOC": (2.3, 2.3),  # shared weakness
    "EMPLOYEE": (4.2, 4.2),  # shared strength
}
DEFAULT_PROFILE = (3.6, 3.4)


def _answer(rng, mean5: float, points: int, reverse: bool) -> int:
    mean = 1 + (mean5 - 1) * (points - 1) / 4
    value = int(np.clip(np.rint(mean + rng.normal(0, 0.55)), 1, points))
    return points + 1 - value if reverse else value


def make_results_survey(
    organisation,
    *,
    n_executive: int = 6,
    n_cx: int = 12,
    seed: int = 20261123,
    title: str = "Alignment wave 1",
    instrument=None,
    executive_values: tuple[int, ...] | None = None,
    executive_comment: str = "Keep investing in the app.",
    anonymity_executive: int = 3,
) -> Survey:
    """A closed survey with deterministic answers: blind spots, a hidden strength, a shared
    weakness and a shared strength, plus comments (two of them crafted HTML) per group.

    ``executive_values`` cycles fixed raw answers for executives instead of drawing them.
    """
    instrument = instrument or ensure_builtin_instrument()
    survey = Survey(
        organisation=organisation,
        instrument=instrument,
        title=title,
        status="closed",
        opens_on=date(2026, 3, 2),
        closes_on=date(2026, 3, 27),
        anonymity_executive=anonymity_executive,
        anonymity_cx=3,
        comment_minimum=2,
    )
    db.session.add(survey)
    db.session.flush()
    rng = np.random.default_rng(seed)
    items = [item for dim in instrument.dimensions for item in dim.items]
    respondents = []
    for group, n in (("executive", n_executive), ("cx_professional", n_cx)):
        for _ in range(n):
            respondent = Respondent(
                survey=survey, group=group, status="completed", completed_at=utcnow()
            )
            respondent.issue_token("test-secret-key")
            respondents.append(respondent)
    db.session.add_all(respondents)
    db.session.flush()
    rows = []
    for r_index, respondent in enumerate(respondents):
        is_exec = respondent.group == "executive"
        for i_index, item in enumerate(items):
            if is_exec and executive_values:
                value = executive_values[(r_index + i_index) % len(executive_values)]
            else:
                exec_mean, cx_mean = PROFILES.get(item.dimension.code, DEFAULT_PROFILE)
                value = _answer(rng, exec_mean if is_exec else cx_mean, item.points, item.reverse)
            rows.append(
                {"respondent_id": respondent.id, "item_id": item.id, "value": value,
                 "dont_know": False}
            )  # fmt: skip
    db.session.execute(insert(Response), rows)
    questions = {q.group: [] for q in instrument.open_questions}
    for q in instrument.open_questions:
        questions[q.group].append(q)
    cx_texts = [SCRIPT_COMMENT, FILE_COMMENT, "Tie bonuses to customer outcomes."]
    executives = [r for r in respondents if r.group == "executive"]
    cx = [r for r in respondents if r.group == "cx_professional"]
    for k, respondent in enumerate(cx[: len(cx_texts)]):
        db.session.add(
            Comment(respondent=respondent, question=questions["cx_professional"][0],
                    text=cx_texts[k])
        )  # fmt: skip
    for respondent in executives[:2]:
        db.session.add(
            Comment(respondent=respondent, question=questions["executive"][0],
                    text=executive_comment)
        )  # fmt: skip
    db.session.commit()
    return survey


@pytest.fixture
def results_survey(make_organisation):
    return make_results_survey(make_organisation("Globex Retail"))


def all_values(obj):
    """Every primitive inside a (nested) dataclass, tuple or dict."""
    if dataclasses.is_dataclass(obj):
        for field in dataclasses.fields(obj):
            yield from all_values(getattr(obj, field.name))
    elif isinstance(obj, tuple | list):
        for value in obj:
            yield from all_values(value)
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from all_values(value)
    else:
        yield obj


def test_every_figure_is_the_scoring_results(results_survey):
    analysis = analyse_survey(results_survey)
    result = analysis.result
    report = build_report(
        survey_meta(results_survey), analysis, load_comments(results_survey, result)
    )

    assert report.alignment.index == result.alignment.index
    assert report.alignment.index_text == f"{result.alignment.index:.0f}"
    apart = 100 - round(result.alignment.index)
    assert report.alignment.reading.startswith(
        f"Executives and CX professionals are on average {apart}% of the scale apart"
    )
    assert [g.n_responding for g in report.groups] == [6, 12]
    for row, dim in zip(report.dimensions, result.dimensions, strict=True):
        assert (row.code, row.gap_pomp, row.ci_low_pomp, row.effect_size) == (
            dim.code,
            dim.gap_pomp,
            dim.ci_low_pomp,
            dim.effect_size,
        )
        assert row.executive.mean_pomp == dim.executive.mean_pomp
        assert row.cx_professional.agreement == dim.cx_professional.rwg_j
        assert row.priority_rank == dim.priority_rank
    for row, item in zip(report.items, result.items, strict=True):
        assert row.code == item.code
        assert row.executive.mean == item.executive.mean
        assert row.cx_professional.distribution == item.cx_professional.distribution
        assert (row.gap_points, row.ci_low, row.ci_high, row.cliffs_delta, row.q) == (
            item.gap_points,
            item.ci_low,
            item.ci_high,
            item.cliffs_delta,
            item.q,
        )
    # Both wordings come from the instrument.
    engage_1 = next(i for i in report.items if i.code == "ENGAGE_1")
    spec = analysis.instrument.item("ENGAGE_1")
    assert (engage_1.executive_text, engage_1.cx_text) == (spec.executive, spec.cx_professional)


def test_blind_spots_hidden_strengths_and_priorities_follow_the_result(results_survey):
    analysis = analyse_survey(results_survey)
    result = analysis.result
    report = report_for_survey(results_survey, analysis)

    blind = {i.code for i in result.items if i.classification == "blind spot"}
    hidden = {i.code for i in result.items if i.classification == "hidden strength"}
    assert blind and hidden
    assert {i.code for i in report.blind_spots} == blind
    assert {i.code for i in report.hidden_strengths} == hidden
    gaps = [i.gap_pomp for i in report.blind_spots]
    assert gaps == sorted(gaps, reverse=True)
    assert [i.gap_pomp for i in report.hidden_strengths] == sorted(
        i.gap_pomp for i in report.hidden_strengths
    )

    assert [(s.rank, s.dimension_code) for s in report.next_steps] == [
        (p.rank, p.dimension) for p in result.priorities
    ]
    assert report.next_steps[0].summary == result.priorities[0].summary
    assert "shared weakness" in {s.kind for s in report.next_steps}
    assert all(s.action for s in report.next_steps)
    assert report.counts["dimensions_blind_spot"] == sum(
        d.classification == "blind spot" for d in result.dimensions
    )

    supported = [
        i for i in result.items if i.level in ("notable", "major") and i.confidence == "supported"
    ]
    expected = max(supported, key=lambda i: abs(i.gap_pomp))
    assert report.top_gap.code == expected.code
    assert any(expected.code in f.title for f in report.findings)


def test_comments_are_kept_as_plain_text(results_survey):
    report = report_for_survey(results_survey)
    cx = next(s for s in report.comments if s.group == "cx_professional")
    texts = [c for q in cx.questions for c in q.comments]
    assert SCRIPT_COMMENT in texts and FILE_COMMENT in texts
    executives = next(s for s in report.comments if s.group == "executive")
    assert executives.count == 2


def test_a_suppressed_group_leaves_no_trace(make_organisation):
    survey = make_results_survey(
        make_organisation(),
        n_executive=2,
        executive_values=(5, 4),
        executive_comment="EXECUTIVE-SECRET-REMARK",
    )
    report = report_for_survey(survey)

    assert report.group("executive").suppressed
    assert "Only 2 executives answered" in report.group("executive").reason
    assert not report.has_results
    assert report.alignment.index is None and report.alignment.index_text == "—"
    assert all(d.executive is None and d.gap_pomp is None for d in report.dimensions)
    assert all(i.executive is None and i.gap_points is None for i in report.items)
    assert report.blind_spots == report.hidden_strengths == ()
    assert report.next_steps == () and report.findings == () and report.top_gap is None
    assert "EXECUTIVE-SECRET-REMARK" not in list(all_values(report))
    assert any(n.level == "warning" and "Only 2 executives" in n.message for n in report.notices)

    charts = build_charts(report)
    assert "suppressed" in charts.dimensions
    assert report.comments[0].questions[0].notice.startswith("Hidden: fewer than 3 executives")


def test_a_suppressed_groups_answers_cannot_change_the_report(make_organisation):
    def report_with(values):
        survey = make_results_survey(make_organisation(), n_executive=2, executive_values=values)
        report = report_for_survey(survey)
        return dataclasses.replace(report, survey_id=0, organisation="", data_version="")

    assert report_with((5, 4)) == report_with((1, 2))


def test_charts_show_the_dimensions_and_escape_text(results_survey):
    report = report_for_survey(results_survey)
    charts = build_charts(report)
    for dimension in report.dimensions:
        assert dimension.name.replace("&", "&amp;") in charts.dimensions
        assert dimension.code in charts.items
    assert charts.gaps.startswith("<svg") and charts.importance_performance.startswith("<svg")


def test_methodology_appendix_is_markdown_without_raw_html(tmp_path, monkeypatch):
    source = tmp_path / "methodology.md"
    source.write_text(
        "# Methodology\n\nIntro with `<id>` and <b>bold</b>.\n\n## Data preparation\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n![x](file:///etc/passwd)\n\n<div>raw</div>\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(report_pdf, "METHODOLOGY", source)
    html = str(report_pdf.methodology_html())
    assert "<h1>" not in html and "<h3>Data preparation</h3>" in html
    assert "<code>&lt;id&gt;</code>" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;div&gt;raw&lt;/div&gt;" in html
    assert "<img" not in html and "<table>" in html
    assert report_pdf.methodology_sections() == ["Data preparation"]


def test_the_real_methodology_document_renders():
    html = str(report_pdf.methodology_html())
    assert "<h3>" in html and "Alignment index" in html
