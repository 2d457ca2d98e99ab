"""Forms of the instrument pages.

They check only what a person must fill in; every other rule (code format, unique codes,
known scales, lengths) is the instrument file validator's, reached through
``cxalign.instruments.operations``, so that forms and uploaded files get the same messages.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DecimalField,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from cxalign.instruments.loader import MAX_SOURCE_CHARS
from cxalign.instruments.operations import MAX_NAME_CHARS, DimensionFields, ItemFields
from cxalign.instruments.spec import Scale

SCALE_KIND_LABELS = {"agreement": "Agreement", "frequency": "Frequency", "extent": "Extent"}


def scale_label(scale: Scale) -> str:
    """“Agreement, 5 points: Strongly disagree … Strongly agree”."""
    kind = SCALE_KIND_LABELS.get(scale.kind, scale.kind.capitalize())
    return f"{kind}, {scale.points} points: {scale.labels[0]} … {scale.labels[-1]}"


class ItemFieldsMixin:
    """The fields of one item; shared by the item form and a new dimension's first item."""

    code = StringField(
        "Item code",
        validators=[DataRequired("Give the item a code, for example LEAD_FOCUS_5.")],
        description="Capital letters, digits and underscores, starting with a letter. It names "
        "the item's column in response imports and exports, and should not change once used.",
        render_kw={"autocapitalize": "characters", "spellcheck": "false", "maxlength": 40},
    )
    executive = TextAreaField(
        "Executives are asked",
        validators=[
            DataRequired("Both wordings are required: write what executives are asked."),
        ],
        description="Ask about the executive's own behaviour (“you”, “we”).",
        render_kw={"rows": 3},
    )
    cx_professional = TextAreaField(
        "CX professionals are asked",
        validators=[
            DataRequired("Both wordings are required: write what CX professionals are asked."),
        ],
        description="Ask about the same thing as the CX team sees it (“our executives”).",
        render_kw={"rows": 3},
    )
    scale = SelectField("Response scale")
    reverse = BooleanField(
        "Reverse-coded: agreeing (a higher answer) describes a weaker practice",
        description="Answers are flipped before scoring, so that higher always means better.",
    )
    dont_know = BooleanField(
        "Offer “Don't know / not applicable”",
        description="For things one side may honestly not see. Such answers are left out of "
        "means and reported as a share of their own.",
    )
    help = TextAreaField(
        "Help text (optional)",
        validators=[Optional()],
        description="Shown under the question to both groups, where a word could be read two ways.",
        render_kw={"rows": 2},
    )

    def item_fields(self) -> ItemFields:
        return ItemFields(
            code=(self.code.data or "").strip(),
            executive=self.executive.data or "",
            cx_professional=self.cx_professional.data or "",
            scale=self.scale.data or "",
            reverse=bool(self.reverse.data),
            dont_know=bool(self.dont_know.data),
            help=(self.help.data or "").strip() or None,
        )


def set_scale_choices(field: SelectField, scales: dict[str, Scale]) -> None:
    field.choices = [SelectChoice(key, scale_label(scale)) for key, scale in scales.items()]


class ItemForm(ItemFieldsMixin, FlaskForm):
    """Add or edit an item."""

    dimension = SelectField(
        "Dimension",
        coerce=int,
        description="Moving an item to another dimension puts it at the end of that dimension.",
    )
    submit = SubmitField("Save item")


class FirstItemForm(ItemFieldsMixin, Form):
    """A new dimension's first item (nested: the outer form carries the CSRF token)."""


class DimensionFieldsMixin:
    code = StringField(
        "Dimension code",
        validators=[DataRequired("Give the dimension a code, for example LEAD_FOCUS.")],
        description="Capital letters, digits and underscores, starting with a letter.",
        render_kw={"autocapitalize": "characters", "spellcheck": "false", "maxlength": 40},
    )
    name = StringField(
        "Name",
        validators=[DataRequired("Give the dimension a name."), Length(max=MAX_NAME_CHARS)],
        description="What the dimension measures, as reports will title it.",
    )
    importance = DecimalField(
        "Importance (0 to 1)",
        default=0.5,
        places=2,
        validators=[
            InputRequired("Give an importance from 0 to 1."),
            NumberRange(0, 1, "Importance must be between 0 and 1."),
        ],
        description="Weights the dimension in the alignment index and in priorities: "
        "1 = critical, 0.5 = average.",
        render_kw={"step": "0.05", "min": "0", "max": "1", "inputmode": "decimal"},
    )
    description = TextAreaField(
        "Description (optional)",
        validators=[Optional()],
        description="One sentence on what the dimension covers.",
        render_kw={"rows": 2},
    )
    finding = TextAreaField(
        "Research finding (optional)",
        validators=[Optional()],
        description="Why it matters: the evidence behind the dimension, shown in the preview.",
        render_kw={"rows": 3},
    )

    def dimension_fields(self) -> DimensionFields:
        return DimensionFields(
            code=(self.code.data or "").strip(),
            name=self.name.data or "",
            importance=float(self.importance.data),
            description=(self.description.data or "").strip(),
            finding=(self.finding.data or "").strip(),
        )


class DimensionForm(DimensionFieldsMixin, FlaskForm):
    """Edit a dimension."""

    submit = SubmitField("Save dimension")


class NewDimensionForm(DimensionFieldsMixin, FlaskForm):
    """Add a dimension together with its first item: a dimension is never empty."""

    item = FormField(FirstItemForm, label="First item")
    submit = SubmitField("Add dimension")


class DetailsForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Give the instrument a name."), Length(max=MAX_NAME_CHARS)],
    )
    description = TextAreaField(
        "Description (optional)",
        validators=[Optional()],
        description="Shown at the top of the preview.",
        render_kw={"rows": 4},
    )
    submit = SubmitField("Save details")


class CloneForm(FlaskForm):
    name = StringField(
        "Name of your copy",
        validators=[DataRequired("Give the copy a name."), Length(max=MAX_NAME_CHARS)],
        description="Your organisation's copy starts as version 1. You can edit it until a "
        "survey that uses it opens.",
    )
    submit = SubmitField("Clone instrument")


class MoveForm(FlaskForm):
    """Move buttons post one of these; ``dimension`` names a dimension when moving one."""

    direction = HiddenField(validators=[AnyOf(("up", "down"))])
    dimension = HiddenField()


class RemoveForm(FlaskForm):
    dimension = HiddenField()


class ImportForm(FlaskForm):
    file = FileField(
        "Instrument file (YAML or JSON)",
        validators=[
            FileRequired("Choose an instrument file to import."),
            FileAllowed(("yaml", "yml", "json"), "Choose a .yaml, .yml or .json file."),
            FileSize(MAX_SOURCE_CHARS, message="The file is larger than 2 MB."),
        ],
        description="If your organisation already has an instrument with the file's key, the "
        "file becomes its next version; surveys keep the versions they ran.",
        render_kw={"accept": ".yaml,.yml,.json,application/json,application/yaml,text/yaml"},
    )
    submit = SubmitField("Import and check")
