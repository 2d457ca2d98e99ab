"""Respondents answer here, through their personal link, without an account.

``/r/<token>`` is the welcome page, ``/r/<token>/page/<n>`` the questionnaire (GET shows a
page, POST saves it and moves on), ``/r/<token>/done`` the thank-you page and
``/join/<token>`` an open link that gives each new visitor a personal link.

The token in the URL is the respondent's only credential, so these pages are never
cached and never leak it through the Referer header. An unknown, revoked or erased
token is a plain 404 that does not tell whether the survey exists.
"""

from __future__ import annotations

import functools

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from cxalign.extensions import csrf, db, limiter
from cxalign.models import Respondent, RespondentStatus, Survey, User, hash_token
from cxalign.respond.answers import (
    DONT_KNOW,
    DONT_KNOW_LABEL,
    AlreadyCompleted,
    AnswerError,
    SurveyNotOpen,
    answers_of,
    comments_of,
    estimated_minutes,
    item_count,
    mark_completed,
    page_plan,
    progress,
    resume_page,
    save_answers,
    survey_window,
)
from cxalign.respond.forms import (
    AnswerPageForm,
    build_page_form,
    comment_field_name,
    item_field_name,
)
from cxalign.surveys.operations import find_open_link, join_open_link

bp = Blueprint("respond", __name__)

# Every POST here is still checked for its CSRF token, by the page form itself: that way
# an expired token shows the page again with the respondent's choices still selected,
# instead of a bare error page that would lose them.
csrf.exempt(bp)

JOINED_SESSION_KEY = "joined_open_links"
# Enough for a whole office behind one address, not enough to flood a survey.
JOIN_RATE_LIMIT = "30 per minute"


@bp.after_request
def keep_the_link_private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _respondent_or_404(token: str) -> Respondent:
    """The respondent of a personal link, with their survey and its instrument version.

    The rules of ``surveys.operations.find_respondent_by_token`` (looked up by the token's
    hash only; unknown, revoked or erased: a plain 404), in one query that also loads what
    every page needs, instead of three round trips. tests/test_respond_performance.py keeps
    the two in step.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        abort(404)
    respondent = db.session.scalar(_respondent_by_hash(), {"token_hash": hash_token(token)})
    if respondent is None or respondent.revoked_at or respondent.erased_at:
        abort(404)
    return respondent


MAX_TOKEN_LENGTH = 200


@functools.cache
def _respondent_by_hash():
    # Built once (statements are immutable); the token's hash is the only parameter.
    return (
        select(Respondent)
        .options(
            joinedload(Respondent.survey, innerjoin=True).joinedload(
                Survey.instrument, innerjoin=True
            )
        )
        .where(Respondent.token_hash == bindparam("token_hash"))
    )


def _unavailable(respondent: Respondent | None, window, survey, status: int = 200):
    answered = len(answers_of(respondent)) if respondent is not None else 0
    return render_template(
        "respond/unavailable.html",
        survey=survey,
        window=window,
        answered=answered,
    ), status


def _context(respondent: Respondent, token: str) -> dict:
    survey = respondent.survey
    plan = page_plan(survey, respondent.group)
    return {
        "respondent": respondent,
        "survey": survey,
        "token": token,
        "plan": plan,
        "threshold": survey.anonymity_threshold(respondent.group),
    }


def _contact_name(survey) -> str | None:
    """The name of the person who set the survey up, to show respondents whom to ask."""
    if survey.created_by_id is None:
        return None
    user = db.session.get(User, survey.created_by_id)
    return user.name if user is not None and user.name else None


# ---------------------------------------------------------------------------
# Welcome page
# ---------------------------------------------------------------------------


@bp.get("/r/<token>")
def landing(token: str):
    respondent = _respondent_or_404(token)
    if respondent.status == RespondentStatus.COMPLETED:
        return redirect(url_for("respond.done", token=token))
    survey = respondent.survey
    window = survey_window(survey)
    if not window.is_open:
        return _unavailable(respondent, window, survey)
    context = _context(respondent, token)
    plan = context["plan"]
    answers = answers_of(respondent)
    items = item_count(plan)
    return render_template(
        "respond/landing.html",
        **context,
        items=items,
        answered=len(answers),
        minutes=estimated_minutes(items),
        resume=resume_page(respondent, plan),
        has_started=respondent.status == RespondentStatus.STARTED,
        contact=_contact_name(survey),
    )


# ---------------------------------------------------------------------------
# Questionnaire pages
# ---------------------------------------------------------------------------


def _page_or_404(plan, number: int):
    if not 1 <= number <= len(plan):
        abort(404)
    return plan[number - 1]


def _render_page(context: dict, form: AnswerPageForm, answers: dict, status: int = 200):
    plan = context["plan"]
    page = form.page
    on_page = {item.id for item in page.items}
    return render_template(
        "respond/page.html",
        **context,
        page=page,
        form=form,
        progress=progress(plan, answers),
        answered=len(answers),
        answered_elsewhere=sum(item_id not in on_page for item_id in answers),
        items=item_count(plan),
        comment_minimum=context["survey"].comment_minimum,
        dont_know=DONT_KNOW,
        dont_know_label=DONT_KNOW_LABEL,
        item_field_name=item_field_name,
        comment_field_name=comment_field_name,
    ), status


def _render_again(context: dict, respondent: Respondent, current, message: str | None = None):
    """The page again (400) with the submission's choices, its errors, and saved answers
    for the questions it left out."""
    answers = answers_of(respondent)
    form = build_page_form(
        current, len(context["plan"]), respondent.group, answers, comments_of(respondent)
    )
    form.validate_on_submit()  # the same request: the same errors, around the saved answers
    if message:
        form.form_errors.append(message)
    return _render_page(context, form, answers, 400)


@bp.get("/r/<token>/page/<int:number>")
def page(token: str, number: int):
    respondent = _respondent_or_404(token)
    if respondent.status == RespondentStatus.COMPLETED:
        return redirect(url_for("respond.done", token=token))
    window = survey_window(respondent.survey)
    if not window.is_open:
        return _unavailable(respondent, window, respondent.survey)
    context = _context(respondent, token)
    plan = context["plan"]
    current = _page_or_404(plan, number)
    answers = answers_of(respondent)
    form = build_page_form(current, len(plan), respondent.group, answers, comments_of(respondent))
    return _render_page(context, form, answers)


@bp.post("/r/<token>/page/<int:number>")
def save_page(token: str, number: int):
    respondent = _respondent_or_404(token)
    if respondent.status == RespondentStatus.COMPLETED:
        # A second click on "Submit", or a page left open in another tab.
        flash("You have already submitted your answers, so nothing was changed.", "info")
        return redirect(url_for("respond.done", token=token))
    window = survey_window(respondent.survey)
    if not window.is_open:
        return _unavailable(respondent, window, respondent.survey, 409)
    context = _context(respondent, token)
    plan = context["plan"]
    current = _page_or_404(plan, number)
    # The saved answers are needed only to show the page again: a valid submission writes
    # what it sends and leaves the questions it does not send as they were.
    form = build_page_form(current, len(plan), respondent.group, {}, {})
    if not form.validate_on_submit():
        return _render_again(context, respondent, current)

    navigation = form.navigation()
    try:
        save_answers(
            respondent,
            form.answers(),
            form.comments(),
            position=max(navigation.target, 1),
        )
        if navigation.submit:
            mark_completed(respondent)
    except AlreadyCompleted:
        db.session.rollback()
        return redirect(url_for("respond.done", token=token))
    except SurveyNotOpen:
        db.session.rollback()
        return _unavailable(respondent, survey_window(respondent.survey), respondent.survey, 409)
    except AnswerError as error:
        db.session.rollback()
        return _render_again(context, respondent, current, error.message)
    db.session.commit()

    if navigation.submit:
        return redirect(url_for("respond.done", token=token))
    if navigation.target < 1:
        return redirect(url_for("respond.landing", token=token))
    return redirect(url_for("respond.page", token=token, number=navigation.target))


@bp.post("/r/<token>/autosave")
def autosave(token: str):
    """Save one page in the background (respond.js): 204 when saved, JSON reason otherwise."""
    respondent = _respondent_or_404(token)
    if respondent.status == RespondentStatus.COMPLETED:
        return jsonify(error="You have already submitted your answers."), 409
    if not survey_window(respondent.survey).is_open:
        return jsonify(error="This survey is not open."), 409
    plan = page_plan(respondent.survey, respondent.group)
    number = request.form.get("page", type=int)
    if number is None or not 1 <= number <= len(plan):
        return jsonify(error="Unknown page."), 400
    # No saved answers needed: nothing is shown, and what is not sent stays as it was.
    form = build_page_form(plan[number - 1], len(plan), respondent.group, {}, {})
    if not form.validate_on_submit():
        return jsonify(error="Not saved.", fields=form.errors), 400
    try:
        save_answers(respondent, form.answers(), form.comments(), position=None)
    except AnswerError as error:
        db.session.rollback()
        status = 409 if isinstance(error, AlreadyCompleted | SurveyNotOpen) else 400
        return jsonify(error=error.message), status
    db.session.commit()
    return "", 204


# ---------------------------------------------------------------------------
# Thank you, review
# ---------------------------------------------------------------------------


@bp.get("/r/<token>/done")
def done(token: str):
    respondent = _respondent_or_404(token)
    if respondent.status != RespondentStatus.COMPLETED:
        return redirect(url_for("respond.landing", token=token))
    return render_template(
        "respond/done.html",
        **_context(respondent, token),
        window=survey_window(respondent.survey),
    )


@bp.get("/r/<token>/review")
def review(token: str):
    respondent = _respondent_or_404(token)
    if respondent.status != RespondentStatus.COMPLETED:
        return redirect(url_for("respond.landing", token=token))
    if not respondent.survey.allow_review:
        abort(404)
    return render_template(
        "respond/review.html",
        **_context(respondent, token),
        answers=answers_of(respondent),
        comments=comments_of(respondent),
        dont_know=DONT_KNOW,
        dont_know_label=DONT_KNOW_LABEL,
    )


# ---------------------------------------------------------------------------
# Open links
# ---------------------------------------------------------------------------


@bp.get("/join/<token>")
@limiter.limit(JOIN_RATE_LIMIT)
def join(token: str):
    """Give a first-time visitor of an open link their own respondent and personal link.

    The visitor's session remembers the respondent, so reloading the page (or opening
    the open link again in the same browser) continues the same questionnaire.
    """
    open_link = find_open_link(token)
    if open_link is None:
        abort(404)
    survey = open_link.survey
    window = survey_window(survey)
    if not window.is_open:
        return _unavailable(None, window, survey)

    joined = dict(session.get(JOINED_SESSION_KEY, {}))
    remembered = joined.get(str(open_link.id))
    if remembered is not None:
        respondent = db.session.get(Respondent, remembered)
        if (
            respondent is not None
            and respondent.survey_id == survey.id
            and respondent.group == open_link.group
            and not respondent.revoked_at
            and not respondent.erased_at
        ):
            personal = respondent.link_token(current_app.config["SECRET_KEY"])
            return redirect(url_for("respond.landing", token=personal))

    respondent, personal = join_open_link(open_link)
    db.session.commit()
    joined[str(open_link.id)] = respondent.id
    session[JOINED_SESSION_KEY] = joined
    return redirect(url_for("respond.landing", token=personal))
