"""The Data page of a survey: downloads for analysts, retention and purge for owners.

Owners, analysts and consultants of the survey's organisation may download (every
download is audited); only owners may change the retention period or purge. Outside the
organisation every URL answers 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from cxalign.access import can_manage, get_survey_or_404
from cxalign.analysis import analyse_survey
from cxalign.exports import files
from cxalign.exports.forms import PurgeForm, RetentionForm
from cxalign.exports.tables import survey_data
from cxalign.extensions import db
from cxalign.models import Survey, SurveyStatus, utcnow
from cxalign.surveys import retention
from cxalign.surveys.operations import SurveyError

bp = Blueprint("exports", __name__, url_prefix="/surveys")


@bp.before_request
@login_required
def require_login():
    """Every page here is for signed-in staff."""


def _url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:  # the feature that serves it is not installed
        return None


def _data_page(survey: Survey, *, retention_form=None, purge_form=None, status_code=200):
    analysis = analyse_survey(survey)
    data = survey_data(survey, analysis)
    manage = can_manage(survey.organisation_id)
    now = utcnow()
    return (
        render_template(
            "exports/data.html",
            survey=survey,
            exports=files.EXPORTS,
            download_url=lambda what, fmt: url_for(
                f"exports.{download_endpoint(what, fmt)}", survey_id=survey.id
            ),
            data=data,
            counts=data.counts(),
            groups=list(analysis.result.groups),
            manage=manage,
            retention_form=retention_form
            or RetentionForm(data={"retention_days": survey.retention_days}),
            due_at=retention.purge_due_at(survey),
            purge_refusal=retention.purge_refusal(survey, now, early=True),
            purge_is_early=retention.purge_refusal(survey, now) is not None,
            survey_url=_url("surveys.detail" if manage else "surveys.status", survey_id=survey.id),
            results_url=_url("results.dashboard", survey_id=survey.id),
        ),
        status_code,
    )


@bp.get("/<int:survey_id>/data")
def data(survey_id: int):
    """What can be downloaded, what is withheld and why; retention and purge for owners."""
    survey = get_survey_or_404(survey_id)
    return _data_page(survey)


def download_endpoint(what: str, fmt: str) -> str:
    """``exports.download_responses_xlsx`` and so on: one endpoint (and URL) per file."""
    return f"download_{what.replace('-', '_')}_{fmt}"


def download(survey_id: int, what: str, fmt: str):
    survey = get_survey_or_404(survey_id)
    try:
        export = files.build_export(survey, what, fmt)
    except files.ExportError as error:
        abort(404, str(error))
    files.record_export(survey, export, user=current_user, via="web")
    db.session.commit()
    response = Response(export.data, mimetype=export.mimetype)
    if export.format == "csv":
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _download_view(what: str, fmt: str):
    def view(survey_id: int):
        return download(survey_id, what, fmt)

    view.__doc__ = f"Download the {what} export as {fmt.upper()}."
    return view


# Fixed URLs such as /surveys/7/data/responses.xlsx, with only the survey id as a parameter.
for _kind in files.EXPORTS.values():
    for _fmt in _kind.formats:
        bp.add_url_rule(
            f"/<int:survey_id>/data/{_kind.what}.{_fmt}",
            endpoint=download_endpoint(_kind.what, _fmt),
            view_func=_download_view(_kind.what, _fmt),
        )


@bp.post("/<int:survey_id>/data/retention")
def set_retention(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    form = RetentionForm()
    if not form.validate():
        return _data_page(survey, retention_form=form, status_code=400)
    try:
        changed = retention.set_retention(survey, form.retention_days.data, user=current_user)
    except SurveyError as error:
        db.session.rollback()
        form.retention_days.errors = [str(error)]
        return _data_page(survey, retention_form=form, status_code=400)
    db.session.commit()
    if not changed:
        flash("The retention period is unchanged.", "info")
    elif survey.retention_days is None:
        flash("Personal data is now kept until you purge it by hand.", "success")
    else:
        flash(
            f"Personal data will be purged {survey.retention_days} days after the survey closes.",
            "success",
        )
    return redirect(url_for("exports.data", survey_id=survey.id) + "#retention")


@bp.route("/<int:survey_id>/data/purge", methods=["GET", "POST"])
def purge(survey_id: int):
    """The confirmation step, then the purge itself."""
    survey = get_survey_or_404(survey_id, manage=True)
    now = utcnow()
    form = PurgeForm()
    refusal = retention.purge_refusal(survey, now, early=True)
    early_needed = retention.purge_refusal(survey, now) is not None
    status_code = 200
    if form.is_submitted() and refusal is None:
        if not form.validate():
            status_code = 400
        elif early_needed and not form.early.data:
            form.early.errors = ["The retention period has not ended: tick this to purge now."]
            status_code = 400
        else:
            try:
                summary = retention.purge_personal_data(
                    survey, user=current_user, now=now, early=form.early.data
                )
            except SurveyError as error:
                db.session.rollback()
                flash(str(error), "error")
                return redirect(url_for("exports.data", survey_id=survey.id))
            db.session.commit()
            flash(
                f"Personal data purged: {summary.respondents} respondents, "
                f"{summary.messages} messages, {summary.open_links} open links. "
                "Answers and comments are kept; the results still show.",
                "success",
            )
            return redirect(url_for("exports.data", survey_id=survey.id) + "#retention")
    elif form.is_submitted():
        status_code = 400
    return (
        render_template(
            "exports/purge.html",
            survey=survey,
            form=form,
            refusal=refusal,
            early_needed=early_needed,
            due_at=retention.purge_due_at(survey),
            preview=retention.preview_purge(survey, now),
            closed=survey.status == SurveyStatus.CLOSED,
        ),
        status_code,
    )
