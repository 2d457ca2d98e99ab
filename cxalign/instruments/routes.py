"""Instrument pages for staff: list, preview, clone, edit, import and export.

Every signed-in staff user may preview and export the built-in instrument. An
organisation's own instruments are visible to its members only (404 for anyone else);
only its owners change them (403 for analysts and consultants). The rules of editing
live in ``cxalign.instruments.operations``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from cxalign.access import (
    MANAGE_ROLES,
    can_manage,
    current_membership,
    require_current_membership,
    require_membership,
)
from cxalign.extensions import db
from cxalign.instruments import operations as ops
from cxalign.instruments.forms import (
    CloneForm,
    DetailsForm,
    DimensionForm,
    ImportForm,
    ItemForm,
    MoveForm,
    NewDimensionForm,
    RemoveForm,
    scale_label,
    set_scale_choices,
)
from cxalign.instruments.spec import GROUPS
from cxalign.instruments.store import ensure_builtin_instrument, spec_from_instrument
from cxalign.models import Dimension, Instrument, Item, Organisation
from cxalign.security import record_id

bp = Blueprint("instruments", __name__, url_prefix="/instruments")

CONCURRENT_CHANGE = (
    "Someone else changed this instrument at the same moment, so nothing was saved. "
    "Check it and try again."
)


@bp.before_request
@login_required
def require_login():
    """Every instrument page is for signed-in staff."""


# Access ------------------------------------------------------------------------


def _instrument_or_404(instrument_id: int) -> Instrument:
    """An instrument the user may see: a built-in one, or one of their organisations'."""
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None:
        abort(404)
    if not instrument.is_builtin:
        require_membership(instrument.organisation_id)
    return instrument


def _instrument_to_edit(instrument_id: int) -> Instrument:
    """An instrument the user may change: 404 outside its organisation, 403 for a weak role
    or for the built-in instrument (clone it first)."""
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None:
        abort(404)
    if instrument.is_builtin:
        require_current_membership(manage=True)
        abort(403, ops.BUILTIN_READ_ONLY)
    require_membership(instrument.organisation_id, manage=True)
    return instrument


def _item_or_404(instrument: Instrument, item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or item.instrument_id != instrument.id:
        abort(404)
    return item


def _dimension_or_404(instrument: Instrument, raw_id: str | None) -> Dimension:
    dimension_id = record_id(raw_id or "")
    dimension = db.session.get(Dimension, dimension_id) if dimension_id is not None else None
    if dimension is None or dimension.instrument_id != instrument.id:
        abort(404)
    return dimension


def _current_organisation() -> Organisation | None:
    membership = current_membership()
    return membership.organisation if membership is not None else None


def _ensure_builtin() -> Instrument:
    builtin = ensure_builtin_instrument()
    if db.session.new:
        db.session.commit()
    return builtin


# Saving ------------------------------------------------------------------------


def _saved(before: Instrument, after: Instrument, message: str, anchor: str | None = None):
    """Commit an edit, tell the owner where it went, and show it in the editor.

    When a concurrent change makes the commit fail, nothing is saved and the owner is told
    to look again (``after`` may be a new version that no longer exists).
    """
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(CONCURRENT_CHANGE, "error")
        return redirect(url_for("instruments.edit", instrument_id=before.id))
    notice = ops.new_version_notice(before, after)
    if notice:
        flash(notice, "warning")
    flash(message, "success")
    return redirect(_edit_url(after, anchor))


def _refused(instrument: Instrument, error: ops.InstrumentEditError, anchor: str):
    """A move or removal the rules refuse: say why, back where it was asked."""
    flash(" ".join(error.problems), "error")
    return redirect(_edit_url(instrument, anchor))


def _edit_url(instrument: Instrument, anchor: str | None = None) -> str:
    return url_for("instruments.edit", instrument_id=instrument.id, _anchor=anchor)


def _show_edit_error(form, error: ops.InstrumentEditError, *, item_form=None, dimension_form=None):
    """Put the validator's problems under the fields they are about; the rest on top."""
    targets = {"item": item_form, "dimension": dimension_form}
    for key, messages in error.fields.items():
        kind, _, name = key.partition(".")
        target = targets.get(kind)
        if target is not None and name in target._fields:
            target[name].errors = [*target[name].errors, *messages]
        else:
            form.form_errors.extend(messages)
    form.form_errors.extend(error.general)


# List ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    instrument: Instrument
    items: int
    surveys: int
    started: int  # open or closed surveys using it
    status: str  # "built-in", "editable" or "frozen"


@dataclass(frozen=True)
class Family:
    key: str
    name: str
    builtin: bool
    versions: list[VersionRow]


@bp.get("/")
def index():
    _ensure_builtin()
    membership = current_membership()
    organisation = membership.organisation if membership else None
    instruments = ops.visible_instruments(organisation)
    ids = [i.id for i in instruments]
    counts = ops.survey_counts(ids, organisation)
    items = ops.item_counts(ids)
    families: dict[tuple[bool, str], Family] = {}
    for instrument in instruments:
        by_status = counts.get(instrument.id, {})
        started = sum(by_status.get(s, 0) for s in ops.STARTED_STATUSES)
        if instrument.is_builtin:
            status = "built-in"
        else:
            status = "editable" if ops.editable(instrument) else "frozen"
        row = VersionRow(
            instrument=instrument,
            items=items.get(instrument.id, 0),
            surveys=sum(by_status.values()),
            started=started,
            status=status,
        )
        family_key = (instrument.is_builtin, instrument.key)
        if family_key not in families:
            families[family_key] = Family(
                key=instrument.key, name=instrument.name, builtin=instrument.is_builtin, versions=[]
            )
        families[family_key].versions.append(row)
    manage = membership is not None and membership.role in MANAGE_ROLES
    return render_template(
        "instruments/index.html",
        organisation=organisation,
        builtin_families=[f for f in families.values() if f.builtin],
        own_families=[f for f in families.values() if not f.builtin],
        manage=manage,
    )


# Preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewStats:
    dimensions: int
    items: int
    reverse: int
    dont_know: int
    scales: int
    open_questions: int


def _stats(instrument: Instrument) -> PreviewStats:
    items = [item for dim in instrument.dimensions for item in dim.items]
    spec = spec_from_instrument(instrument)
    return PreviewStats(
        dimensions=len(instrument.dimensions),
        items=len(items),
        reverse=sum(item.reverse for item in items),
        dont_know=sum(item.dont_know for item in items),
        scales=len(spec.scales),
        open_questions=len(instrument.open_questions),
    )


def _importance_label(importance: float) -> str:
    if importance >= 0.85:
        return "Critical"
    if importance >= 0.7:
        return "High"
    if importance >= 0.45:
        return "Medium"
    return "Low"


@bp.get("/<int:instrument_id>")
def preview(instrument_id: int):
    instrument = _instrument_or_404(instrument_id)
    organisation = _current_organisation()
    owner_here = organisation is not None and can_manage(organisation.id)
    may_edit = not instrument.is_builtin and can_manage(instrument.organisation_id)
    frozen = not instrument.is_builtin and ops.is_frozen(instrument)
    surveys = ops.surveys_using(instrument, organisation if instrument.is_builtin else None)
    latest = ops.latest_version(instrument)
    spec = spec_from_instrument(instrument)
    open_questions = {
        group: [q for q in instrument.open_questions if q.group == group] for group in GROUPS
    }
    return render_template(
        "instruments/preview.html",
        instrument=instrument,
        organisation=organisation,
        stats=_stats(instrument),
        scales=spec.scales,
        scale_label=scale_label,
        importance_label=_importance_label,
        open_questions=open_questions,
        surveys=surveys,
        started=[s for s in surveys if s.status in ops.STARTED_STATUSES],
        frozen=frozen,
        may_clone=owner_here,
        may_edit=may_edit,
        newer=latest if latest is not None and latest.id != instrument.id else None,
        survey_url=_survey_url,
    )


def _survey_url(survey) -> str | None:
    """The survey's page for this user, when the surveys feature provides one."""
    endpoint = "surveys.detail" if can_manage(survey.organisation_id) else "surveys.status"
    try:
        return url_for(endpoint, survey_id=survey.id)
    except BuildError:
        return None


@bp.get("/<int:instrument_id>/export")
def export(instrument_id: int):
    instrument = _instrument_or_404(instrument_id)
    text = ops.export_instrument(instrument)
    filename = ops.export_filename(instrument)
    return Response(
        text,
        mimetype="application/yaml",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# Clone and import -------------------------------------------------------------------


@bp.route("/<int:instrument_id>/clone", methods=["GET", "POST"])
def clone(instrument_id: int):
    source = _instrument_or_404(instrument_id)
    membership = require_current_membership(manage=True)
    organisation = membership.organisation
    form = CloneForm()
    if request.method == "GET":
        form.name.data = ops.default_clone_name(source, organisation)
    if form.validate_on_submit():
        try:
            copy = ops.clone_instrument(
                source, organisation, name=form.name.data, user=current_user
            )
        except ops.InstrumentEditError as error:
            for message in error.fields.get("name", []):
                form.name.errors = [*form.name.errors, message]
            form.form_errors.extend(error.general)
        else:
            db.session.commit()
            flash(
                f"Cloned as “{copy.name}”, version {copy.version}. You can edit it until a "
                "survey that uses it opens.",
                "success",
            )
            return redirect(_edit_url(copy))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "instruments/clone.html", form=form, source=source, organisation=organisation
    ), status


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    membership = require_current_membership(manage=True)
    organisation = membership.organisation
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            instrument = ops.import_instrument_file(organisation, data, user=current_user)
        except ops.InstrumentEditError as error:
            problems = error.problems
        else:
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                problems = [CONCURRENT_CHANGE]
            else:
                counts = f"{len(instrument.dimensions)} dimensions, " + (
                    f"{sum(len(d.items) for d in instrument.dimensions)} items"
                )
                flash(
                    f"Imported “{instrument.name}” as version {instrument.version} ({counts}).",
                    "success",
                )
                return redirect(url_for("instruments.preview", instrument_id=instrument.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "instruments/import.html", form=form, problems=problems, organisation=organisation
    ), status


# Editor ---------------------------------------------------------------------------


@bp.get("/<int:instrument_id>/edit")
def edit(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    frozen = ops.is_frozen(instrument)
    latest = ops.latest_version(instrument)
    return render_template(
        "instruments/edit.html",
        instrument=instrument,
        frozen=frozen,
        next_version=(latest.version if latest else instrument.version) + 1,
        newer=latest if latest is not None and latest.id != instrument.id else None,
        surveys=ops.surveys_using(instrument),
        stats=_stats(instrument),
        move_form=MoveForm(),
        remove_form=RemoveForm(),
    )


@bp.route("/<int:instrument_id>/details", methods=["GET", "POST"])
def details(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    form = DetailsForm(obj=instrument if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved = ops.update_details(
                instrument, form.name.data, form.description.data or "", user=current_user
            )
        except ops.InstrumentEditError as error:
            form.form_errors.extend(error.problems)
        else:
            return _saved(instrument, saved, "Details saved.")
    return _form_page("instruments/details.html", form, instrument)


def _form_page(template: str, form, instrument: Instrument, **context):
    status = 400 if request.method == "POST" else 200
    return render_template(
        template,
        form=form,
        instrument=instrument,
        frozen=ops.is_frozen(instrument),
        next_version=ops.latest_version(instrument).version + 1,
        **context,
    ), status


def _item_choices(form, instrument: Instrument) -> None:
    set_scale_choices(form.scale, ops.scale_choices(instrument))
    if hasattr(form, "dimension"):
        form.dimension.choices = [
            SelectChoice(d.id, f"{d.name} ({d.code})") for d in instrument.dimensions
        ]


def _item_data(item: Item) -> dict:
    fields = ops.ItemFields.of(item)
    return {
        "code": fields.code,
        "executive": fields.executive,
        "cx_professional": fields.cx_professional,
        "scale": fields.scale,
        "reverse": fields.reverse,
        "dont_know": fields.dont_know,
        "help": fields.help or "",
        "dimension": item.dimension_id,
    }


@bp.route("/<int:instrument_id>/items/new", methods=["GET", "POST"])
def new_item(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    dimension = _dimension_or_404(instrument, request.args.get("dimension"))
    form = ItemForm(data={"dimension": dimension.id, "scale": _usual_scale(dimension)})
    _item_choices(form, instrument)
    del form.dimension
    if form.validate_on_submit():
        try:
            saved = ops.add_item(dimension, form.item_fields(), user=current_user)
        except ops.InstrumentEditError as error:
            _show_edit_error(form, error, item_form=form)
        else:
            return _saved(
                instrument, saved.instrument, f"Item {saved.code} added.", f"item-{saved.code}"
            )
    return _form_page("instruments/item_form.html", form, instrument, dimension=dimension)


def _usual_scale(dimension: Dimension) -> str | None:
    """A new item's scale: the one the dimension's last item uses."""
    return dimension.items[-1].scale_key if dimension.items else None


@bp.route("/<int:instrument_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(instrument_id: int, item_id: int):
    instrument = _instrument_to_edit(instrument_id)
    item = _item_or_404(instrument, item_id)
    form = ItemForm(data=_item_data(item))
    _item_choices(form, instrument)
    if form.validate_on_submit():
        dimension = db.session.get(Dimension, form.dimension.data)
        try:
            saved = ops.update_item(
                item, form.item_fields(), dimension=dimension, user=current_user
            )
        except ops.InstrumentEditError as error:
            _show_edit_error(form, error, item_form=form)
        else:
            return _saved(
                instrument, saved.instrument, f"Item {saved.code} saved.", f"item-{saved.code}"
            )
    return _form_page(
        "instruments/item_form.html", form, instrument, dimension=item.dimension, item=item
    )


def _direction(form: MoveForm) -> int:
    if not form.validate_on_submit():
        abort(400, "Choose to move it up or down.")
    return -1 if form.direction.data == "up" else 1


@bp.post("/<int:instrument_id>/items/<int:item_id>/move")
def move_item(instrument_id: int, item_id: int):
    instrument = _instrument_to_edit(instrument_id)
    item = _item_or_404(instrument, item_id)
    offset = _direction(MoveForm())
    try:
        saved = ops.move_item(item, offset, user=current_user)
    except ops.InstrumentEditError as error:
        return _refused(instrument, error, f"item-{item.code}")
    return _saved(
        instrument,
        saved.instrument,
        f"Item {saved.code} moved {'up' if offset < 0 else 'down'}.",
        f"item-{saved.code}",
    )


@bp.post("/<int:instrument_id>/items/<int:item_id>/remove")
def remove_item(instrument_id: int, item_id: int):
    instrument = _instrument_to_edit(instrument_id)
    item = _item_or_404(instrument, item_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    code, dimension_code = item.code, item.dimension.code
    try:
        saved = ops.remove_item(item, user=current_user)
    except ops.InstrumentEditError as error:
        return _refused(instrument, error, f"item-{code}")
    return _saved(instrument, saved, f"Item {code} removed.", f"dimension-{dimension_code}")


# Dimensions ------------------------------------------------------------------------


@bp.route("/<int:instrument_id>/dimensions/new", methods=["GET", "POST"])
def new_dimension(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    form = NewDimensionForm()
    set_scale_choices(form.item.form.scale, ops.scale_choices(instrument))
    if form.validate_on_submit():
        try:
            saved = ops.add_dimension(
                instrument,
                form.dimension_fields(),
                form.item.form.item_fields(),
                user=current_user,
            )
        except ops.InstrumentEditError as error:
            _show_edit_error(form, error, item_form=form.item.form, dimension_form=form)
        else:
            return _saved(
                instrument,
                saved.instrument,
                f"Dimension “{saved.name}” added.",
                f"dimension-{saved.code}",
            )
    return _form_page("instruments/dimension_form.html", form, instrument, dimension=None)


@bp.route("/<int:instrument_id>/dimensions/edit", methods=["GET", "POST"])
def edit_dimension(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    dimension = _dimension_or_404(instrument, request.args.get("dimension"))
    form = DimensionForm(obj=dimension if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved = ops.update_dimension(dimension, form.dimension_fields(), user=current_user)
        except ops.InstrumentEditError as error:
            _show_edit_error(form, error, dimension_form=form)
        else:
            return _saved(
                instrument,
                saved.instrument,
                f"Dimension “{saved.name}” saved.",
                f"dimension-{saved.code}",
            )
    return _form_page("instruments/dimension_form.html", form, instrument, dimension=dimension)


@bp.post("/<int:instrument_id>/dimensions/move")
def move_dimension(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    form = MoveForm()
    offset = _direction(form)
    dimension = _dimension_or_404(instrument, form.dimension.data)
    try:
        saved = ops.move_dimension(dimension, offset, user=current_user)
    except ops.InstrumentEditError as error:
        return _refused(instrument, error, f"dimension-{dimension.code}")
    return _saved(
        instrument,
        saved.instrument,
        f"Dimension “{saved.name}” moved {'up' if offset < 0 else 'down'}.",
        f"dimension-{saved.code}",
    )


@bp.post("/<int:instrument_id>/dimensions/remove")
def remove_dimension(instrument_id: int):
    instrument = _instrument_to_edit(instrument_id)
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    dimension = _dimension_or_404(instrument, form.dimension.data)
    name, count = dimension.name, len(dimension.items)
    try:
        saved = ops.remove_dimension(dimension, user=current_user)
    except ops.InstrumentEditError as error:
        return _refused(instrument, error, f"dimension-{dimension.code}")
    return _saved(
        instrument,
        saved,
        f"Dimension “{name}” removed with its {count} item{'s' if count != 1 else ''}.",
    )
