"""Which instruments an organisation sees, which are in use, and new versions and clones."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import exists, func, select

from cxalign.extensions import db
from cxalign.instruments.loader import (
    load_builtin,
)
from cxalign.instruments.operations.rules import (
    MAX_NAME_CHARS,
    STARTED_STATUSES,
    InstrumentEditError,
)
from cxalign.instruments.spec import Scale
from cxalign.instruments.store import save_instrument, spec_from_instrument
from cxalign.models import (
    AuditEvent,
    Instrument,
    Item,
    Organisation,
    Response,
    Survey,
    User,
)


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
        .where(same_family(instrument.organisation_id, instrument.key))
        .order_by(Instrument.version.desc())
        .limit(1)
    )


def same_family(organisation_id: int | None, key: str):
    owner = (
        Instrument.organisation_id.is_(None)
        if organisation_id is None
        else Instrument.organisation_id == organisation_id
    )
    return owner & (Instrument.key == key)


def _next_version(organisation_id: int | None, key: str) -> int:
    highest = db.session.scalar(
        select(func.max(Instrument.version)).where(same_family(organisation_id, key))
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


def audit_instrument(instrument: Instrument, user: User | None, action: str, **detail: Any) -> None:
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
    audit_instrument(
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
    audit_instrument(
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
