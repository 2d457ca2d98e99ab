"""Instruments in the database: saving a spec as rows and reading rows back as a spec.

The spec (``cxalign.instruments.spec``) is what scoring and import/export understand;
the rows are what surveys point at and what owners edit. These two functions are the
only translation between them.
"""

from __future__ import annotations

from sqlalchemy import select

from cxalign.extensions import db
from cxalign.instruments.loader import load_builtin
from cxalign.instruments.spec import (
    DimensionSpec,
    InstrumentSpec,
    ItemSpec,
    OpenQuestionSpec,
    Scale,
)
from cxalign.models import Dimension, Instrument, Item, OpenQuestion


def save_instrument(spec: InstrumentSpec, *, organisation_id: int | None) -> Instrument:
    """Add the spec as a new instrument version (rows only; the caller commits)."""
    instrument = Instrument(
        organisation_id=organisation_id,
        key=spec.key,
        version=spec.version,
        name=spec.name,
        description=spec.description,
    )
    for d_position, dim in enumerate(spec.dimensions):
        dimension = Dimension(
            instrument=instrument,
            position=d_position,
            code=dim.code,
            name=dim.name,
            description=dim.description,
            finding=dim.finding,
            importance=dim.importance,
        )
        for i_position, item in enumerate(dim.items):
            Item(
                instrument=instrument,
                dimension=dimension,
                position=i_position,
                code=item.code,
                executive_text=item.executive,
                cx_text=item.cx_professional,
                scale_key=item.scale.key,
                scale_kind=item.scale.kind,
                scale_labels=list(item.scale.labels),
                reverse=item.reverse,
                dont_know=item.dont_know,
                help_text=item.help,
            )
    for q_position, question in enumerate(spec.open_questions):
        OpenQuestion(
            instrument=instrument,
            position=q_position,
            code=question.code,
            group=question.group,
            text=question.text,
        )
    db.session.add(instrument)
    db.session.flush()
    return instrument


def spec_from_instrument(instrument: Instrument) -> InstrumentSpec:
    """Read an instrument version back as a spec, for scoring and export."""
    scales: dict[tuple, Scale] = {}

    def scale_of(item: Item) -> Scale:
        key = (item.scale_key, item.scale_kind, tuple(item.scale_labels))
        return scales.setdefault(key, Scale(key=key[0], kind=key[1], labels=key[2]))

    dimensions = tuple(
        DimensionSpec(
            code=dim.code,
            name=dim.name,
            description=dim.description,
            importance=dim.importance,
            finding=dim.finding,
            items=tuple(
                ItemSpec(
                    code=item.code,
                    executive=item.executive_text,
                    cx_professional=item.cx_text,
                    scale=scale_of(item),
                    reverse=item.reverse,
                    dont_know=item.dont_know,
                    help=item.help_text,
                )
                for item in dim.items
            ),
        )
        for dim in instrument.dimensions
    )
    return InstrumentSpec(
        key=instrument.key,
        version=instrument.version,
        name=instrument.name,
        description=instrument.description,
        dimensions=dimensions,
        open_questions=tuple(
            OpenQuestionSpec(code=q.code, group=q.group, text=q.text)
            for q in instrument.open_questions
        ),
    )


def ensure_builtin_instrument() -> Instrument:
    """The built-in instrument's current version in the database, added on first use."""
    spec = load_builtin()
    instrument = db.session.scalar(
        select(Instrument).where(
            Instrument.organisation_id.is_(None),
            Instrument.key == spec.key,
            Instrument.version == spec.version,
        )
    )
    return instrument or save_instrument(spec, organisation_id=None)
