"""Forms of the API token settings page. Rules beyond a single field live in ``tokens``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from cxalign.api.tokens import MAX_NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired("Give the token a name, such as the system that will use it."),
            Length(max=MAX_NAME_LENGTH),
        ],
        description="Says where the token is used, e.g. “BI dashboard” or “Quarterly export”.",
    )
    submit = SubmitField("Create token")
