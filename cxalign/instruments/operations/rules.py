"""The rules every instrument operation shares: what is frozen, field types, the error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxalign.instruments.loader import (
    InstrumentError,
)
from cxalign.models import (
    Dimension,
    Item,
    SurveyStatus,
)

# Surveys in these states have (or had) respondents: their instrument version is frozen.
STARTED_STATUSES = (SurveyStatus.OPEN.value, SurveyStatus.CLOSED.value)

# Column widths in the database that the file format itself does not limit.
MAX_NAME_CHARS = 200


class InstrumentEditError(InstrumentError):
    """An edit, clone or import that cannot go ahead.

    ``problems`` lists every reason, as the file validator words them. ``fields`` holds
    the problems that belong to one field of the edited item or dimension, keyed
    ``"item.<field>"`` or ``"dimension.<field>"`` (the field names of the file format),
    with the location prefix removed; ``general`` holds the rest.
    """

    def __init__(
        self,
        problems: list[str] | tuple[str, ...] | str,
        *,
        fields: dict[str, list[str]] | None = None,
        general: list[str] | None = None,
    ) -> None:
        super().__init__(problems)
        self.fields: dict[str, list[str]] = fields or {}
        self.general: list[str] = self.problems if general is None else general


@dataclass(frozen=True)
class ItemFields:
    """What an owner can set on an item, in the file format's names."""

    code: str
    executive: str
    cx_professional: str
    scale: str  # the key of a scale: the instrument's own or the built-in file's
    reverse: bool = False
    dont_know: bool = False
    help: str | None = None

    @classmethod
    def of(cls, item: Item) -> ItemFields:
        return cls(
            code=item.code,
            executive=item.executive_text,
            cx_professional=item.cx_text,
            scale=item.scale_key,
            reverse=item.reverse,
            dont_know=item.dont_know,
            help=item.help_text,
        )

    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": clean_code(self.code),
            "executive": self.executive,
            "cx_professional": self.cx_professional,
            "scale": self.scale,
            "reverse": bool(self.reverse),
            "dont_know": bool(self.dont_know),
        }
        if self.help is not None and self.help.strip():
            data["help"] = self.help
        return data


@dataclass(frozen=True)
class DimensionFields:
    """What an owner can set on a dimension, in the file format's names."""

    code: str
    name: str
    importance: float = 0.5
    description: str = ""
    finding: str = ""

    @classmethod
    def of(cls, dimension: Dimension) -> DimensionFields:
        return cls(
            code=dimension.code,
            name=dimension.name,
            importance=dimension.importance,
            description=dimension.description,
            finding=dimension.finding,
        )

    def document(self) -> dict[str, Any]:
        return {
            "code": clean_code(self.code),
            "name": self.name,
            "description": self.description or "",
            "finding": self.finding or "",
            "importance": self.importance,
        }


def clean_code(code: str) -> str:
    return code.strip() if isinstance(code, str) else code
