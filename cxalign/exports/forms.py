"""Forms of the Data page: the retention period and the purge confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SubmitField
from wtforms.validators import DataRequired, NumberRange, Optional, StopValidation

from cxalign.surveys.retention import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS


class DaysField(IntegerField):
    """A whole number of days; WTForms' own "Not a valid integer value." says too little."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(
                "Enter the number of days as a whole number (e.g. 365), or leave it empty."
            ) from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # one message is enough: not also "from 1 to 3650"


class RetentionForm(FlaskForm):
    retention_days = DaysField(
        "Keep personal data for (days after closing)",
        validators=[
            Optional(),
            NumberRange(
                MIN_RETENTION_DAYS,
                MAX_RETENTION_DAYS,
                f"Enter a number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}, "
                "or leave it empty.",
            ),
        ],
        description="Emails, names, import ids and messages are purged this many days after "
        "the survey closes; answers and comments stay. Leave empty to keep them until you "
        "purge by hand.",
        render_kw={"inputmode": "numeric", "min": MIN_RETENTION_DAYS, "max": MAX_RETENTION_DAYS},
    )
    submit = SubmitField("Save retention")


class PurgeForm(FlaskForm):
    confirm = BooleanField(
        "I understand that emails, names, import ids, messages and every link of this "
        "survey are removed for good, and that the survey can never reopen.",
        validators=[DataRequired("Tick the box to confirm the purge.")],
    )
    early = BooleanField(
        "Purge now, before the retention period ends.",
    )
    submit = SubmitField("Purge personal data")
