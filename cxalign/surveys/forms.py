"""Forms of the survey pages. Rules beyond a single field live in ``operations``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cxalign.instruments.spec import GROUP_LABELS, GROUPS
from cxalign.surveys.operations import (
    MAX_ANONYMITY,
    MAX_COOLDOWN_HOURS,
    MAX_GAP_THRESHOLD,
    MIN_ANONYMITY,
    MIN_COOLDOWN_HOURS,
    MIN_GAP_THRESHOLD,
    SurveySettings,
)

GROUP_CHOICES = [SelectChoice(group, GROUP_LABELS[group]) for group in GROUPS]


class SurveyForm(FlaskForm):
    """Create a survey, or edit its settings (locked fields are removed by the view)."""

    title = StringField(
        "Title",
        validators=[DataRequired(), Length(max=200)],
        description="Respondents see it in their invitation and at the top of every page.",
    )
    instrument = SelectField(
        "Instrument",
        coerce=int,
        description="The matched questionnaire. It cannot change once the survey opens.",
    )
    introduction = TextAreaField(
        "Introduction for respondents (optional)",
        validators=[Optional(), Length(max=5000)],
        description="A few sentences from you on why this matters, shown before the questions.",
    )
    opens_on = DateField("Opening date", validators=[Optional()])
    closes_on = DateField(
        "Closing date",
        validators=[Optional()],
        description="Shown to respondents; close the survey with the Close button.",
    )
    anonymity_executive = IntegerField(
        "Anonymity threshold: executives",
        default=3,
        validators=[
            InputRequired(),
            NumberRange(MIN_ANONYMITY["executive"], MAX_ANONYMITY),
        ],
        description=(
            "No results are shown for executives until this many have completed. Below 3, "
            "executives are told before they answer that their answers may be attributable."
        ),
    )
    anonymity_cx = IntegerField(
        "Anonymity threshold: CX professionals",
        default=3,
        validators=[
            InputRequired(),
            NumberRange(MIN_ANONYMITY["cx_professional"], MAX_ANONYMITY),
        ],
        description="At least 3: no results are shown for CX professionals until this many "
        "have completed.",
    )
    gap_threshold = DecimalField(
        "Gap threshold (points on a 5-point scale)",
        default=0.5,
        places=2,
        validators=[InputRequired(), NumberRange(MIN_GAP_THRESHOLD, MAX_GAP_THRESHOLD)],
        description="A gap between the two groups' means at least this large is notable "
        "(0.5 points = 12.5% of the scale).",
        render_kw={"step": "0.05"},
    )
    reminder_cooldown_hours = IntegerField(
        "Hours between reminders",
        default=48,
        validators=[InputRequired(), NumberRange(MIN_COOLDOWN_HOURS, MAX_COOLDOWN_HOURS)],
        description="Nobody is reminded more often than this.",
    )
    anonymous_to_staff = BooleanField(
        "Anonymous to staff: never show anyone who has or has not answered",
        default=True,
        description="Recommended. When off, owners see who has not answered yet, to follow up "
        "in person. Once the survey has opened, this can be switched on but not off.",
    )
    submit = SubmitField("Create survey")

    def settings(self, current: SurveySettings | None = None) -> SurveySettings:
        """The form's values; fields the view removed keep ``current``'s values."""

        def value(name, default):
            return self[name].data if name in self._fields else default

        base = current or SurveySettings(title="")
        gap = value("gap_threshold", base.gap_threshold)
        return SurveySettings(
            title=value("title", base.title) or "",
            introduction=value("introduction", base.introduction) or "",
            opens_on=value("opens_on", base.opens_on),
            closes_on=value("closes_on", base.closes_on),
            anonymity_executive=value("anonymity_executive", base.anonymity_executive),
            anonymity_cx=value("anonymity_cx", base.anonymity_cx),
            gap_threshold=float(gap) if gap is not None else base.gap_threshold,
            reminder_cooldown_hours=value("reminder_cooldown_hours", base.reminder_cooldown_hours),
            anonymous_to_staff=bool(value("anonymous_to_staff", base.anonymous_to_staff)),
        )


class PasteRespondentsForm(FlaskForm):
    lines = TextAreaField(
        "Paste one respondent per line: email, group",
        validators=[DataRequired(message="Paste at least one line.")],
        description="Group is executive or cx_professional; an optional third column is the "
        "name. Commas, semicolons or tabs (straight from a spreadsheet) all work.",
        render_kw={
            "rows": 6,
            "placeholder": "ceo@example.com, executive\nmaria@example.com, cx_professional",
            "spellcheck": "false",
        },
    )
    submit = SubmitField("Add respondents")


class UploadRespondentsForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file."), FileSize(5 * 1024 * 1024)],
        description="Columns email,group[,name]; a header row is optional.",
        render_kw={"accept": ".csv,text/csv"},
    )
    submit = SubmitField("Upload")


class LinkOnlyRespondentForm(FlaskForm):
    group = SelectField("Group", choices=GROUP_CHOICES)
    name = StringField(
        "Label (optional)",
        validators=[Optional(), Length(max=200)],
        description="Only you see it, to remember whom you gave the link to.",
    )
    submit = SubmitField("Add and show link")


class NextWaveForm(FlaskForm):
    """Start the next wave of a survey (choices and the carry-over label set by the view)."""

    title = StringField(
        "Title of the new wave",
        validators=[DataRequired(), Length(max=200)],
        description="Respondents see it in their invitation and at the top of every page.",
    )
    instrument = SelectField(
        "Instrument",
        coerce=int,
        description="The same version keeps every dimension comparable. A newer version or "
        "another instrument works too, but trends only compare the dimensions present in "
        "both waves (matched by their code).",
    )
    carry_over = BooleanField(
        "Carry over respondents",
        default=True,
        description="Everyone on this wave's list who was not revoked or erased is invited "
        "again, each with a new personal link: the links of this wave keep opening this wave "
        "only. People who joined through an open link are not carried over; create an open "
        "link for the new wave instead.",
    )
    submit = SubmitField("Create the next wave as a draft")
