"""Forms of the team, invitation and organisation settings pages.

Rules beyond a single field (last owner, single-use links) live in ``operations``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length

from cxalign.auth.forms import NotObviousPassword
from cxalign.models import Role
from cxalign.organisations.operations import MAX_NAME_LENGTH, ROLE_DESCRIPTIONS, ROLE_LABELS

ROLE_CHOICES = [SelectChoice(str(role), ROLE_LABELS[role]) for role in Role]


class InviteForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter the email address of the person to invite."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    role = SelectField(
        "Role",
        choices=ROLE_CHOICES,
        default=str(Role.ANALYST),
        description="; ".join(f"{ROLE_LABELS[role]}: {ROLE_DESCRIPTIONS[role]}" for role in Role)
        + ".",
    )
    submit = SubmitField("Send invitation")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class ActionForm(FlaskForm):
    """A button-only form (remove, revoke): CSRF is its only field."""

    submit = SubmitField("Confirm")


class AcceptNewAccountForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    email = EmailField("Email", render_kw={"readonly": True})
    password = PasswordField(
        "Password",
        validators=[DataRequired(), NotObviousPassword("email")],
        description="At least 10 characters; not a common password.",
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )
    submit = SubmitField("Create account and join")


class AcceptExistingForm(FlaskForm):
    submit = SubmitField("Join the organisation")


class OrganisationSettingsForm(FlaskForm):
    name = StringField(
        "Organisation name",
        validators=[DataRequired("Enter the organisation's name."), Length(max=MAX_NAME_LENGTH)],
        description="Shown to your team, in reports and in invitations.",
    )
    submit = SubmitField("Save")
