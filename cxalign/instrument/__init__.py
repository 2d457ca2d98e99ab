"""Matched instruments: the spec dataclasses, the built-in file and its loader.

Pure Python (no Flask, no database): the views and models translate to and from
these objects.
"""

from cxalign.instrument.loader import (
    FORMAT,
    SCALE_KINDS,
    InstrumentError,
    dump_instrument,
    dump_instrument_yaml,
    load_builtin,
    load_instrument,
)
from cxalign.instrument.spec import (
    GROUP_LABELS,
    GROUPS,
    DimensionSpec,
    InstrumentSpec,
    ItemSpec,
    OpenQuestionSpec,
    Scale,
)

__all__ = [
    "FORMAT",
    "GROUPS",
    "GROUP_LABELS",
    "SCALE_KINDS",
    "DimensionSpec",
    "InstrumentError",
    "InstrumentSpec",
    "ItemSpec",
    "OpenQuestionSpec",
    "Scale",
    "dump_instrument",
    "dump_instrument_yaml",
    "load_builtin",
    "load_instrument",
]
