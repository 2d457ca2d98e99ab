from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from cxalign.auth.passwords import password_problem


class NotObviousPassword:
    """Checks the password against length and common-password rules."""

    def __init__(self, email_field: str | None = None):
        self.email_field = email_field

    def __call__(self, form, field) -> None:
        email = form[self.email_field].data if self.email_field else ""
        problem = password_problem(field.data or "", email or "")
        if problem:
            raise ValidationError(problem)


class SignupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Work email", validators=[DataRequired(), Email(), Length(max=254)])
    organisation = StringField(
        "Organisation",
        validators=[DataRequired(), Length(max=200)],
        description="The company whose executives and CX team you will survey.",
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), NotObviousPassword("email")],
        description="At least 10 characters; not a common password.",
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in on this device")
    submit = SubmitField("Log in")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField(
        "New password",
        validators=[DataRequired(), NotObviousPassword()],
        description="At least 10 characters; not a common password.",
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )
    submit = SubmitField("Change password")
