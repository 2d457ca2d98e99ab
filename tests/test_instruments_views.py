"""Instrument pages over HTTP: who may do what, what each page shows, and the editing rules."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
import yaml
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments import operations as ops
from cxalign.instruments.loader import dump_instrument, load_builtin, load_instrument
from cxalign.instruments.store import ensure_builtin_instrument, spec_from_instrument
from cxalign.models import Dimension, Instrument, Item, Organisation, Role, Survey, SurveyStatus


@pytest.fixture
def organisation(owner) -> Organisation:
    return db.session.get(Organisation, owner.current_organisation_id)


@pytest.fixture
def builtin() -> Instrument:
    instrument = ensure_builtin_instrument()
    db.session.commit()
    return instrument


@pytest.fixture
def clone(builtin, organisation) -> Instrument:
    instrument = ops.clone_instrument(builtin, organisation)
    db.session.commit()
    return instrument


def add_survey(instrument: Instrument, status: str, title: str = "Spring wave") -> Survey:
    survey = Survey(
        organisation_id=instrument.organisation_id,
        instrument_id=instrument.id,
        title=title,
        status=status,
    )
    db.session.add(survey)
    db.session.commit()
    return survey


def item(instrument: Instrument, code: str) -> Item:
    return db.session.scalar(
        select(Item).where(Item.instrument_id == instrument.id, Item.code == code)
    )


def dimension(instrument: Instrument, code: str) -> Dimension:
    return db.session.scalar(
        select(Dimension).where(Dimension.instrument_id == instrument.id, Dimension.code == code)
    )


def item_form(row: Item, **changes) -> dict[str, str]:
    data = {
        "code": row.code,
        "dimension": str(row.dimension_id),
        "executive": row.executive_text,
        "cx_professional": row.cx_text,
        "scale": row.scale_key,
        "help": row.help_text or "",
    }
    if row.reverse:
        data["reverse"] = "y"
    if row.dont_know:
        data["dont_know"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def version_count(instrument: Instrument) -> int:
    return db.session.scalar(
        select(func.count(Instrument.id)).where(
            Instrument.organisation_id == instrument.organisation_id,
            Instrument.key == instrument.key,
        )
    )


def editing_routes(instrument: Instrument) -> list[tuple[str, str, dict]]:
    row = instrument.dimensions[0].items[0]
    dim = instrument.dimensions[0]
    base = f"/instruments/{instrument.id}"
    return [
        ("GET", f"{base}/edit", {}),
        ("GET", f"{base}/details", {}),
        ("POST", f"{base}/details", {"name": "Renamed"}),
        ("GET", f"{base}/items/new?dimension={dim.id}", {}),
        ("POST", f"{base}/items/new?dimension={dim.id}", item_form(row, code="NEW_ITEM_1")),
        ("GET", f"{base}/items/{row.id}/edit", {}),
        ("POST", f"{base}/items/{row.id}/edit", item_form(row, executive="Changed?")),
        ("POST", f"{base}/items/{row.id}/move", {"direction": "down"}),
        ("POST", f"{base}/items/{row.id}/remove", {}),
        ("GET", f"{base}/dimensions/new", {}),
        ("POST", f"{base}/dimensions/new", {"code": "NEW_DIM", "name": "New"}),
        ("GET", f"{base}/dimensions/edit?dimension={dim.id}", {}),
        ("POST", f"{base}/dimensions/edit?dimension={dim.id}", {"code": "X_DIM", "name": "X"}),
        ("POST", f"{base}/dimensions/move", {"dimension": str(dim.id), "direction": "down"}),
        ("POST", f"{base}/dimensions/remove", {"dimension": str(dim.id)}),
    ]


# Access ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, builtin):
    for url in ("/instruments/", f"/instruments/{builtin.id}", f"/instruments/{builtin.id}/export"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CONSULTANT])
def test_analysts_and_consultants_preview_and_export_but_cannot_edit(
    client, auth, clone, organisation, make_user, role
):
    reader = make_user("reader@example.com", role=role, organisation=organisation)
    auth.login(reader)
    before = spec_from_instrument(clone)
    assert client.get("/instruments/").status_code == 200
    page = client.get(f"/instruments/{clone.id}")
    assert page.status_code == 200
    assert "Edit questions" not in text_of(page) and "Clone for" not in text_of(page)
    assert client.get(f"/instruments/{clone.id}/export").status_code == 200
    for method, url, data in editing_routes(clone):
        assert client.open(url, method=method, data=data).status_code == 403, (method, url)
    assert client.post(f"/instruments/{clone.id}/clone").status_code == 403
    assert client.get("/instruments/import").status_code == 403
    db.session.expire_all()
    assert spec_from_instrument(db.session.get(Instrument, clone.id)) == before
    assert version_count(clone) == 1


def test_another_organisations_instrument_is_404_everywhere(
    client, auth, clone, make_user, make_organisation
):
    stranger = make_user("stranger@example.com", organisation=make_organisation("Other Co"))
    auth.login(stranger)
    base = f"/instruments/{clone.id}"
    for url in (base, f"{base}/export", f"{base}/clone"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/clone").status_code == 404
    for method, url, data in editing_routes(clone):
        assert client.open(url, method=method, data=data).status_code == 404, (method, url)
    listing = text_of(client.get("/instruments/"))
    assert clone.name not in listing and "Built-in" in listing


def test_an_item_of_another_instrument_is_404(owner_client, clone, builtin):
    foreign = builtin.dimensions[0].items[0]
    assert owner_client.get(f"/instruments/{clone.id}/items/{foreign.id}/edit").status_code == 404
    response = owner_client.get(
        f"/instruments/{clone.id}/dimensions/edit?dimension={builtin.dimensions[0].id}"
    )
    assert response.status_code == 404
    assert owner_client.get(f"/instruments/{clone.id}/dimensions/edit").status_code == 404


def test_the_builtin_instrument_is_never_edited_clone_it_first(owner_client, builtin):
    before = spec_from_instrument(builtin)
    for method, url, data in editing_routes(builtin):
        response = owner_client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)
    assert "clone it for your organisation" in text_of(response)
    db.session.expire_all()
    assert spec_from_instrument(db.session.get(Instrument, builtin.id)) == before
    assert db.session.scalar(select(func.count(Instrument.id))) == 1


def test_staff_without_an_organisation_still_see_the_builtin(client, auth, make_user, builtin):
    loner = make_user("loner@example.com", role=None)
    auth.login(loner)
    assert "CX Executive Alignment Index" in text_of(client.get("/instruments/"))
    assert client.get(f"/instruments/{builtin.id}").status_code == 200
    assert client.post(f"/instruments/{builtin.id}/clone").status_code == 404


# List and preview ----------------------------------------------------------------------


def test_the_list_shows_versions_items_use_and_status(owner_client, clone, builtin):
    add_survey(clone, SurveyStatus.OPEN)
    second = ops.new_version(clone)
    ops.remove_item(item(second, "LEAD_FOCUS_1"))
    db.session.commit()
    page = text_of(owner_client.get("/instruments/"))
    assert "Built-in" in page and "clone to customise" in page
    assert clone.name in page and clone.key in page
    assert "2 versions" in page
    assert "Frozen" in page and "used by an open or closed survey" in page
    assert "Editable" in page
    assert "1 survey<" in page and "0 surveys" in page
    assert ">47<" in page and ">48<" in page
    assert page.index("Version 2") < page.index("Version 1</a>", page.index(clone.key))


def test_builtin_usage_counts_only_the_users_own_surveys(
    owner_client, builtin, make_organisation, organisation
):
    other = make_organisation("Other Co")
    db.session.add(Survey(organisation_id=other.id, instrument_id=builtin.id, title="Theirs"))
    db.session.commit()
    page = text_of(owner_client.get("/instruments/"))
    assert "0 surveys" in page and "Theirs" not in page


def test_preview_shows_each_dimension_with_both_wordings_side_by_side(owner_client, builtin):
    response = owner_client.get(f"/instruments/{builtin.id}")
    assert response.status_code == 200
    page = text_of(response)
    spec = load_builtin()
    for dim in spec.dimensions:
        assert f'id="dimension-{dim.code}"' in page
        assert f'href="#dimension-{dim.code}"' in page  # the table of contents
    assert page.count("Executives are asked") == 48 + 1  # every item, plus free-text
    assert page.count("CX professionals are asked") == 48 + 1
    first = spec.item("LEAD_FOCUS_1")
    assert first.executive in page and first.cx_professional in page
    blocks = {
        block.split('"', 1)[0]: block for block in page.split('<li class="ins-item" id="item-')[1:]
    }
    assert set(blocks) == {i.code for i in spec.items}
    for spec_item in spec.items:
        assert (">Reverse-coded<" in blocks[spec_item.code]) == spec_item.reverse
        assert ("“Don't know” offered" in blocks[spec_item.code]) == spec_item.dont_know
    assert "Research finding" in page and "Critical importance" in page
    assert "Strongly disagree" in page and "To a very large extent" in page
    for question in spec.open_questions:
        assert question.text.replace("'", "&#39;") in page
    assert "Clone for" in page and "Edit questions" not in page


def test_preview_escapes_what_owners_wrote(owner_client, clone):
    row = item(clone, "LEAD_FOCUS_1")
    ops.update_item(row, replace(ops.ItemFields.of(row), help="<b>x"))
    db.session.commit()
    page = text_of(owner_client.get(f"/instruments/{clone.id}"))
    assert "&lt;b&gt;x" in page and "<b>x" not in page


def test_preview_of_a_frozen_version_names_its_surveys_and_offers_a_new_version(
    owner_client, clone
):
    add_survey(clone, SurveyStatus.CLOSED, title="Autumn wave")
    page = text_of(owner_client.get(f"/instruments/{clone.id}"))
    assert "Frozen" in page and "Autumn wave" in page
    assert "Edit as a new version" in page


def test_an_empty_instrument_previews_without_error(owner_client, organisation):
    empty = Instrument(organisation_id=organisation.id, key="empty", version=1, name="Empty")
    db.session.add(empty)
    db.session.commit()
    assert "No questions yet" in text_of(owner_client.get(f"/instruments/{empty.id}"))
    assert owner_client.get(f"/instruments/{empty.id}/edit").status_code == 200


# Clone ---------------------------------------------------------------------------------------


def test_an_owner_clones_the_builtin_and_lands_in_the_editor(owner_client, builtin, organisation):
    form = owner_client.get(f"/instruments/{builtin.id}/clone")
    assert "CX Executive Alignment Index (Test" not in text_of(form)
    assert f"CX Executive Alignment Index ({organisation.name})" in text_of(form)
    response = owner_client.post(f"/instruments/{builtin.id}/clone", data={"name": "Our index"})
    assert response.status_code == 302
    copy = db.session.scalar(select(Instrument).where(Instrument.organisation_id.isnot(None)))
    assert response.headers["Location"].endswith(f"/instruments/{copy.id}/edit")
    assert (copy.name, copy.version, copy.based_on_id) == ("Our index", 1, builtin.id)
    editor = owner_client.get(response.headers["Location"])
    assert "Cloned as “Our index”, version 1" in text_of(editor)
    assert "is editable" in text_of(editor)


def test_clone_needs_a_name(owner_client, builtin):
    response = owner_client.post(f"/instruments/{builtin.id}/clone", data={"name": " "})
    assert response.status_code == 400
    assert "Give the copy a name." in text_of(response)


# Editing items ------------------------------------------------------------------------------


def test_edit_an_item_in_place(owner_client, clone):
    row = item(clone, "LEAD_FOCUS_1")
    page = owner_client.get(f"/instruments/{clone.id}/items/{row.id}/edit")
    assert page.status_code == 200 and row.executive_text in text_of(page)
    assert "Agreement, 7 points: Strongly disagree … Strongly agree" in text_of(page)
    response = owner_client.post(
        f"/instruments/{clone.id}/items/{row.id}/edit",
        data=item_form(row, executive="How often do you talk about customers?", reverse="y"),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/instruments/{clone.id}/edit#item-LEAD_FOCUS_1")
    db.session.expire_all()
    row = item(clone, "LEAD_FOCUS_1")
    assert row.executive_text == "How often do you talk about customers?" and row.reverse
    assert version_count(clone) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"executive": ""}, "Both wordings are required: write what executives are asked."),
        (
            {"cx_professional": "  "},
            "Both wordings are required: write what CX professionals are asked.",
        ),
        ({"code": ""}, "Give the item a code"),
        ({"code": "lead-1"}, "Code &#39;lead-1&#39; is not valid: use 2-40 capital letters"),
        ({"code": "AWARE_2"}, "Duplicate code: another item of this instrument is already AWARE_2"),
        ({"scale": "agree11"}, "Not a valid choice"),
        ({"dimension": "999999"}, "Not a valid choice"),
    ],
)
def test_item_form_errors_are_clear_and_nothing_changes(owner_client, clone, changes, message):
    row = item(clone, "LEAD_FOCUS_1")
    before = spec_from_instrument(clone)
    response = owner_client.post(
        f"/instruments/{clone.id}/items/{row.id}/edit", data=item_form(row, **changes)
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert 'aria-invalid="true"' in text_of(response)
    db.session.expire_all()
    assert spec_from_instrument(db.session.get(Instrument, clone.id)) == before


def test_editing_a_frozen_version_saves_a_new_version(owner_client, clone):
    add_survey(clone, SurveyStatus.OPEN)
    draft = add_survey(clone, SurveyStatus.DRAFT, title="Draft wave")
    row = item(clone, "LEAD_FOCUS_1")
    form = text_of(owner_client.get(f"/instruments/{clone.id}/items/{row.id}/edit"))
    assert "Version 1 is frozen." in form and "version 2" in form

    response = owner_client.post(
        f"/instruments/{clone.id}/items/{row.id}/edit",
        data=item_form(row, cx_professional="Changed for version two?"),
    )
    new = db.session.scalar(
        select(Instrument).where(Instrument.key == clone.key, Instrument.version == 2)
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/instruments/{new.id}/edit#item-LEAD_FOCUS_1")
    page = text_of(owner_client.get(response.headers["Location"]))
    assert (
        "Version 1 is in use by a survey that has opened, so your changes are saved as version 2"
        in page
    )
    db.session.expire_all()
    assert item(clone, "LEAD_FOCUS_1").cx_text == row.cx_text
    assert item(new, "LEAD_FOCUS_1").cx_text == "Changed for version two?"
    assert db.session.get(Survey, draft.id).instrument_id == clone.id


def test_add_an_item(owner_client, clone):
    dim = dimension(clone, "AWARE")
    page = owner_client.get(f"/instruments/{clone.id}/items/new?dimension={dim.id}")
    assert page.status_code == 200 and "New question in Awareness of CX initiatives" in text_of(
        page
    )
    response = owner_client.post(
        f"/instruments/{clone.id}/items/new?dimension={dim.id}",
        data={
            "code": "AWARE_5",
            "executive": "Do you know our CX roadmap?",
            "cx_professional": "Do our executives know our CX roadmap?",
            "scale": "agree5",
            "dont_know": "y",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#item-AWARE_5")
    db.session.expire_all()
    added = item(clone, "AWARE_5")
    assert added.dimension.code == "AWARE" and added.position == 4 and added.dont_know


def test_move_and_remove_items(owner_client, clone):
    second = item(clone, "VOC_2")
    url = f"/instruments/{clone.id}/items/{second.id}"
    assert owner_client.post(f"{url}/move", data={"direction": "up"}).status_code == 302
    db.session.expire_all()
    assert [i.code for i in dimension(clone, "VOC").items][:2] == ["VOC_2", "VOC_1"]
    assert owner_client.post(f"{url}/move", data={"direction": "sideways"}).status_code == 400
    assert owner_client.post(f"{url}/remove").status_code == 302
    db.session.expire_all()
    assert [i.code for i in dimension(clone, "VOC").items] == ["VOC_1", "VOC_3", "VOC_4"]


def test_the_last_item_of_a_dimension_is_kept_with_a_reason(owner_client, clone):
    for code in ("LOOP_1", "LOOP_2", "LOOP_3"):
        row = item(clone, code)
        owner_client.post(f"/instruments/{clone.id}/items/{row.id}/remove")
    last = item(clone, "LOOP_4")
    response = owner_client.post(
        f"/instruments/{clone.id}/items/{last.id}/remove", follow_redirects=True
    )
    assert "needs at least one item" in text_of(response)
    db.session.expire_all()
    assert item(clone, "LOOP_4") is not None


# Editing dimensions -------------------------------------------------------------------------


def test_add_a_dimension_with_its_first_question(owner_client, clone):
    page = owner_client.get(f"/instruments/{clone.id}/dimensions/new")
    assert "First question" in text_of(page)
    response = owner_client.post(
        f"/instruments/{clone.id}/dimensions/new",
        data={
            "code": "PARTNERS",
            "name": "Partner experience",
            "importance": "0.4",
            "item-code": "PARTNERS_1",
            "item-executive": "Do you ask partners about our customers?",
            "item-cx_professional": "Do our executives ask partners about our customers?",
            "item-scale": "freq5",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#dimension-PARTNERS")
    db.session.expire_all()
    added = dimension(clone, "PARTNERS")
    assert added.position == 12 and [i.code for i in added.items] == ["PARTNERS_1"]


def test_new_dimension_errors_land_on_their_fields(owner_client, clone):
    response = owner_client.post(
        f"/instruments/{clone.id}/dimensions/new",
        data={
            "code": "LEAD_FOCUS",
            "name": "Again",
            "importance": "1.5",
            "item-code": "LEAD_FOCUS_1",
            "item-executive": "",
            "item-cx_professional": "Something?",
            "item-scale": "freq5",
        },
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Importance must be between 0 and 1." in page
    assert "Both wordings are required: write what executives are asked." in page
    response = owner_client.post(
        f"/instruments/{clone.id}/dimensions/new",
        data={
            "code": "LEAD_FOCUS",
            "name": "Again",
            "importance": "0.5",
            "item-code": "LEAD_FOCUS_1",
            "item-executive": "Something?",
            "item-cx_professional": "Something?",
            "item-scale": "freq5",
        },
    )
    page = text_of(response)
    assert "Duplicate dimension code (also dimensions[0])." in page
    assert "Duplicate code (also in dimension LEAD_FOCUS)." in page
    assert len(db.session.get(Instrument, clone.id).dimensions) == 12


def test_edit_move_and_remove_a_dimension(owner_client, clone):
    dim = dimension(clone, "AWARE")
    url = f"/instruments/{clone.id}/dimensions"
    page = owner_client.get(f"{url}/edit?dimension={dim.id}")
    assert dim.finding in text_of(page)
    response = owner_client.post(
        f"{url}/edit?dimension={dim.id}",
        data={"code": "AWARE", "name": "Awareness", "importance": "0.55", "finding": "New."},
    )
    assert response.status_code == 302
    assert owner_client.post(f"{url}/move", data={"dimension": dim.id, "direction": "up"})
    db.session.expire_all()
    instrument = db.session.get(Instrument, clone.id)
    assert [d.code for d in instrument.dimensions][:2] == ["AWARE", "LEAD_FOCUS"]
    assert (instrument.dimensions[0].name, instrument.dimensions[0].importance) == (
        "Awareness",
        0.55,
    )
    assert owner_client.post(f"{url}/remove", data={"dimension": dim.id}).status_code == 302
    db.session.expire_all()
    assert dimension(clone, "AWARE") is None and item(clone, "AWARE_1") is None
    assert owner_client.post(f"{url}/remove", data={"dimension": "x"}).status_code == 404


def test_edit_details(owner_client, clone):
    response = owner_client.post(
        f"/instruments/{clone.id}/details", data={"name": "Board edition", "description": "Hi"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Instrument, clone.id).name == "Board edition"
    response = owner_client.post(f"/instruments/{clone.id}/details", data={"name": ""})
    assert response.status_code == 400 and "Give the instrument a name." in text_of(response)


# Export and import ---------------------------------------------------------------------------


def test_export_downloads_the_yaml_file(owner_client, builtin):
    response = owner_client.get(f"/instruments/{builtin.id}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="cx-alignment-v1.yaml"'
    assert load_instrument(response.data) == load_builtin()


def test_export_then_import_round_trip(owner_client, clone, organisation):
    exported = owner_client.get(f"/instruments/{clone.id}/export")
    assert f'filename="{clone.key}-v1.yaml"' in exported.headers["Content-Disposition"]
    response = owner_client.post(
        "/instruments/import",
        data={"file": (io.BytesIO(exported.data), "mine.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    imported = db.session.scalar(
        select(Instrument).where(Instrument.key == clone.key, Instrument.version == 2)
    )
    assert response.headers["Location"].endswith(f"/instruments/{imported.id}")
    assert imported.based_on_id == clone.id
    assert spec_from_instrument(imported).dimensions == spec_from_instrument(clone).dimensions
    page = text_of(owner_client.get(response.headers["Location"]))
    assert f"Imported “{clone.name}” as version 2 (12 dimensions, 48 items)." in page


def test_import_lists_every_problem(owner_client, organisation):
    document = dump_instrument(load_builtin())
    document["key"] = "Bad Key"
    del document["dimensions"][0]["items"][0]["executive"]
    document["dimensions"][2]["items"][1]["scale"] = "agree9"
    document["dimensions"][3]["items"][0]["reverse"] = "yes"
    response = owner_client.post(
        "/instruments/import",
        data={"file": (io.BytesIO(yaml.safe_dump(document).encode()), "broken.yml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "The file was not imported: 4 problems to fix." in page
    problems = re.findall(r"<li>(.*?)</li>", page.split('id="problems"')[1].split("</ul>")[0])
    assert len(problems) == 4
    assert "missing &#39;executive&#39; wording" in page
    assert "unknown scale &#39;agree9&#39;" in page
    assert "&#39;reverse&#39; must be true or false" in page
    assert "is not a valid key" in page
    assert db.session.scalar(select(func.count(Instrument.id))) == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Choose an instrument file to import."),
        ((b"key: x", "notes.txt"), "Choose a .yaml, .yml or .json file."),
        ((b"\xff\xfe", "bad.yaml"), "not UTF-8"),
    ],
)
def test_import_refuses_bad_uploads(owner_client, upload, message):
    data = {} if upload is None else {"file": (io.BytesIO(upload[0]), upload[1])}
    response = owner_client.post(
        "/instruments/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message in text_of(response)
