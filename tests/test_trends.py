"""Trends across waves: each wave's own scoring result, the change and its uncertainty,
anonymity, the dashboard section and the PDF chapter with its cache key."""

from __future__ import annotations

import dataclasses
import io
import math
import subprocess
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from cxalign.analysis import analyse_survey, data_version
from cxalign.analysis.trends import (
    WaveMeta,
    alignment_se,
    change_between,
    se_from_ci,
    series_data_version,
    survey_trend,
    trend_waves,
)
from cxalign.extensions import db
from cxalign.instruments.store import (
    ensure_builtin_instrument,
    save_instrument,
    spec_from_instrument,
)
from cxalign.models import Organisation, Respondent, Response, SurveyStatus, utcnow
from cxalign.reports import pdf as report_pdf
from cxalign.reports.data import report_for_survey
from tests.test_report_data import make_results_survey

Z95 = 1.959963984540054  # Φ⁻¹(0.975)


@pytest.fixture
def organisation(owner) -> Organisation:
    return db.session.get(Organisation, owner.current_organisation_id)


def wave(organisation, previous=None, *, days_ago: int = 0, **kwargs):
    """A closed wave with answers, joined to ``previous``'s series."""
    survey = make_results_survey(organisation, **kwargs)
    survey.opened_at = utcnow() - timedelta(days=days_ago)
    if previous is None:
        survey.series_key = str(survey.id)
    else:
        survey.series_key = previous.series_key
        survey.previous_survey_id = previous.id
    db.session.commit()
    return survey


@pytest.fixture
def two_waves(organisation):
    first = wave(organisation, title="Alignment wave 1", seed=11, n_cx=14, days_ago=200)
    second = wave(organisation, first, title="Alignment wave 2", seed=22, n_cx=12, days_ago=10)
    return first, second


# Arithmetic, checked by hand ----------------------------------------------------------


def test_standard_errors_come_from_the_interval_width():
    assert se_from_ci(0.0, 20.0) == pytest.approx(20.0 / (2 * Z95))
    assert se_from_ci(-3.0, 5.0, ci_level=0.9) == pytest.approx(8.0 / (2 * 1.6448536269514722))
    assert se_from_ci(None, 4.0) is None and se_from_ci(1.0, math.inf) is None


def test_a_change_larger_than_its_uncertainty_by_hand():
    since = WaveMeta(1, 1, "Wave one", "closed", None, None)
    # Gap +10 (95% CI 0 to 20) in wave 1, +30 (20 to 40) in wave 2: each SE = 10 / 1.96.
    change = change_between(10.0, se_from_ci(0, 20), 30.0, se_from_ci(20, 40), since=since)
    # SE of the change = √2 · 10 / 1.96 = 7.2155; the interval is 20 ± 10√2 = 5.858 to 34.142.
    assert change.value == 20.0
    assert change.se == pytest.approx(7.21551, abs=1e-5)
    assert (change.ci_low, change.ci_high) == pytest.approx((20 - 10 * math.sqrt(2), 34.142136))
    assert change.beyond_uncertainty is True and change.verdict == "larger than uncertainty"
    assert (change.since_survey_id, change.since_label) == (1, "Wave 1")

    # +10 → +15 with the same intervals: 5 ± 14.14 straddles 0.
    small = change_between(10.0, se_from_ci(0, 20), 15.0, se_from_ci(5, 25), since=since)
    assert small.ci_low == pytest.approx(5 - 10 * math.sqrt(2))
    assert small.beyond_uncertainty is False and small.verdict == "within uncertainty"

    # A fall counts the same way; a missing interval makes it not assessable.
    fall = change_between(30.0, se_from_ci(20, 40), 10.0, se_from_ci(0, 20), since=since)
    assert fall.value == -20.0 and fall.ci_high < 0 and fall.beyond_uncertainty is True
    unknown = change_between(10.0, None, 30.0, 5.0, since=since)
    assert unknown.beyond_uncertainty is None and unknown.ci_low is None
    assert unknown.verdict == "uncertainty unknown"


# Figures: each wave's own scoring result ----------------------------------------------


def test_trend_figures_are_each_waves_scoring_result(two_waves):
    first, second = two_waves
    trend = survey_trend(second)
    assert [w.meta.survey_id for w in trend.waves] == [first.id, second.id]
    assert [w.meta.label for w in trend.waves] == ["Wave 1", "Wave 2"]
    assert trend.has_trend and trend.current.is_current and not trend.waves[0].is_current

    for figures, survey in zip(trend.waves, (first, second), strict=True):
        result = analyse_survey(survey).result
        assert figures.has_results
        assert figures.alignment_index == result.alignment.index
        assert figures.n_executive == result.groups["executive"].n_responding
        assert figures.n_cx_professional == result.groups["cx_professional"].n_responding
        for dim in result.dimensions:
            cell = figures.dimensions[dim.code]
            assert (cell.gap_pomp, cell.ci_low_pomp, cell.ci_high_pomp, cell.confidence) == (
                dim.gap_pomp,
                dim.ci_low_pomp,
                dim.ci_high_pomp,
                dim.confidence,
            )
        # The index's uncertainty: importance weights as scoring uses them, SE from each CI.
        used = [d for d in result.dimensions if d.gap_pomp is not None]
        total = sum(d.importance for d in used)
        weights = [d.importance / total for d in used]
        assert 100 - sum(w * abs(d.gap_pomp) for w, d in zip(weights, used, strict=True)) == (
            pytest.approx(result.alignment.index)
        )
        by_hand = sum(
            w * (d.ci_high_pomp - d.ci_low_pomp) / (2 * Z95)
            for w, d in zip(weights, used, strict=True)
        )
        assert figures.alignment_se == pytest.approx(by_hand) == alignment_se(result)
        assert figures.alignment_ci_low == pytest.approx(
            max(0, figures.alignment_index - Z95 * by_hand)
        )
        assert figures.alignment_ci_high == pytest.approx(
            min(100, figures.alignment_index + Z95 * by_hand)
        )

    before, after = trend.waves
    assert before.alignment_change is None
    expected = change_between(
        before.alignment_index,
        before.alignment_se,
        after.alignment_index,
        after.alignment_se,
        since=before.meta,
    )
    assert after.alignment_change == expected
    for row in trend.dimensions:
        old, new = row.cells
        assert old.change is None
        assert new.change == change_between(
            old.gap_pomp, old.se, new.gap_pomp, new.se, since=before.meta
        )
        flag = new.change.ci_low > 0 or new.change.ci_high < 0
        assert new.change.beyond_uncertainty is flag


def test_only_earlier_waves_of_the_same_organisation_and_no_drafts(two_waves, make_organisation):
    first, second = two_waves
    later = wave(first.organisation, second, title="Alignment wave 3", seed=33, days_ago=1)
    draft = wave(first.organisation, second, title="Planned", seed=44, days_ago=0)
    draft.status = SurveyStatus.DRAFT.value
    other = make_results_survey(make_organisation("Elsewhere"), title="Other org", seed=5)
    other.series_key = first.series_key
    db.session.commit()

    assert [s.id for s in trend_waves(second)] == [first.id, second.id]
    assert [s.id for s in trend_waves(later)] == [first.id, second.id, later.id]
    assert [s.id for s in trend_waves(draft)] == [first.id, second.id, later.id, draft.id]
    assert [w.meta.number for w in survey_trend(later).waves] == [1, 2, 3]
    assert [s.id for s in trend_waves(first)] == [first.id]
    assert not survey_trend(first).has_trend


# Anonymity ------------------------------------------------------------------------------


def test_a_suppressed_wave_shows_no_figures_and_nothing_is_compared_with_it(organisation):
    first = wave(organisation, title="W1", seed=1, days_ago=300)
    hidden = wave(organisation, first, title="W2", seed=2, n_executive=2, days_ago=150)
    third = wave(organisation, hidden, title="W3", seed=3, days_ago=5)

    trend = survey_trend(third)
    _, two, three = trend.waves
    result = analyse_survey(hidden).result
    assert result.suppressed("executive")
    assert two.state == "withheld" and not two.has_results
    assert two.reason == result.groups["executive"].reason and "anonymity threshold" in two.reason
    assert (two.alignment_index, two.alignment_se, two.alignment_ci_low) == (None, None, None)
    assert all(
        (c.gap_pomp, c.ci_low_pomp, c.ci_high_pomp, c.se, c.change) == (None,) * 5
        for c in two.dimensions.values()
    )
    # Wave 3 is compared with wave 1, the latest wave with figures.
    assert three.alignment_change.since_survey_id == first.id
    assert all(row.cells[2].change.since_label == "Wave 1" for row in trend.dimensions)
    assert trend.has_trend

    # With only the withheld wave before it, wave 2 has no trend to show.
    assert not survey_trend(hidden).has_trend
    assert report_for_survey(hidden, with_trend=True).trend is None


def test_dimensions_are_compared_only_where_both_waves_ask_them(organisation):
    builtin = ensure_builtin_instrument()
    spec = spec_from_instrument(builtin)
    kept = spec.dimensions[1:]
    narrower = save_instrument(
        dataclasses.replace(spec, key="own", version=2, dimensions=kept),
        organisation_id=organisation.id,
    )
    db.session.commit()
    first = wave(organisation, title="W1", seed=1, days_ago=100)
    second = wave(organisation, first, title="W2", seed=2, instrument=narrower, days_ago=3)

    trend = survey_trend(second)
    assert [row.code for row in trend.dimensions] == [d.code for d in kept]
    assert all(row.cells[1].change is not None for row in trend.dimensions)
    dropped = spec.dimensions[0].code
    assert dropped in trend.waves[0].dimensions and dropped not in trend.waves[1].dimensions

    # Seen from the first wave's instrument, the dropped dimension is "not asked" later.
    reverse = survey_trend(first)
    assert reverse.dimensions[0].cells == (reverse.waves[0].dimensions[dropped],)


# The dashboard ------------------------------------------------------------------------


def test_the_dashboard_shows_the_trend_and_links_the_waves(owner_client, two_waves):
    first, second = two_waves
    page = owner_client.get(f"/surveys/{second.id}/results")
    assert page.status_code == 200
    text = page.text
    assert 'id="trend-heading">Trend across waves' in text
    assert 'class="chart trend-chart"' in text and "Alignment index across waves" in text
    assert "Trends compare only dimensions present in both waves" in text
    assert f'href="/surveys/{first.id}/results" rel="prev"' in text
    trend = survey_trend(second)
    flags = [row.cells[-1].change.beyond_uncertainty for row in trend.dimensions]
    flags.append(trend.current.alignment_change.beyond_uncertainty)
    assert text.count("Larger than uncertainty") == flags.count(True)
    assert text.count("Within uncertainty") == flags.count(False)
    assert f"{trend.current.alignment_index:.1f}" in text

    earlier = owner_client.get(f"/surveys/{first.id}/results").text
    assert "trend-heading" not in earlier
    assert f'href="/surveys/{second.id}/results" rel="next"' in earlier


def test_a_withheld_wave_is_shown_as_withheld_on_the_dashboard(owner_client, organisation):
    first = wave(organisation, title="W1", seed=1, days_ago=300)
    hidden = wave(organisation, first, title="W2", seed=2, n_executive=2, days_ago=150)
    third = wave(organisation, hidden, title="W3", seed=3, days_ago=5)
    text = owner_client.get(f"/surveys/{third.id}/results").text
    assert "<strong>Withheld.</strong> Only 2 executives answered" in text
    hidden_figures = survey_trend(third).waves[1]
    assert hidden_figures.alignment_index is None


# The PDF report -----------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_has_a_trend_chapter_after_the_summary(two_waves, tmp_path):
    first, second = two_waves
    pdf, cached = report_pdf.get_report_pdf(second, "a4")
    assert not cached
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    trend_pages = [i for i, text in enumerate(pages) if "02\nTrend across waves" in text]
    assert trend_pages, "no trend chapter"
    start = trend_pages[0]
    summary = next(i for i, text in enumerate(pages) if "01\nExecutive summary" in text)
    who = next(i for i, text in enumerate(pages) if "03\nWho answered" in text)
    assert summary < start < who
    chapter = "\n".join(pages[start:who])
    assert "Alignment index across waves" in chapter
    assert "Wave 1" in chapter and "Wave 2" in chapter
    assert "Within uncertainty" in chapter or "Larger than uncertainty" in chapter
    trend = survey_trend(second)
    assert f"{trend.current.alignment_index:.1f}" in chapter

    # A picture of the chapter's first page, to look at.
    target = tmp_path / "trend"
    subprocess.run(
        ["pdftoppm", "-f", str(start + 1), "-l", str(start + 1), "-r", "60", "-png",
         "-singlefile", "-", str(target)],
        input=pdf, check=True, timeout=120,
    )  # fmt: skip
    assert (tmp_path / "trend.png").stat().st_size > 10_000

    # A survey without earlier waves has no trend chapter.
    assert "Trend across waves" not in pdf_text(report_pdf.render_survey_pdf(first))


def test_the_pdf_cache_follows_earlier_waves(two_waves):
    first, second = two_waves
    _, cached = report_pdf.get_report_pdf(second, "a4")
    assert not cached
    _, cached = report_pdf.get_report_pdf(second, "a4")
    assert cached
    own_before, series_before = data_version(second), series_data_version(second)
    assert series_before == survey_trend(second).data_version

    # An answer changes in wave 1: wave 2's own data is the same, its trend is not.
    answer = db.session.scalar(
        select(Response.id).join(Respondent).where(Respondent.survey_id == first.id).limit(1)
    )
    db.session.execute(
        update(Response)
        .where(Response.id == answer)
        .values(value=1, updated_at=utcnow() + timedelta(seconds=1))
    )
    db.session.commit()
    assert data_version(second) == own_before
    assert series_data_version(second) != series_before
    _, cached = report_pdf.get_report_pdf(second, "a4")
    assert not cached
    _, cached = report_pdf.get_report_pdf(second, "a4")
    assert cached

    # A later wave does not change wave 2's report.
    wave(first.organisation, second, title="Alignment wave 3", seed=9, days_ago=0)
    _, cached = report_pdf.get_report_pdf(second, "a4")
    assert cached
