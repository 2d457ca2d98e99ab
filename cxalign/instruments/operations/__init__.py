"""Customising instruments: clone, edit, version, import and export.

* ``versions``: what an organisation sees, what is in use (frozen), clones and new versions.
* ``editing``: items and dimensions added, changed, moved and removed.
* ``files``: export and import of instrument files.
* ``rules``: the shared limits, field types and :class:`InstrumentEditError`.

Views, the CLI and tests call these functions; none reads request state. They add and
flush rows but never commit: the caller decides when a unit of work is done.

The rules, in one place:

* The built-in instrument is never edited: an owner clones it for their organisation
  and edits the copy.
* An organisation's instrument version is *editable* while no survey that has opened
  (status ``open`` or ``closed``) uses it. Draft surveys may point at it: they have no
  answers yet, and they simply follow the edits.
* A version in use is *frozen*: editing it never changes it. The change is saved as a new
  version instead (same key, the family's highest version + 1, ``based_on_id`` pointing at
  the edited version), so a survey always keeps the exact items it ran. Drafts that pointed
  at the old version keep pointing at it until their owner picks the new one.
* Every edit is checked by the instrument file's own validator
  (:func:`cxalign.instruments.loader.load_instrument`): the edited instrument is written out
  as a file document, changed, and read back. A form, an imported file and the built-in file
  therefore obey the same rules and get the same messages.
* An instrument keeps at least one dimension, and every dimension at least one item:
  removing a dimension removes its items; the last item of a dimension, or the last
  dimension, cannot be removed.
"""

# The loader's error: what an imported file that does not validate raises.
from cxalign.instruments.loader import InstrumentError
from cxalign.instruments.operations.editing import (
    DIMENSION_FIELD_WORDS,
    ITEM_FIELD_WORDS,
    add_dimension,
    add_item,
    column_problems,
    move_dimension,
    move_item,
    remove_dimension,
    remove_item,
    update_details,
    update_dimension,
    update_item,
    validate_document,
)
from cxalign.instruments.operations.files import (
    export_filename,
    export_instrument,
    import_instrument_file,
)
from cxalign.instruments.operations.rules import (
    MAX_NAME_CHARS,
    STARTED_STATUSES,
    DimensionFields,
    InstrumentEditError,
    ItemFields,
    clean_code,
)
from cxalign.instruments.operations.versions import (
    BUILTIN_READ_ONLY,
    audit_instrument,
    clone_instrument,
    default_clone_name,
    editable,
    editable_version,
    is_frozen,
    item_counts,
    latest_version,
    new_version,
    new_version_notice,
    same_family,
    scale_choices,
    slugify,
    survey_counts,
    surveys_using,
    visible_instruments,
)

__all__ = [
    "BUILTIN_READ_ONLY",
    "DIMENSION_FIELD_WORDS",
    "ITEM_FIELD_WORDS",
    "MAX_NAME_CHARS",
    "STARTED_STATUSES",
    "DimensionFields",
    "InstrumentEditError",
    "InstrumentError",
    "ItemFields",
    "add_dimension",
    "add_item",
    "audit_instrument",
    "clean_code",
    "clone_instrument",
    "column_problems",
    "default_clone_name",
    "editable",
    "editable_version",
    "export_filename",
    "export_instrument",
    "import_instrument_file",
    "is_frozen",
    "item_counts",
    "latest_version",
    "move_dimension",
    "move_item",
    "new_version",
    "new_version_notice",
    "remove_dimension",
    "remove_item",
    "same_family",
    "scale_choices",
    "slugify",
    "survey_counts",
    "surveys_using",
    "update_details",
    "update_dimension",
    "update_item",
    "validate_document",
    "visible_instruments",
]
