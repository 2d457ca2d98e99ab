"""Instrument files: export one as YAML, import one as a new instrument."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from cxalign.extensions import db
from cxalign.instruments.loader import (
    InstrumentError,
    dump_instrument_yaml,
    load_instrument,
)
from cxalign.instruments.operations.editing import column_problems
from cxalign.instruments.operations.rules import InstrumentEditError
from cxalign.instruments.operations.versions import audit_instrument, same_family
from cxalign.instruments.store import save_instrument, spec_from_instrument
from cxalign.models import (
    Instrument,
    Organisation,
    User,
)


def export_filename(instrument: Instrument) -> str:
    """``<key>-v<version>.yaml``: keys are already safe in a file name."""
    return f"{instrument.key}-v{instrument.version}.yaml"


def export_instrument(instrument: Instrument) -> str:
    """The version as an instrument file (YAML), the same format that import reads."""
    return dump_instrument_yaml(spec_from_instrument(instrument))


def import_instrument_file(
    organisation: Organisation, file_bytes: bytes, *, user: User | None = None
) -> Instrument:
    """Validate an uploaded YAML or JSON instrument file and save it for the organisation.

    The file's key names the family. A key the organisation has not used yet keeps the
    file's version number; otherwise the file becomes the family's next version (surveys
    keep the versions they ran). Raises ``InstrumentEditError`` listing every problem;
    nothing is saved then.
    """
    try:
        spec = load_instrument(bytes(file_bytes))
    except InstrumentError as error:
        raise InstrumentEditError(error.problems) from None
    problems = column_problems(spec)
    if problems:
        raise InstrumentEditError(problems)
    previous = db.session.scalar(
        select(Instrument)
        .where(same_family(organisation.id, spec.key))
        .order_by(Instrument.version.desc())
        .limit(1)
    )
    version = spec.version if previous is None else previous.version + 1
    instrument = save_instrument(replace(spec, version=version), organisation_id=organisation.id)
    if previous is not None:
        instrument.based_on_id = previous.id
    db.session.flush()
    audit_instrument(
        instrument,
        user,
        "instrument.imported",
        file_version=spec.version,
        items=len(spec.items),
        dimensions=len(spec.dimensions),
    )
    return instrument
