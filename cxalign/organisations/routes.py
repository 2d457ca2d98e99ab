"""Team, invitations, organisation settings, audit log and the consultant's portfolio.

Every view works in the user's current organisation (``cxalign.access``); members and
invitations of any other organisation answer 404 whatever the id.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from cxalign.access import MANAGE_ROLES, require_current_membership
from cxalign.extensions import db
from cxalign.models import Role
from cxalign.organisations import operations as ops
from cxalign.organisations.forms import (
    AcceptExistingForm,
    AcceptNewAccountForm,
    ActionForm,
    InviteForm,
    OrganisationSettingsForm,
    RoleForm,
)
from cxalign.organisations.portfolio import build_portfolio, has_portfolio
from cxalign.security import database_int

bp = Blueprint("organisations", __name__)

AUDIT_PER_PAGE = 50


def _user():
    return current_user._get_current_object()


def _team_page(membership, *, invite_form=None, revealed=None, status=200):
    organisation = membership.organisation
    is_owner = membership.role in MANAGE_ROLES
    members = ops.members_of(organisation)
    owners = sum(1 for m in members if m.role == Role.OWNER)
    return (
        render_template(
            "organisations/members.html",
            organisation=organisation,
            membership=membership,
            is_owner=is_owner,
            members=members,
            owners=owners,
            invitations=ops.pending_invitations(organisation) if is_owner else [],
            invite_form=invite_form or InviteForm(formdata=None),
            role_labels=ops.ROLE_LABELS,
            role_choices=[(str(r), ops.ROLE_LABELS[r]) for r in Role],
            revealed=revealed,
        ),
        status,
    )


@bp.get("/team")
@login_required
def members():
    """Every member sees who is in the team; owners also see invitations and can act."""
    return _team_page(require_current_membership())


@bp.post("/team/invite")
@login_required
def invite():
    membership = require_current_membership(manage=True)
    form = InviteForm()
    if not form.validate_on_submit():
        return _team_page(membership, invite_form=form, status=400)
    try:
        invitation, link = ops.invite_member(
            membership.organisation, form.email.data, form.role.data, invited_by=_user()
        )
    except ops.OrganisationError as error:
        db.session.rollback()
        form.email.errors.append(str(error))
        return _team_page(membership, invite_form=form, status=400)
    db.session.commit()
    # The link is shown this once (the database keeps only its hash), then the page
    # behaves as usual.
    revealed = {"email": invitation.email, "role": invitation.role, "link": link}
    return _team_page(membership, revealed=revealed)


def _member_or_404(membership, member_id: int):
    member = ops.member_of(membership.organisation, member_id)
    if member is None:
        abort(404)
    return member


@bp.post("/team/members/<int:member_id>/role")
@login_required
def change_role(member_id: int):
    membership = require_current_membership(manage=True)
    member = _member_or_404(membership, member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, "Choose owner, analyst or consultant.")
    try:
        changed = ops.change_role(member, form.role.data, by=_user())
    except ops.OrganisationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".members"))
    db.session.commit()
    if changed:
        flash(
            f"{member.user.display_name} is now {ops.ROLE_LABELS[Role(member.role)].lower()}.",
            "success",
        )
    return redirect(url_for(".members"))


@bp.post("/team/members/<int:member_id>/remove")
@login_required
def remove_member(member_id: int):
    membership = require_current_membership(manage=True)
    member = _member_or_404(membership, member_id)
    ActionForm().validate_on_submit() or abort(400)
    name = member.user.display_name
    removing_self = member.user_id == current_user.id
    try:
        ops.remove_member(member, by=_user())
    except ops.OrganisationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".members"))
    db.session.commit()
    flash(f"{name} is no longer a member of {membership.organisation.name}.", "success")
    if removing_self:
        return redirect(url_for("main.home"))
    return redirect(url_for(".members"))


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int):
    membership = require_current_membership(manage=True)
    invitation = ops.invitation_of(membership.organisation, invitation_id)
    if invitation is None:
        abort(404)
    ActionForm().validate_on_submit() or abort(400)
    try:
        ops.revoke_invitation(invitation, by=_user())
    except ops.OrganisationError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"The invitation to {invitation.email} is withdrawn.", "success")
    return redirect(url_for(".members"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The link in a staff invitation. Authorised by its token alone."""
    invitation = ops.find_invitation(token)
    state = ops.invitation_state(invitation)
    if state != "valid":
        # Unknown links are 404; links that existed but can no longer be used are 410.
        status = 404 if state == "unknown" else 410
        return (
            render_template(
                "organisations/invitation_unavailable.html",
                state=state,
                message=ops.UNAVAILABLE_MESSAGES[state],
            ),
            status,
        )
    organisation = invitation.organisation
    from cxalign.accounts import find_user

    existing = find_user(invitation.email)
    logged_in = current_user.is_authenticated
    wrong_account = logged_in and current_user.email != invitation.email
    form = None
    if logged_in and not wrong_account:
        form = AcceptExistingForm()
    elif not logged_in and existing is None:
        form = AcceptNewAccountForm()
        form.email.data = invitation.email
    status = 200
    if form is not None and form.validate_on_submit():
        try:
            if isinstance(form, AcceptExistingForm):
                ops.accept_invitation(token, user=_user())
            else:
                membership = ops.accept_invitation(
                    token, name=form.name.data, password=form.password.data
                )
        except ops.InvitationUnavailable as error:
            db.session.rollback()
            return (
                render_template(
                    "organisations/invitation_unavailable.html",
                    state=error.state,
                    message=str(error),
                ),
                410,
            )
        except ops.OrganisationError as error:
            db.session.rollback()
            flash(str(error), "error")
            status = 400
        else:
            db.session.commit()
            if not logged_in:
                login_user(membership.user)
            flash(f"Welcome to {organisation.name}.", "success")
            return redirect(url_for("main.home"))
    elif form is not None and form.is_submitted():
        status = 400
    return (
        render_template(
            "organisations/accept.html",
            invitation=invitation,
            organisation=organisation,
            role_label=ops.ROLE_LABELS[Role(invitation.role)],
            role_description=ops.ROLE_DESCRIPTIONS[Role(invitation.role)],
            form=form,
            existing=existing is not None,
            wrong_account=wrong_account,
            login_url=url_for("auth.login", next=request.path),
        ),
        status,
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    membership = require_current_membership(manage=True)
    organisation = membership.organisation
    form = OrganisationSettingsForm(obj=organisation)
    status = 200
    if form.validate_on_submit():
        try:
            changed = ops.rename_organisation(organisation, form.name.data, by=_user())
        except ops.OrganisationError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            if changed:
                flash(f"The organisation is now called {organisation.name}.", "success")
            return redirect(url_for(".settings"))
    elif form.is_submitted():
        status = 400
    return render_template(
        "organisations/settings.html",
        organisation=organisation,
        form=form,
        api_tokens_url=url_for("api.tokens")
        if "api.tokens" in current_app.view_functions
        else None,
    ), status


@bp.get("/audit")
@login_required
def audit():
    membership = require_current_membership(manage=True)
    page = request.args.get("page", 1, type=database_int)
    log = ops.audit_page(membership.organisation_id, page, AUDIT_PER_PAGE)
    return render_template(
        "organisations/audit.html", organisation=membership.organisation, log=log
    )


@bp.get("/portfolio")
@login_required
def portfolio():
    if not has_portfolio(_user()):
        abort(403, "The portfolio is for consultants who work with several client organisations.")
    return render_template("organisations/portfolio.html", portfolio=build_portfolio(_user()))
