from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from cxalign.access import current_membership, require_membership
from cxalign.extensions import db
from cxalign.models import Survey
from cxalign.security import database_int

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("main/landing.html")


@bp.get("/home")
@login_required
def home():
    membership = current_membership()
    surveys = []
    if membership:
        surveys = list(
            db.session.scalars(
                select(Survey)
                .where(Survey.organisation_id == membership.organisation_id)
                .order_by(Survey.created_at.desc(), Survey.id.desc())
            )
        )
    from cxalign.surveys.routes import home_context

    return render_template(
        "main/home.html",
        membership=membership,
        surveys=surveys,
        **home_context(membership, surveys),
    )


@bp.post("/organisations/switch")
@login_required
def switch_organisation():
    organisation_id = request.form.get("organisation_id", type=database_int)
    if organisation_id is None:
        abort(400, "Choose an organisation.")
    membership = require_membership(organisation_id)
    current_user.current_organisation_id = membership.organisation_id
    db.session.commit()
    flash(f"Now working in {membership.organisation.name}.", "info")
    return redirect(url_for("main.home"))


@bp.get("/healthz")
def health():
    """For load balancers: answers only when the database does."""
    db.session.execute(select(1))
    return {"status": "ok"}
