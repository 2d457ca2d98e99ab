"""The limits that the survey forms, the CLI and the operations share, and their error."""

from __future__ import annotations

from flask import current_app

from cxalign.models import (
    Group,
    Survey,
)

# Limits that the forms, the CLI and these functions share.
MIN_ANONYMITY = {Group.EXECUTIVE.value: 1, Group.CX_PROFESSIONAL.value: 3}
MAX_ANONYMITY = 50
# Below this many executives, each executive's answers may be attributable to them.
ATTRIBUTABLE_BELOW = 3
MIN_GAP_THRESHOLD = 0.1
MAX_GAP_THRESHOLD = 2.0
MIN_COOLDOWN_HOURS = 1
MAX_COOLDOWN_HOURS = 24 * 30
MAX_IMPORT_ROWS = 10_000


class SurveyError(ValueError):
    """A survey operation that cannot go ahead, with a reason fit to show the owner."""


def survey_target(survey: Survey) -> str:
    return f"survey:{survey.id}"


def secret_key() -> str:
    return current_app.config["SECRET_KEY"]
