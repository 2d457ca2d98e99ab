"""Survey pages for staff: create, configure, add respondents, invite, remind, follow, close.

Owners of the survey's organisation manage it; analysts and consultants may read its
status page. Outside the organisation every survey URL answers 404.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from cxalign.access import (
    MANAGE_ROLES,
    can_manage,
    get_survey_or_404,
    require_current_membership,
    require_membership,
)
from cxalign.extensions import db
from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.mail import mail_configured
from cxalign.models import EmailMessage, Instrument, Respondent, Survey, SurveyStatus, utcnow
from cxalign.security import database_int
from cxalign.surveys import operations as ops
from cxalign.surveys import waves
from cxalign.surveys.forms import (
    LinkOnlyRespondentForm,
    NextWaveForm,
    PasteRespondentsForm,
    SurveyForm,
    UploadRespondentsForm,
)

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

RESPONDENTS_PER_PAGE = 100
MESSAGES_PER_PAGE = 50


@bp.before_request
@login_required
def require_login():
    """Every survey page is for signed-in staff."""


# Surveys -------------------------------------------------------------------


def home_context(membership, surveys: list[Survey]) -> dict:
    """What the home page (the survey list) needs from this feature."""
    if membership is None:
        return {}
    manage = membership.role in MANAGE_ROLES
    endpoint = "surveys.detail" if manage else "surveys.status"
    actions = [{"label": "New survey", "url": url_for("surveys.new")}] if manage else []
    return {
        "home_actions": actions,
        "survey_link": lambda survey: url_for(endpoint, survey_id=survey.id),
        # Drafts have no answers yet, so no results to read.
        "results_link": lambda survey: (
            None if survey.status == SurveyStatus.DRAFT else _results_url(survey)
        ),
        "response_counts": ops.response_counts([s.id for s in surveys]),
    }


@bp.get("/")
def index():
    """The survey list is the home page."""
    return redirect(url_for("main.home"))


def _instrument_field(form: SurveyForm, organisation) -> None:
    from cxalign.instruments.store import ensure_builtin_instrument

    builtin = ensure_builtin_instrument()
    db.session.commit()  # keep it (and its id) even when this request goes no further
    instruments = ops.instrument_choices(organisation)
    form.instrument.choices = [
        SelectChoice(i.id, f"{i.label}{' · built-in' if i.is_builtin else ''}") for i in instruments
    ]
    if form.instrument.data is None:
        form.instrument.data = builtin.id


def _chosen_instrument(form: SurveyForm, organisation) -> Instrument | None:
    instrument = db.session.get(Instrument, form.instrument.data)
    if instrument is None or instrument.organisation_id not in (None, organisation.id):
        form.instrument.errors.append("Choose one of the listed instruments.")
        return None
    return instrument


@bp.route("/new", methods=["GET", "POST"])
def new():
    membership = require_current_membership(manage=True)
    organisation = membership.organisation
    form = SurveyForm()
    _instrument_field(form, organisation)
    if form.validate_on_submit():
        instrument = _chosen_instrument(form, organisation)
        if instrument is not None:
            settings = form.settings()
            try:
                survey = ops.create_survey(
                    organisation,
                    instrument=instrument,
                    created_by=current_user,
                    **asdict(settings),
                )
            except ops.SurveyError as error:
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash(
                    f"Survey “{survey.title}” created as a draft. Add respondents, then open it.",
                    "success",
                )
                return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template("surveys/new.html", form=form, organisation=organisation)


def _settings_form(survey: Survey) -> SurveyForm:
    form = SurveyForm(obj=None if request.method == "POST" else survey)
    for name in ops.locked_settings(survey):
        delattr(form, name)
    form.submit.label.text = "Save settings"
    if "instrument" in form._fields:
        _instrument_field(form, survey.organisation)
        if request.method != "POST":
            form.instrument.data = survey.instrument_id
    return form


@bp.route("/<int:survey_id>/settings", methods=["GET", "POST"])
def settings(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    form = _settings_form(survey)
    if form.validate_on_submit():
        instrument = None
        if "instrument" in form._fields:
            instrument = _chosen_instrument(form, survey.organisation)
        if not form.errors:
            try:
                changed = ops.update_settings(
                    survey,
                    form.settings(ops.settings_of(survey)),
                    instrument=instrument,
                    user=current_user,
                )
            except ops.SurveyError as error:
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash("Settings saved." if changed else "Nothing changed.", "success")
                return redirect(url_for("surveys.detail", survey_id=survey.id))
    return render_template(
        "surveys/settings.html",
        survey=survey,
        form=form,
        locked=ops.locked_settings(survey),
    )


def _results_url(survey: Survey) -> str | None:
    """The results page, when the results feature provides one."""
    for endpoint in ("results.dashboard", "results.survey", "results.detail"):
        try:
            return url_for(endpoint, survey_id=survey.id)
        except BuildError:
            continue
    return None


def _invitation_states(survey: Survey) -> dict[int, EmailMessage]:
    """respondent id → their latest invitation message."""
    latest = (
        select(EmailMessage.respondent_id, func.max(EmailMessage.id).label("id"))
        .where(EmailMessage.survey_id == survey.id, EmailMessage.kind == ops.MESSAGE_INVITATION)
        .group_by(EmailMessage.respondent_id)
        .subquery()
    )
    messages = db.session.scalars(select(EmailMessage).join(latest, EmailMessage.id == latest.c.id))
    return {m.respondent_id: m for m in messages}


def render_detail(survey: Survey, *, status_code: int = 200, **extra):
    """The survey page; POST handlers that must show something once render it directly."""
    if not can_manage(survey.organisation_id):
        return redirect(url_for("surveys.status", survey_id=survey.id))
    page = max(1, request.args.get("page", 1, type=database_int))
    listed = (
        Respondent.survey_id == survey.id,
        Respondent.source != "open_link",
        Respondent.erased_at.is_(None),
    )
    listed_count = db.session.scalar(select(func.count(Respondent.id)).where(*listed))
    respondents = list(
        db.session.scalars(
            select(Respondent)
            .where(*listed)
            .order_by(Respondent.group.desc(), Respondent.email, Respondent.id)
            .limit(RESPONDENTS_PER_PAGE)
            .offset((page - 1) * RESPONDENTS_PER_PAGE)
        )
    )
    joined_by_open_link = db.session.scalar(
        select(func.count(Respondent.id)).where(
            Respondent.survey_id == survey.id, Respondent.source == "open_link"
        )
    )
    context = {
        "survey": survey,
        "report": ops.survey_status(survey),
        "open_problems": ops.open_problems(survey) if survey.status != SurveyStatus.OPEN else [],
        "plan": ops.reminder_plan(survey) if survey.status == SurveyStatus.OPEN else None,
        "uninvited": len(ops.uninvited_respondents(survey))
        if survey.status == SurveyStatus.OPEN
        else 0,
        "respondents": respondents,
        "respondent_count": listed_count,
        "joined_by_open_link": joined_by_open_link,
        "page": page,
        "pages": max(1, -(-listed_count // RESPONDENTS_PER_PAGE)),
        "invitations": _invitation_states(survey),
        "open_links": {group: ops.active_open_link(survey, group) for group in GROUPS},
        "groups": GROUPS,
        "mail_configured": mail_configured(),
        "results_url": _results_url(survey),
        "attributable": ops.executives_may_be_attributable(survey),
        "past_closing_date": survey.status == SurveyStatus.OPEN and ops.past_closing_date(survey),
        "label": ops.respondent_label,
        "paste_form": extra.pop("paste_form", None) or PasteRespondentsForm(prefix="paste"),
        "upload_form": extra.pop("upload_form", None) or UploadRespondentsForm(prefix="upload"),
        "one_form": extra.pop("one_form", None) or LinkOnlyRespondentForm(prefix="one"),
        "series": waves.series_of(survey),
    }
    context.update(extra)
    return render_template("surveys/detail.html", **context), status_code


@bp.get("/<int:survey_id>")
def detail(survey_id: int):
    survey = get_survey_or_404(survey_id)
    return render_detail(survey)


def _back(survey: Survey, anchor: str = ""):
    return redirect(url_for("surveys.detail", survey_id=survey.id) + anchor)


def _status_action(survey_id: int, action, success: str):
    survey = get_survey_or_404(survey_id, manage=True)
    try:
        action(survey, user=current_user)
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(success.format(title=survey.title), "success")
    return _back(survey)


@bp.post("/<int:survey_id>/open", endpoint="open")
def open_survey(survey_id: int):
    return _status_action(
        survey_id,
        ops.open_survey,
        "“{title}” is open: personal and open links work now. Send the invitations next.",
    )


@bp.post("/<int:survey_id>/close")
def close(survey_id: int):
    return _status_action(
        survey_id,
        ops.close_survey,
        "“{title}” is closed. No more answers are accepted; every answer given is kept.",
    )


@bp.post("/<int:survey_id>/reopen")
def reopen(survey_id: int):
    return _status_action(
        survey_id, ops.reopen_survey, "“{title}” is open again: links work until you close it."
    )


@bp.post("/<int:survey_id>/delete")
def delete(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    title = survey.title
    try:
        ops.delete_draft_survey(survey, user=current_user)
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey)
    db.session.commit()
    flash(f"Draft “{title}” deleted.", "success")
    return redirect(url_for("main.home"))


# Waves ---------------------------------------------------------------------


def _next_wave_instruments(survey: Survey) -> list[SelectChoice]:
    """Instruments the next wave may use: those sharing a dimension with this wave's."""
    current = survey.instrument
    total = len(current.dimensions)
    choices = []
    for instrument in ops.instrument_choices(survey.organisation):
        shared = len(waves.shared_dimension_codes(current, instrument))
        if not shared:
            continue
        if instrument.id == current.id:
            note = "same version"
        elif instrument.key == current.key and instrument.version > current.version:
            note = "newer version"
        else:
            note = "built-in" if instrument.is_builtin else "other instrument"
        label = f"{instrument.label} · {note} · {shared} of {total} dimensions"
        choices.append(SelectChoice(instrument.id, label))
    return choices


@bp.route("/<int:survey_id>/next-wave", methods=["GET", "POST"])
def next_wave(survey_id: int):
    """Start the next wave of this survey: same settings, optionally the same people."""
    survey = get_survey_or_404(survey_id, manage=True)
    if survey.status == SurveyStatus.DRAFT:
        flash("A draft has not run yet, so it cannot have a next wave: open it first.", "error")
        return _back(survey)
    series = waves.series_of(survey)
    carried = len(waves.carried_respondents(survey))
    form = NextWaveForm()
    form.instrument.choices = _next_wave_instruments(survey)
    if survey.personal_data_purged_at is not None:
        del form.carry_over
    else:
        people = "person" if carried == 1 else "people"
        form.carry_over.label.text = (
            f"Carry over respondents ({carried} {people}, new personal links)"
        )
    if request.method == "GET":
        form.title.data = waves.default_next_title(survey, series)
        form.instrument.data = survey.instrument_id
    if form.validate_on_submit():
        instrument = db.session.get(Instrument, form.instrument.data)
        try:
            started = waves.start_next_wave(
                survey,
                title=form.title.data,
                instrument=instrument,
                carry_over_respondents=bool("carry_over" in form and form.carry_over.data),
                user=current_user,
            )
        except ops.SurveyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            wave = started.survey
            message = f"“{wave.title}” created as a draft, with the settings of “{survey.title}”."
            if started.carried_over:
                count = started.carried_over
                message += (
                    f" {count} respondent{'s' if count != 1 else ''} carried over with new "
                    "personal links: open the wave, then send the invitations."
                )
            else:
                message += " Add respondents, set the dates, then open it."
            flash(message, "success")
            return redirect(url_for("surveys.detail", survey_id=wave.id))
    return render_template(
        "surveys/next_wave.html",
        survey=survey,
        form=form,
        series=series,
        carried=carried,
        wave_number=waves.wave_number(survey, series),
    ), 400 if form.errors or form.form_errors else 200


# Respondents ---------------------------------------------------------------


def _import(survey: Survey, parse, form, form_key: str):
    try:
        rows = parse()
        added = ops.add_respondents(survey, rows, user=current_user)
    except ops.RespondentImportError as error:
        db.session.rollback()
        return render_detail(
            survey,
            status_code=400,
            import_errors=error.errors,
            import_message=str(error),
            **{form_key: form},
        )
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey)
    db.session.commit()
    count = len(added)
    message = f"Added {count} respondent{'s' if count != 1 else ''}."
    if survey.status == SurveyStatus.OPEN:
        message += " Send the invitations when you are ready."
    flash(message, "success")
    return _back(survey, "#respondents")


@bp.post("/<int:survey_id>/respondents/paste")
def add_pasted(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    form = PasteRespondentsForm(prefix="paste")
    if not form.validate():
        return render_detail(survey, status_code=400, paste_form=form)
    return _import(survey, lambda: ops.parse_respondent_lines(form.lines.data), form, "paste_form")


@bp.post("/<int:survey_id>/respondents/upload")
def upload(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    form = UploadRespondentsForm(prefix="upload")
    if not form.validate():
        return render_detail(survey, status_code=400, upload_form=form)
    data = form.file.data.read()
    return _import(survey, lambda: ops.parse_respondent_csv(data), form, "upload_form")


@bp.post("/<int:survey_id>/respondents/link-only")
def add_link_only(survey_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    form = LinkOnlyRespondentForm(prefix="one")
    if not form.validate():
        return render_detail(survey, status_code=400, one_form=form)
    try:
        respondent, token = ops.add_respondent_without_email(
            survey, form.group.data, name=form.name.data, user=current_user
        )
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey)
    db.session.commit()
    return render_detail(
        survey,
        revealed={
            "title": f"Personal link for {ops.respondent_label(respondent)}",
            "group": respondent.group,
            "url": ops.personal_link_url(token),
            "note": "Copy it now and give it to this person only: it is not shown again. "
            "If it gets lost, issue a new link.",
        },
    )


def _respondent_or_404(survey: Survey, respondent_id: int) -> Respondent:
    respondent = db.session.get(Respondent, respondent_id)
    if respondent is None or respondent.survey_id != survey.id:
        abort(404)
    return respondent


@bp.post("/<int:survey_id>/respondents/<int:respondent_id>/new-link")
def new_link(survey_id: int, respondent_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    respondent = _respondent_or_404(survey, respondent_id)
    try:
        token = ops.issue_new_link(respondent, user=current_user)
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey, "#respondents")
    db.session.commit()
    note = "The old link no longer works. Copy this one now: it is not shown again."
    if respondent.email:
        note += " Invitations and reminders from now on carry the new link."
    return render_detail(
        survey,
        revealed={
            "title": f"New personal link for {ops.respondent_label(respondent)}",
            "group": respondent.group,
            "url": ops.personal_link_url(token),
            "note": note,
        },
    )


@bp.post("/<int:survey_id>/respondents/<int:respondent_id>/revoke")
def revoke(survey_id: int, respondent_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    respondent = _respondent_or_404(survey, respondent_id)
    ops.revoke_respondent(respondent, user=current_user)
    db.session.commit()
    flash(
        f"{ops.respondent_label(respondent)}: link revoked. Answers already given are kept.",
        "success",
    )
    return _back(survey, "#respondents")


@bp.post("/<int:survey_id>/respondents/<int:respondent_id>/erase")
def erase(survey_id: int, respondent_id: int):
    survey = get_survey_or_404(survey_id, manage=True)
    respondent = _respondent_or_404(survey, respondent_id)
    ops.erase_respondent(respondent, user=current_user)
    db.session.commit()
    flash("The respondent was erased, with their answers and their email address.", "success")
    return _back(survey, "#respondents")


# Open links ----------------------------------------------------------------


def _group_or_404(group: str) -> str:
    if group not in GROUPS:
        abort(404)
    return group


@bp.post("/<int:survey_id>/open-links/<group>")
def create_open_link(survey_id: int, group: str):
    survey = get_survey_or_404(survey_id, manage=True)
    group = _group_or_404(group)
    try:
        token = ops.create_open_link(survey, group, user=current_user)
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey, "#open-links")
    db.session.commit()
    return render_detail(
        survey,
        revealed={
            "title": f"Open link for {GROUP_LABELS[group].lower()}",
            "group": group,
            "url": ops.open_link_url(token),
            "note": "Anyone with this link can answer as one of your "
            f"{GROUP_LABELS[group].lower()}: each first visit creates a new respondent. "
            "Copy it now: it is not shown again. Any earlier open link for this group "
            "no longer works.",
        },
    )


@bp.post("/<int:survey_id>/open-links/<group>/revoke")
def revoke_open_link(survey_id: int, group: str):
    survey = get_survey_or_404(survey_id, manage=True)
    group = _group_or_404(group)
    if ops.revoke_open_link(survey, group, user=current_user):
        db.session.commit()
        flash(f"The open link for {GROUP_LABELS[group].lower()} no longer works.", "success")
    else:
        flash("There was no open link to revoke.", "info")
    return _back(survey, "#open-links")


# Invitations and reminders -------------------------------------------------


def _delivery_flash(survey: Survey, delivered: int, started, noun: str) -> None:
    failed = ops.failed_messages_since(survey, started)
    where = "sent" if mail_configured() else "put in the outbox (no mail server is set up)"
    if delivered:
        flash(f"{delivered} {noun}{'s' if delivered != 1 else ''} {where}.", "success")
    if failed:
        flash(
            f"{failed} {noun}{'s' if failed != 1 else ''} could not be sent; the outbox shows why.",
            "error",
        )
    if not delivered and not failed:
        flash(f"Nobody needed {'an' if noun[0] in 'aeiou' else 'a'} {noun} just now.", "info")


def _deliver(survey_id: int, send, noun: str):
    """Send invitations or reminders, then say what happened on the survey page."""
    survey = get_survey_or_404(survey_id, manage=True)
    started = utcnow()
    try:
        delivered = send(survey, user=current_user)
    except ops.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(survey, "#invitations")
    db.session.commit()
    _delivery_flash(survey, delivered, started, noun)
    return _back(survey, "#invitations")


@bp.post("/<int:survey_id>/invitations")
def send_invitations(survey_id: int):
    return _deliver(survey_id, ops.send_invitations, "invitation")


@bp.post("/<int:survey_id>/reminders")
def send_reminders(survey_id: int):
    return _deliver(survey_id, ops.send_reminders, "reminder")


# Status --------------------------------------------------------------------


@bp.get("/<int:survey_id>/status")
def status(survey_id: int):
    survey = get_survey_or_404(survey_id)
    return render_template(
        "surveys/status.html",
        survey=survey,
        report=ops.survey_status(survey),
        manage=can_manage(survey.organisation_id),
        attributable=ops.executives_may_be_attributable(survey),
        results_url=_results_url(survey),
        ops_percent=ops.percent,
    )


# Outbox --------------------------------------------------------------------


def hides_recipient(message: EmailMessage, survey: Survey | None) -> bool:
    """Reminders of an anonymous survey go only to those who have not answered, so
    showing their recipients (or their text) would tell staff who has not answered."""
    return message.kind == ops.MESSAGE_REMINDER and survey is not None and survey.anonymous_to_staff


@bp.get("/outbox")
def outbox():
    membership = require_current_membership(manage=True)
    page = max(1, request.args.get("page", 1, type=database_int))
    where = [EmailMessage.organisation_id == membership.organisation_id]
    survey_filter = request.args.get("survey", type=database_int)
    if survey_filter:
        where.append(EmailMessage.survey_id == survey_filter)
    total = db.session.scalar(select(func.count(EmailMessage.id)).where(*where))
    messages = list(
        db.session.scalars(
            select(EmailMessage)
            .where(*where)
            .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
            .limit(MESSAGES_PER_PAGE)
            .offset((page - 1) * MESSAGES_PER_PAGE)
        )
    )
    surveys = {
        s.id: s
        for s in db.session.scalars(
            select(Survey).where(Survey.organisation_id == membership.organisation_id)
        )
    }
    return render_template(
        "surveys/outbox.html",
        organisation=membership.organisation,
        messages=messages,
        surveys=surveys,
        survey_filter=survey_filter if survey_filter in surveys else None,
        page=page,
        pages=max(1, -(-total // MESSAGES_PER_PAGE)),
        total=total,
        hidden={m.id for m in messages if hides_recipient(m, surveys.get(m.survey_id))},
        mail_configured=mail_configured(),
    )


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = db.session.get(EmailMessage, message_id)
    if message is None or message.organisation_id is None:
        abort(404)
    require_membership(message.organisation_id, manage=True)
    survey = db.session.get(Survey, message.survey_id) if message.survey_id else None
    return render_template(
        "surveys/outbox_message.html",
        message=message,
        survey=survey,
        hidden=hides_recipient(message, survey),
        mail_configured=mail_configured(),
    )
