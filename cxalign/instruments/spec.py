"""Plain, immutable description of a matched instrument.

These dataclasses are the contract between the instrument file, the database
and the scoring engine: the loader produces them, the models can be turned into
them, and scoring consumes them. They import neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = ("executive", "cx_professional")
GROUP_LABELS = {"executive": "Executives", "cx_professional": "CX professionals"}


@dataclass(frozen=True)
class Scale:
    """A response scale: ``points`` labelled anchors scored 1..points."""

    key: str
    kind: str  # "agreement", "frequency", "extent"
    labels: tuple[str, ...]

    @property
    def points(self) -> int:
        return len(self.labels)

    @property
    def minimum(self) -> int:
        return 1

    @property
    def maximum(self) -> int:
        return self.points


@dataclass(frozen=True)
class ItemSpec:
    code: str
    executive: str  # wording shown to executives
    cx_professional: str  # wording shown to CX professionals
    scale: Scale
    reverse: bool = False
    dont_know: bool = False  # whether "Don't know / not applicable" is offered
    help: str | None = None

    def wording(self, group: str) -> str:
        return self.executive if group == "executive" else self.cx_professional


@dataclass(frozen=True)
class DimensionSpec:
    code: str
    name: str
    description: str
    importance: float  # 0..1, weights priorities and the alignment index
    items: tuple[ItemSpec, ...]
    # The research finding that motivates the dimension; shown in docs and reports.
    finding: str = ""


@dataclass(frozen=True)
class OpenQuestionSpec:
    code: str
    group: str  # "executive" or "cx_professional"
    text: str


@dataclass(frozen=True)
class InstrumentSpec:
    key: str
    version: int
    name: str
    description: str
    dimensions: tuple[DimensionSpec, ...]
    open_questions: tuple[OpenQuestionSpec, ...] = field(default=())

    @property
    def items(self) -> tuple[ItemSpec, ...]:
        return tuple(item for dim in self.dimensions for item in dim.items)

    @property
    def scales(self) -> tuple[Scale, ...]:
        """The distinct scales the items use, in order of first use."""
        seen: dict[Scale, None] = {}
        for item in self.items:
            seen.setdefault(item.scale, None)
        return tuple(seen)

    def item(self, code: str) -> ItemSpec:
        """The item with this code; ``KeyError`` if there is none."""
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def open_questions_for(self, group: str) -> tuple[OpenQuestionSpec, ...]:
        """The free-text questions shown to one group, in file order."""
        return tuple(q for q in self.open_questions if q.group == group)

    def dimension_of(self, item_code: str) -> DimensionSpec:
        for dim in self.dimensions:
            if any(item.code == item_code for item in dim.items):
                return dim
        raise KeyError(item_code)
