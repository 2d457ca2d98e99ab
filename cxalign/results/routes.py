"""Results: the gap dashboard of a survey and its PDF report, for members of its organisation."""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from cxalign.access import get_survey_or_404
from cxalign.analysis import analyse_survey
from cxalign.analysis.trends import survey_trend
from cxalign.extensions import db
from cxalign.models import AuditEvent, Survey
from cxalign.reports.data import build_charts, report_for_survey
from cxalign.reports.pdf import PAPERS, get_report_pdf
from cxalign.surveys.waves import next_waves, previous_wave

bp = Blueprint("results", __name__, url_prefix="/surveys")


@bp.get("/<int:survey_id>/results")
@login_required
def dashboard(survey_id: int):
    """The gap dashboard: every figure from the survey's one scoring result, and the
    trend across the earlier waves of its series (each from its own scoring result)."""
    survey = get_survey_or_404(survey_id)
    analysis = analyse_survey(survey)
    trend = survey_trend(survey, analysis)
    report = report_for_survey(survey, analysis, trend=trend)
    return render_template(
        "results/dashboard.html",
        survey=survey,
        report=report,
        charts=build_charts(report),
        papers=PAPERS,
        survey_url=_survey_url(survey),
        trend=trend,
        previous_wave=previous_wave(survey),
        next_waves=next_waves(survey),
        wave_url=lambda wave_id: url_for("results.dashboard", survey_id=wave_id),
    )


@bp.get("/<int:survey_id>/report.pdf")
@login_required
def report_pdf(survey_id: int):
    """The PDF gap report (``?paper=a4`` or ``letter``), served from the cache when current."""
    survey = get_survey_or_404(survey_id)
    paper = (request.args.get("paper") or "a4").lower()
    if paper not in PAPERS:
        abort(400, f"Unknown paper size {paper[:20]!r}: choose a4 or letter.")
    pdf, cached = get_report_pdf(survey, paper)
    db.session.add(
        AuditEvent(
            organisation_id=survey.organisation_id,
            user_id=current_user.id,
            action="report.download",
            target=f"survey:{survey.id}",
            detail={"paper": paper, "cached": cached, "bytes": len(pdf)},
        )
    )
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{report_filename(survey, paper)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Report-Cache"] = "hit" if cached else "miss"
    return response


def report_filename(survey: Survey, paper: str) -> str:
    """``cxalign-<organisation>-<survey>-<paper>.pdf`` in plain ASCII."""

    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "report"

    return f"cxalign-{slug(survey.organisation.name)}-{slug(survey.title)}-{paper}.pdf"


def _survey_url(survey: Survey) -> str | None:
    try:
        return url_for("surveys.detail", survey_id=survey.id)
    except BuildError:
        return None
