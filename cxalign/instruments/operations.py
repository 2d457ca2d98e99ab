"""Customising instruments: clone, edit, version, import and export.

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

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import exists, func, select

from cxalign.extensions import db
from cxalign.instruments.loader import (
    InstrumentError,
    dump_instrument,
    dump_instrument_yaml,
    load_builtin,
    load_instrument,
)
from cxalign.instruments.spec import InstrumentSpec, Scale
from cxalign.instruments.store import save_instrument, spec_from_instrument
from cxalign.models import (
    AuditEvent,
    Dimension,
    Instrument,
    Item,
    Organisation,
    Response,
    Survey,
    SurveyStatus,
    User,
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
            "code": _clean(self.code),
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
            "code": _clean(self.code),
            "name": self.name,
            "description": self.description or "",
            "finding": self.finding or "",
            "importance": self.importance,
        }


def _clean(code: str) -> str:
    return code.strip() if isinstance(code, str) else code


# ---------------------------------------------------------------------------
# Reading: visibility, use, status
# ---------------------------------------------------------------------------


def visible_instruments(organisation: Organisation | None) -> list[Instrument]:
    """The built-in instruments and, with an organisation, its own; grouped by key."""
    condition = Instrument.organisation_id.is_(None)
    if organisation is not None:
        condition = condition | (Instrument.organisation_id == organisation.id)
    return list(
        db.session.scalars(
            select(Instrument)
            .where(condition)
            .order_by(
                Instrument.organisation_id.is_(None).desc(),
                Instrument.key,
                Instrument.version.desc(),
            )
        )
    )


def surveys_using(instrument: Instrument, organisation: Organisation | None = None) -> list[Survey]:
    """Surveys that use this version, oldest first.

    For a built-in instrument, pass the organisation: other organisations' surveys are
    none of its business.
    """
    query = select(Survey).where(Survey.instrument_id == instrument.id)
    if organisation is not None:
        query = query.where(Survey.organisation_id == organisation.id)
    elif instrument.is_builtin:
        return []
    return list(db.session.scalars(query.order_by(Survey.created_at, Survey.id)))


def survey_counts(
    instrument_ids: Iterable[int], organisation: Organisation | None
) -> dict[int, dict[str, int]]:
    """instrument id → {status: number of the organisation's surveys using it}."""
    ids = list(instrument_ids)
    if not ids or organisation is None:
        return {}
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(Survey.instrument_id, Survey.status, func.count(Survey.id))
        .where(Survey.instrument_id.in_(ids), Survey.organisation_id == organisation.id)
        .group_by(Survey.instrument_id, Survey.status)
    )
    for instrument_id, status, count in rows:
        counts.setdefault(instrument_id, {})[status] = count
    return counts


def item_counts(instrument_ids: Iterable[int]) -> dict[int, int]:
    """instrument id → number of items."""
    ids = list(instrument_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Item.instrument_id, func.count(Item.id))
        .where(Item.instrument_id.in_(ids))
        .group_by(Item.instrument_id)
    )
    return dict(rows.all())


def is_frozen(instrument: Instrument) -> bool:
    """True when a survey that has opened uses this version (or answers to it exist).

    Answers are checked too, as a guard: no path records answers for a draft, but a
    version with answers must never change whatever its surveys' status says.
    """
    if instrument.id is None:
        return False
    started = exists().where(
        Survey.instrument_id == instrument.id, Survey.status.in_(STARTED_STATUSES)
    )
    answered = exists().where(Response.item_id == Item.id, Item.instrument_id == instrument.id)
    return bool(db.session.scalar(select(started | answered)))


def editable(instrument: Instrument) -> bool:
    """Whether this version may be changed in place.

    True only for an organisation's own version that no open or closed survey uses.
    """
    return not instrument.is_builtin and not is_frozen(instrument)


def latest_version(instrument: Instrument) -> Instrument:
    """The newest version of the same family (same organisation and key)."""
    return db.session.scalar(
        select(Instrument)
        .where(_same_family(instrument.organisation_id, instrument.key))
        .order_by(Instrument.version.desc())
        .limit(1)
    )


def _same_family(organisation_id: int | None, key: str):
    owner = (
        Instrument.organisation_id.is_(None)
        if organisation_id is None
        else Instrument.organisation_id == organisation_id
    )
    return owner & (Instrument.key == key)


def _next_version(organisation_id: int | None, key: str) -> int:
    highest = db.session.scalar(
        select(func.max(Instrument.version)).where(_same_family(organisation_id, key))
    )
    return (highest or 0) + 1


def scale_choices(instrument: Instrument | None = None) -> dict[str, Scale]:
    """The scales an item may use: the instrument's own first, then the built-in file's."""
    scales: dict[str, Scale] = {}
    if instrument is not None:
        for scale in spec_from_instrument(instrument).scales:
            scales.setdefault(scale.key, scale)
    for scale in load_builtin().scales:
        scales.setdefault(scale.key, scale)
    return scales


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------


def _audit(instrument: Instrument, user: User | None, action: str, **detail: Any) -> None:
    if instrument.organisation_id is None:
        return
    db.session.add(
        AuditEvent(
            organisation_id=instrument.organisation_id,
            user_id=user.id if user is not None else None,
            action=action,
            target=f"instrument:{instrument.id}",
            detail={"key": instrument.key, "version": instrument.version, **detail},
        )
    )


# ---------------------------------------------------------------------------
# Cloning and versions
# ---------------------------------------------------------------------------


def slugify(text: str) -> str:
    """A file-format key from free text: lower-case ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:70].strip("-") or "instrument"


def _unique_key(organisation: Organisation, base: str) -> str:
    taken = set(
        db.session.scalars(
            select(Instrument.key).where(Instrument.organisation_id == organisation.id)
        )
    )
    key, counter = base, 2
    while key in taken:
        key = f"{base}-{counter}"
        counter += 1
    return key


def default_clone_name(instrument: Instrument, organisation: Organisation) -> str:
    """What a clone is called unless the owner names it."""
    name = instrument.name
    if organisation.name not in name:
        name = f"{name} ({organisation.name})"
    return name[:MAX_NAME_CHARS]


def clone_instrument(
    instrument: Instrument,
    organisation: Organisation,
    *,
    name: str | None = None,
    user: User | None = None,
) -> Instrument:
    """Copy an instrument version into ``organisation`` as version 1 of a new family.

    The copy gets a key of its own (from the source's key and the organisation's name), so
    it never mixes with the built-in versions; ``based_on_id`` records where it came from.
    Raises ``InstrumentEditError`` for another organisation's instrument or a bad name.
    """
    if instrument.organisation_id not in (None, organisation.id):
        raise InstrumentEditError("That instrument belongs to another organisation.")
    name = (name or "").strip() or default_clone_name(instrument, organisation)
    if len(name) > MAX_NAME_CHARS:
        raise InstrumentEditError(
            f"The name is too long ({len(name)} characters, at most {MAX_NAME_CHARS}).",
            fields={"name": [f"At most {MAX_NAME_CHARS} characters."]},
            general=[],
        )
    base = slugify(f"{instrument.key}-{organisation.name}")
    if instrument.organisation_id == organisation.id:
        base = slugify(name)
    spec = replace(
        spec_from_instrument(instrument),
        key=_unique_key(organisation, base),
        version=1,
        name=name,
    )
    copy = save_instrument(spec, organisation_id=organisation.id)
    copy.based_on_id = instrument.id
    db.session.flush()
    _audit(
        copy,
        user,
        "instrument.cloned",
        source_id=instrument.id,
        source=instrument.label,
        builtin_source=instrument.is_builtin,
    )
    return copy


def new_version(instrument: Instrument, *, user: User | None = None) -> Instrument:
    """A copy of ``instrument`` as the next version of its family (the caller commits)."""
    if instrument.is_builtin:
        raise InstrumentEditError(BUILTIN_READ_ONLY)
    spec = replace(
        spec_from_instrument(instrument),
        version=_next_version(instrument.organisation_id, instrument.key),
    )
    copy = save_instrument(spec, organisation_id=instrument.organisation_id)
    copy.based_on_id = instrument.id
    db.session.flush()
    _audit(
        copy,
        user,
        "instrument.version_created",
        based_on_id=instrument.id,
        based_on_version=instrument.version,
    )
    return copy


BUILTIN_READ_ONLY = (
    "The built-in instrument cannot be changed: clone it for your organisation, then edit the copy."
)


def editable_version(instrument: Instrument, *, user: User | None = None) -> Instrument:
    """The version that a change to ``instrument`` should go to.

    The instrument itself while it is editable; otherwise a new version copied from it
    (same key, highest version + 1, ``based_on_id`` = this one). Raises
    ``InstrumentEditError`` for a built-in instrument.
    """
    if instrument.is_builtin:
        raise InstrumentEditError(BUILTIN_READ_ONLY)
    if editable(instrument):
        return instrument
    return new_version(instrument, user=user)


def new_version_notice(before: Instrument, after: Instrument) -> str | None:
    """What to tell the owner when an edit went to a new version; None when it did not."""
    if before.id == after.id:
        return None
    return (
        f"Version {before.version} is in use by a survey that has opened, so your changes "
        f"are saved as version {after.version}."
    )


# ---------------------------------------------------------------------------
# Editing: document in, validated spec out, rows synchronised
# ---------------------------------------------------------------------------


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


def _column_problems(spec: InstrumentSpec) -> list[str]:
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
    problems = _column_problems(spec)
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
    new_code = _clean(fields.code)
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
    return _item_in(target, _clean(fields.code))


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
    return _dimension_in(target, _clean(fields.code))


def update_dimension(
    dimension: Dimension, fields: DimensionFields, *, user: User | None = None
) -> Dimension:
    """Change a dimension's code, name, description, finding or importance."""
    old_code = dimension.code
    new_code = _clean(fields.code)

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


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


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
    problems = _column_problems(spec)
    if problems:
        raise InstrumentEditError(problems)
    previous = db.session.scalar(
        select(Instrument)
        .where(_same_family(organisation.id, spec.key))
        .order_by(Instrument.version.desc())
        .limit(1)
    )
    version = spec.version if previous is None else previous.version + 1
    instrument = save_instrument(replace(spec, version=version), organisation_id=organisation.id)
    if previous is not None:
        instrument.based_on_id = previous.id
    db.session.flush()
    _audit(
        instrument,
        user,
        "instrument.imported",
        file_version=spec.version,
        items=len(spec.items),
        dimensions=len(spec.dimensions),
    )
    return instrument
