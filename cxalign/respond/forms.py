"""The questionnaire page form, built at run time from the page's items.

Each Likert item is a ``RadioField`` named ``item_<CODE>`` with the choices ``1..points``
(plus ``dk`` where the item offers "Don't know / not applicable"); each open question
of the final page is a ``TextAreaField`` named ``comment_<CODE>``. No question is
required: respondents may skip any of them.

Beyond the fields' own checks, the form refuses a tampered submission: a question
that is not on this page, two values for one question, or an unknown navigation
button. Nothing is saved from a form that does not validate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import Length, Optional

from cxalign.respond.answers import (
    COMMENT_MAX_LENGTH,
    DONT_KNOW,
    DONT_KNOW_LABEL,
    Answer,
    QuestionPage,
)

ITEM_PREFIX = "item_"
COMMENT_PREFIX = "comment_"
NAV_FIELD = "nav"


def item_field_name(item) -> str:
    return f"{ITEM_PREFIX}{item.code}"


def comment_field_name(question) -> str:
    return f"{COMMENT_PREFIX}{question.code}"


@dataclass(frozen=True)
class Navigation:
    """Where the respondent goes after saving: a page number (0 = the welcome page)."""

    target: int
    submit: bool = False


class SubmittedDataMeta:
    """Keeps the submitted form data so that ``validate`` can look for tampering."""

    submitted_formdata: MultiDict | None = None

    def wrap_formdata(self, form, formdata):
        wrapped = super().wrap_formdata(form, formdata)
        self.submitted_formdata = wrapped
        return wrapped

    def formdata_values(self, name: str) -> list[str]:
        return self.submitted_formdata.getlist(name) if self.submitted_formdata else []


class AnswerPageForm(FlaskForm):
    """Base class of the page forms; see :func:`build_page_form`."""

    Meta = SubmittedDataMeta
    page: QuestionPage
    page_count: int

    @property
    def item_fields(self):
        return [(item, self[item_field_name(item)]) for item in self.page.items]

    @property
    def comment_fields(self):
        return [(q, self[comment_field_name(q)]) for q in self.page.open_questions]

    def navigation(self) -> Navigation | None:
        """The button the respondent pressed, or None when the value is not one we offer.

        No button (a script, or Enter on some browsers) means "Next", or on the final
        page "save and stay".
        """
        values = self.meta.formdata_values(NAV_FIELD) if self.is_submitted() else []
        if len(values) > 1:
            return None
        value = values[0] if values else ""
        number = self.page.number
        if value in ("", "next") and not self.page.is_final:
            return Navigation(number + 1)
        if value == "" and self.page.is_final:
            return Navigation(number)
        if value == "back":
            return Navigation(number - 1)
        if value == "submit" and self.page.is_final:
            return Navigation(number, submit=True)
        if value.startswith("goto-") and value[5:].isascii() and value[5:].isdigit():
            target = int(value[5:])
            if 1 <= target <= self.page_count:
                return Navigation(target)
        return None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        formdata = self.meta.submitted_formdata
        if formdata is None:
            return valid
        known = {field.name for field in self}
        unknown = sorted(
            key
            for key in formdata
            if key.startswith((ITEM_PREFIX, COMMENT_PREFIX)) and key not in known
        )
        if unknown:
            self.form_errors.append(
                "This page was sent with questions that are not on it, so nothing was saved. "
                "Please answer the questions below and try again."
            )
            valid = False
        for name in sorted(known - {"csrf_token"}):
            if len(formdata.getlist(name)) > 1:
                self[name].errors.append("Choose only one answer.")
                valid = False
        if self.navigation() is None:
            self.form_errors.append(
                "We could not tell where you wanted to go next, so nothing was saved. "
                "Please use the buttons below."
            )
            valid = False
        return valid

    def answers(self) -> dict[int, Answer | None]:
        """Item id → value, ``DONT_KNOW`` or None (not answered), from validated data."""
        result: dict[int, Answer | None] = {}
        for item, field in self.item_fields:
            data = field.data
            if data in (None, "", "None"):
                result[item.id] = None
            elif data == DONT_KNOW:
                result[item.id] = DONT_KNOW
            else:
                result[item.id] = int(data)
        return result

    def comments(self) -> dict[int, str | None]:
        """Open question id → text; None when the field was not sent at all."""
        formdata = self.meta.submitted_formdata
        return {
            question.id: (field.data or "")
            if formdata is not None and field.name in formdata
            else None
            for question, field in self.comment_fields
        }


def scale_choices(item) -> list[SelectChoice]:
    """The item's options: its scale values 1..points, then "Don't know" if it offers it."""
    choices = [
        SelectChoice(str(value), label) for value, label in enumerate(item.scale_labels, start=1)
    ]
    if item.dont_know:
        choices.append(SelectChoice(DONT_KNOW, DONT_KNOW_LABEL))
    return choices


def build_page_form(
    page: QuestionPage,
    page_count: int,
    group: str,
    saved_answers: dict[int, Answer],
    saved_comments: dict[int, str],
    **kwargs,
) -> AnswerPageForm:
    """The form for one page, filled in with what the respondent saved earlier.

    Submitted values (on POST) take precedence over saved ones; a question the
    submission leaves out keeps showing its saved answer.
    """
    data = {
        item_field_name(item): str(saved_answers[item.id])
        for item in page.items
        if item.id in saved_answers
    }
    data.update(
        (comment_field_name(question), saved_comments[question.id])
        for question in page.open_questions
        if question.id in saved_comments
    )
    return page_form_class(page, page_count, group)(data=data, **kwargs)


@functools.lru_cache(maxsize=1024)
def page_form_class(page: QuestionPage, page_count: int, group: str) -> type[AnswerPageForm]:
    """The form class of one page for one group. Pages are immutable values, so the class
    is built once per process rather than on every request."""
    fields = {}
    for item in page.items:
        fields[item_field_name(item)] = RadioField(
            item.wording(group),
            choices=scale_choices(item),
            validators=[Optional()],
            description=item.help_text or "",
            invalid_choice_message=(
                f"That is not one of the options for this question. "
                f"Choose one of the {item.points} options"
                + (f' or "{DONT_KNOW_LABEL}".' if item.dont_know else ".")
            ),
        )
    for question in page.open_questions:
        fields[comment_field_name(question)] = TextAreaField(
            question.text,
            validators=[
                Optional(),
                Length(
                    max=COMMENT_MAX_LENGTH,
                    message=f"Please keep this under {COMMENT_MAX_LENGTH:,} characters.",
                ),
            ],
        )
    return type(
        "AnswerPageForm", (AnswerPageForm,), {**fields, "page": page, "page_count": page_count}
    )
