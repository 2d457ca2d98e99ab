"""Editing an instrument: the change written into its file document, validated, synchronised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from cxalign.extensions import db
from cxalign.instruments.loader import (
    InstrumentError,
    dump_instrument,
    load_instrument,
)
from cxalign.instruments.operations.rules import (
    MAX_NAME_CHARS,
    DimensionFields,
    InstrumentEditError,
    ItemFields,
    clean_code,
)
from cxalign.instruments.operations.versions import (
    BUILTIN_READ_ONLY,
    editable_version,
    scale_choices,
)
from cxalign.instruments.spec import InstrumentSpec
from cxalign.instruments.store import spec_from_instrument
from cxalign.models import (
    Dimension,
    Instrument,
    Item,
    User,
)


def _document(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a mutable file document (the loader's input)."""
    return dump_instrument(spec_from_instrument(instrument))


def _add_scale(document: dict[str, Any], key: Any, instrument: Instrument) -> None:
    """Make the scale an item names available to the document, if it is a known one."""
    if not isinstance(key, str) or key in document["scales"]:
        return
    scale = scale_choices(instrument).get(key)
    if scale is not None:
        document["scales"][key] = {"kind": scale.kind, "labels": list(scale.labels)}


def _dimension_where(document: dict[str, Any], index: int) -> str:
    where = f"dimensions[{index}]"
    code = document["dimensions"][index].get("code")
    return f"{where} ({code})" if isinstance(code, str) and code else where


def _item_where(document: dict[str, Any], index: int, position: int) -> str:
    where = _dimension_where(document, index)
    code = document["dimensions"][index]["items"][position].get("code")
    return (
        f"{where} item {code}" if isinstance(code, str) and code else f"{where} items[{position}]"
    )


# Which field a validator message is about, by the words it uses (first match wins).
ITEM_FIELD_WORDS = (
    ("'executive' wording", "executive"),
    ("'cx_professional' wording", "cx_professional"),
    ("'help'", "help"),
    ("scale", "scale"),
    ("'reverse'", "reverse"),
    ("'dont_know'", "dont_know"),
    ("code", "code"),
)
DIMENSION_FIELD_WORDS = (
    ("'name'", "name"),
    ("'description'", "description"),
    ("'finding'", "finding"),
    ("'importance'", "importance"),
    ("code", "code"),
)


def _field_of(message: str, words: tuple[tuple[str, str], ...]) -> str | None:
    for word, field in words:
        if word in message:
            return field
    return None


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def _edit_error(
    problems: list[str],
    document: dict[str, Any],
    *,
    item_at: tuple[int, int] | None = None,
    dimension_at: int | None = None,
) -> InstrumentEditError:
    """Sort the validator's problems into the edited item's and dimension's fields."""
    places: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []
    if item_at is not None:
        places.append((_item_where(document, *item_at) + ": ", "item", ITEM_FIELD_WORDS))
    if dimension_at is not None:
        places.append(
            (_dimension_where(document, dimension_at) + ": ", "dimension", DIMENSION_FIELD_WORDS)
        )
    item_code = None
    if item_at is not None:
        item_code = document["dimensions"][item_at[0]]["items"][item_at[1]].get("code")
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in problems:
        placed = False
        for prefix, element, words in places:
            if problem.startswith(prefix):
                message = problem[len(prefix) :]
                field = _field_of(message, words)
                if field is not None:
                    fields.setdefault(f"{element}.{field}", []).append(_sentence(message))
                    placed = True
                break
        if (
            not placed
            and item_code
            and problem.startswith("open_questions[")
            and "code already used by an item" in problem
            and f"({item_code})" in problem
        ):
            fields.setdefault("item.code", []).append(
                "This code is already used by a free-text question of this instrument."
            )
            placed = True
        if not placed and item_code and f"item {item_code}: duplicate code" in problem:
            # The loader reports a duplicate where it meets it second, which may be the
            # other item: the owner still has to change the code of the one they edit.
            fields.setdefault("item.code", []).append(
                f"Duplicate code: another item of this instrument is already {item_code}."
            )
            placed = True
        if not placed:
            general.append(problem)
    return InstrumentEditError(problems, fields=fields, general=general)


def column_problems(spec: InstrumentSpec) -> list[str]:
    """Limits of the database that the file format does not have."""
    problems = []
    if len(spec.name) > MAX_NAME_CHARS:
        problems.append(
            f"name: too long ({len(spec.name)} characters, at most {MAX_NAME_CHARS} "
            "for an instrument's name)"
        )
    for i, dim in enumerate(spec.dimensions):
        if len(dim.name) > MAX_NAME_CHARS:
            problems.append(
                f"dimensions[{i}] ({dim.code}): 'name' is too long ({len(dim.name)} "
                f"characters, at most {MAX_NAME_CHARS})"
            )
    return problems


def validate_document(
    document: dict[str, Any],
    *,
    item_at: tuple[int, int] | None = None,
    dimension_at: int | None = None,
) -> InstrumentSpec:
    """Read a file document back through the loader, as an upload would be.

    Raises ``InstrumentEditError`` with every problem; those about the item at
    ``item_at`` (dimension index, item index) or the dimension at ``dimension_at`` are
    also sorted into their fields.
    """
    try:
        spec = load_instrument(document)
    except InstrumentError as error:
        raise _edit_error(
            error.problems, document, item_at=item_at, dimension_at=dimension_at
        ) from None
    problems = column_problems(spec)
    if problems:
        raise _edit_error(problems, document, item_at=item_at, dimension_at=dimension_at)
    return spec


def _sync_rows(
    instrument: Instrument,
    spec: InstrumentSpec,
    *,
    item_renames: dict[str, str] | None = None,
    dimension_renames: dict[str, str] | None = None,
) -> None:
    """Make ``instrument``'s rows say what ``spec`` says, keeping rows (and ids) by code.

    Rows whose code is gone are deleted; a renamed code keeps its row.
    """
    instrument.name = spec.name
    instrument.description = spec.description
    dimensions = {d.code: d for d in instrument.dimensions}
    items = {i.code: i for d in instrument.dimensions for i in d.items}
    for old, new in (dimension_renames or {}).items():
        if old in dimensions:
            dimensions[new] = dimensions.pop(old)
    for old, new in (item_renames or {}).items():
        if old in items:
            items[new] = items.pop(old)

    keep_items: set[int] = set()
    keep_dimensions: set[int] = set()
    for d_position, dim in enumerate(spec.dimensions):
        row = dimensions.get(dim.code)
        if row is None:
            row = Dimension(instrument=instrument)
            db.session.add(row)
        row.position = d_position
        row.code = dim.code
        row.name = dim.name
        row.description = dim.description
        row.finding = dim.finding
        row.importance = dim.importance
        for i_position, spec_item in enumerate(dim.items):
            item = items.get(spec_item.code)
            if item is None:
                item = Item(instrument=instrument)
                db.session.add(item)
            item.dimension = row
            item.position = i_position
            item.code = spec_item.code
            item.executive_text = spec_item.executive
            item.cx_text = spec_item.cx_professional
            item.scale_key = spec_item.scale.key
            item.scale_kind = spec_item.scale.kind
            item.scale_labels = list(spec_item.scale.labels)
            item.reverse = spec_item.reverse
            item.dont_know = spec_item.dont_know
            item.help_text = spec_item.help
            keep_items.add(id(item))
        keep_dimensions.add(id(row))
    for item in items.values():
        if id(item) not in keep_items:
            if item in item.dimension.items:
                item.dimension.items.remove(item)
            db.session.delete(item)
    for row in dimensions.values():
        if id(row) not in keep_dimensions:
            instrument.dimensions.remove(row)
            db.session.delete(row)
    db.session.flush()
    # Collections are ordered by position only when loaded: load them again.
    db.session.expire(instrument, ["dimensions"])
    for row in instrument.dimensions:
        db.session.expire(row, ["items"])


@dataclass(frozen=True)
class _Edit:
    """A validated change, ready to go to the right version."""

    spec: InstrumentSpec
    item_renames: dict[str, str]
    dimension_renames: dict[str, str]


def _commit(
    instrument: Instrument,
    change: Callable[[dict[str, Any]], tuple[tuple[int, int] | None, int | None]],
    *,
    user: User | None,
    item_renames: dict[str, str] | None = None,
    dimension_renames: dict[str, str] | None = None,
) -> Instrument:
    """Apply ``change`` to the instrument's document, validate it, and save it.

    ``change`` edits the document in place and returns where the edited item and
    dimension now are, for error messages. Nothing is written when validation fails
    or when nothing changed (so a no-op never makes a new version).
    """
    if instrument.is_builtin:
        raise InstrumentEditError(BUILTIN_READ_ONLY)
    before = spec_from_instrument(instrument)
    document = dump_instrument(before)
    item_at, dimension_at = change(document)
    spec = validate_document(document, item_at=item_at, dimension_at=dimension_at)
    if spec == before:
        return instrument
    target = editable_version(instrument, user=user)
    spec = replace(spec, key=target.key, version=target.version)
    _sync_rows(
        target,
        spec,
        item_renames=item_renames,
        dimension_renames=dimension_renames,
    )
    return target


def _dimension_index(document: dict[str, Any], code: str) -> int:
    for index, dim in enumerate(document["dimensions"]):
        if dim["code"] == code:
            return index
    raise InstrumentEditError(f"There is no dimension {code} in this instrument.")


def _item_index(document: dict[str, Any], code: str) -> tuple[int, int]:
    for d_index, dim in enumerate(document["dimensions"]):
        for i_index, item in enumerate(dim["items"]):
            if item["code"] == code:
                return d_index, i_index
    raise InstrumentEditError(f"There is no item {code} in this instrument.")


def _item_in(target: Instrument, code: str) -> Item:
    return db.session.scalar(select(Item).where(Item.instrument_id == target.id, Item.code == code))


def _dimension_in(target: Instrument, code: str) -> Dimension:
    return db.session.scalar(
        select(Dimension).where(Dimension.instrument_id == target.id, Dimension.code == code)
    )


# ---- items


def update_item(
    item: Item,
    fields: ItemFields,
    *,
    dimension: Dimension | None = None,
    user: User | None = None,
) -> Item:
    """Change an item (and, with ``dimension``, move it to the end of that dimension).

    Returns the item as saved: in the same version while it is editable, else in the new
    version (``item.instrument`` tells which). Raises ``InstrumentEditError``.
    """
    instrument = item.instrument
    old_code = item.code
    new_code = clean_code(fields.code)
    target_dimension = dimension.code if dimension is not None else item.dimension.code
    if dimension is not None and dimension.instrument_id != instrument.id:
        raise InstrumentEditError("That dimension belongs to another instrument.")

    def change(document):
        d_index, i_index = _item_index(document, old_code)
        dim_items = document["dimensions"][d_index]["items"]
        _add_scale(document, fields.scale, instrument)
        if target_dimension == document["dimensions"][d_index]["code"]:
            dim_items[i_index] = fields.document()
            return (d_index, i_index), None
        if len(dim_items) == 1:
            raise InstrumentEditError(_last_item_message(item.dimension))
        del dim_items[i_index]
        new_index = _dimension_index(document, target_dimension)
        document["dimensions"][new_index]["items"].append(fields.document())
        return (new_index, len(document["dimensions"][new_index]["items"]) - 1), None

    renames = {old_code: new_code} if isinstance(new_code, str) and new_code != old_code else {}
    target = _commit(instrument, change, user=user, item_renames=renames)
    return _item_in(target, new_code)


def add_item(dimension: Dimension, fields: ItemFields, *, user: User | None = None) -> Item:
    """Add an item at the end of ``dimension``; returns it as saved (see ``update_item``)."""
    instrument = dimension.instrument

    def change(document):
        d_index = _dimension_index(document, dimension.code)
        _add_scale(document, fields.scale, instrument)
        items = document["dimensions"][d_index]["items"]
        items.append(fields.document())
        return (d_index, len(items) - 1), None

    target = _commit(instrument, change, user=user)
    return _item_in(target, clean_code(fields.code))


def _last_item_message(dimension: Dimension) -> str:
    return (
        f"“{dimension.name}” needs at least one item: add another item first, "
        "or remove the whole dimension."
    )


def remove_item(item: Item, *, user: User | None = None) -> Instrument:
    """Remove an item; refuses the last item of a dimension. Returns the saved version."""
    code = item.code
    if len(item.dimension.items) <= 1:
        raise InstrumentEditError(_last_item_message(item.dimension))

    def change(document):
        d_index, i_index = _item_index(document, code)
        del document["dimensions"][d_index]["items"][i_index]
        return None, d_index

    return _commit(item.instrument, change, user=user)


def move_item(item: Item, offset: int, *, user: User | None = None) -> Item:
    """Move an item ``offset`` places within its dimension (−1 up, +1 down).

    Moving past either end does nothing. Returns the item as saved.
    """
    code = item.code

    def change(document):
        d_index, i_index = _item_index(document, code)
        items = document["dimensions"][d_index]["items"]
        new_index = min(max(i_index + offset, 0), len(items) - 1)
        items.insert(new_index, items.pop(i_index))
        return (d_index, new_index), None

    target = _commit(item.instrument, change, user=user)
    return _item_in(target, code)


# ---- dimensions


def add_dimension(
    instrument: Instrument,
    fields: DimensionFields,
    first_item: ItemFields,
    *,
    user: User | None = None,
) -> Dimension:
    """Add a dimension at the end, with its first item (a dimension is never empty).

    Returns the dimension as saved (see ``update_item`` for versions).
    """

    def change(document):
        _add_scale(document, first_item.scale, instrument)
        document["dimensions"].append({**fields.document(), "items": [first_item.document()]})
        index = len(document["dimensions"]) - 1
        return (index, 0), index

    target = _commit(instrument, change, user=user)
    return _dimension_in(target, clean_code(fields.code))


def update_dimension(
    dimension: Dimension, fields: DimensionFields, *, user: User | None = None
) -> Dimension:
    """Change a dimension's code, name, description, finding or importance."""
    old_code = dimension.code
    new_code = clean_code(fields.code)

    def change(document):
        index = _dimension_index(document, old_code)
        items = document["dimensions"][index]["items"]
        document["dimensions"][index] = {**fields.document(), "items": items}
        return None, index

    renames = {old_code: new_code} if isinstance(new_code, str) and new_code != old_code else {}
    target = _commit(dimension.instrument, change, user=user, dimension_renames=renames)
    return _dimension_in(target, new_code)


def remove_dimension(dimension: Dimension, *, user: User | None = None) -> Instrument:
    """Remove a dimension and its items; refuses the last one. Returns the saved version."""
    code = dimension.code
    if len(dimension.instrument.dimensions) <= 1:
        raise InstrumentEditError(
            "An instrument needs at least one dimension: add another before removing this one."
        )

    def change(document):
        del document["dimensions"][_dimension_index(document, code)]
        return None, None

    return _commit(dimension.instrument, change, user=user)


def move_dimension(dimension: Dimension, offset: int, *, user: User | None = None) -> Dimension:
    """Move a dimension ``offset`` places (−1 up, +1 down); past either end does nothing."""
    code = dimension.code

    def change(document):
        dims = document["dimensions"]
        index = _dimension_index(document, code)
        new_index = min(max(index + offset, 0), len(dims) - 1)
        dims.insert(new_index, dims.pop(index))
        return None, new_index

    target = _commit(dimension.instrument, change, user=user)
    return _dimension_in(target, code)


def update_details(
    instrument: Instrument, name: str, description: str, *, user: User | None = None
) -> Instrument:
    """Rename an instrument or change its description; returns the saved version."""

    def change(document):
        document["name"] = name
        document["description"] = description
        return None, None

    return _commit(instrument, change, user=user)
