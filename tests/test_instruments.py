"""Customising instruments without HTTP: cloning, editing rules, versions, import and export."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml
from sqlalchemy import func, select

from cxalign.extensions import db
from cxalign.instruments import operations as ops
from cxalign.instruments.loader import dump_instrument, load_builtin, load_instrument
from cxalign.instruments.store import ensure_builtin_instrument, spec_from_instrument
from cxalign.models import (
    AuditEvent,
    Dimension,
    Group,
    Instrument,
    Item,
    Organisation,
    Respondent,
    Response,
    Survey,
    SurveyStatus,
)


@pytest.fixture
def organisation(make_organisation) -> Organisation:
    return make_organisation("Acme Insurance")


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


def add_survey(instrument: Instrument, status: str = SurveyStatus.DRAFT, title="Wave") -> Survey:
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


def codes(instrument: Instrument) -> list[list[str]]:
    db.session.expire_all()
    instrument = db.session.get(Instrument, instrument.id)
    return [[i.code for i in d.items] for d in instrument.dimensions]


def versions(instrument: Instrument) -> list[int]:
    return list(
        db.session.scalars(
            select(Instrument.version)
            .where(
                Instrument.organisation_id == instrument.organisation_id,
                Instrument.key == instrument.key,
            )
            .order_by(Instrument.version)
        )
    )


def fields_of(code: str, **changes) -> ops.ItemFields:
    base = {
        "code": code,
        "executive": "How often do you ask customers what they think?",
        "cx_professional": "How often do our executives ask customers what they think?",
        "scale": "freq5",
    }
    return ops.ItemFields(**(base | changes))


# The built-in instrument -------------------------------------------------------------


def test_the_builtin_file_validates_and_every_item_has_both_wordings():
    spec = load_builtin()
    assert len(spec.dimensions) == 12 and len(spec.items) == 48
    for spec_item in spec.items:
        assert spec_item.executive.strip() and spec_item.cx_professional.strip(), spec_item.code
        assert spec_item.executive != spec_item.cx_professional or spec_item.code


def test_the_builtin_in_the_database_reads_back_as_the_file(builtin):
    spec = spec_from_instrument(builtin)
    assert spec == load_builtin()
    # And it passes the same validation an edit or an upload does.
    assert ops.validate_document(dump_instrument(spec)) == spec
    for row in (i for d in builtin.dimensions for i in d.items):
        assert row.executive_text and row.cx_text


def test_the_builtin_is_never_editable(builtin):
    assert not ops.editable(builtin)
    with pytest.raises(ops.InstrumentEditError, match="clone it"):
        ops.editable_version(builtin)
    with pytest.raises(ops.InstrumentEditError, match="clone it"):
        ops.update_item(item(builtin, "LEAD_FOCUS_1"), fields_of("LEAD_FOCUS_1"))
    with pytest.raises(ops.InstrumentEditError, match="clone it"):
        ops.remove_dimension(builtin.dimensions[0])
    db.session.rollback()
    assert spec_from_instrument(builtin) == load_builtin()


# Cloning -------------------------------------------------------------------------------


def test_clone_copies_every_dimension_item_and_open_question(builtin, organisation):
    copy = ops.clone_instrument(builtin, organisation)
    db.session.commit()
    assert copy.organisation_id == organisation.id
    assert copy.based_on_id == builtin.id
    assert copy.version == 1
    assert copy.key == "cx-alignment-acme-insurance"
    assert copy.name == "CX Executive Alignment Index (Acme Insurance)"
    original, cloned = spec_from_instrument(builtin), spec_from_instrument(copy)
    assert cloned.dimensions == original.dimensions
    assert cloned.open_questions == original.open_questions
    assert ops.editable(copy)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "instrument.cloned"))
    assert event.organisation_id == organisation.id
    assert event.target == f"instrument:{copy.id}"


def test_cloning_twice_gives_each_copy_its_own_key(builtin, organisation):
    first = ops.clone_instrument(builtin, organisation)
    second = ops.clone_instrument(builtin, organisation, name="For the board")
    db.session.commit()
    assert first.key != second.key
    assert second.name == "For the board"
    assert second.version == 1


def test_another_organisations_instrument_cannot_be_cloned(clone, make_organisation):
    other = make_organisation("Other Co")
    with pytest.raises(ops.InstrumentEditError, match="another organisation"):
        ops.clone_instrument(clone, other)


# Editable and frozen --------------------------------------------------------------------


def test_a_version_used_only_by_drafts_is_edited_in_place(clone):
    draft = add_survey(clone, SurveyStatus.DRAFT)
    before = item(clone, "LEAD_FOCUS_1")
    before_id = before.id
    assert ops.editable(clone)

    saved = ops.update_item(
        before, replace(ops.ItemFields.of(before), executive="How often do you say it?")
    )
    db.session.commit()

    assert saved.instrument_id == clone.id
    assert saved.id == before_id
    assert saved.executive_text == "How often do you say it?"
    assert versions(clone) == [1]
    assert db.session.get(Survey, draft.id).instrument_id == clone.id


@pytest.mark.parametrize("status", [SurveyStatus.OPEN, SurveyStatus.CLOSED])
def test_a_version_used_by_an_open_or_closed_survey_is_never_changed(clone, status):
    add_survey(clone, status)
    draft = add_survey(clone, SurveyStatus.DRAFT, title="Next wave")
    original = spec_from_instrument(clone)
    assert ops.is_frozen(clone) and not ops.editable(clone)

    saved = ops.update_item(
        item(clone, "LEAD_FOCUS_1"), fields_of("LEAD_FOCUS_1", executive="Changed wording?")
    )
    db.session.commit()

    new = saved.instrument
    assert new.id != clone.id
    assert (new.key, new.version, new.based_on_id) == (clone.key, 2, clone.id)
    assert new.organisation_id == clone.organisation_id
    assert saved.executive_text == "Changed wording?"
    db.session.expire_all()
    assert spec_from_instrument(db.session.get(Instrument, clone.id)) == original
    # A draft that pointed at the old version still does; that is fine.
    assert db.session.get(Survey, draft.id).instrument_id == clone.id
    assert ops.new_version_notice(clone, new) == (
        "Version 1 is in use by a survey that has opened, so your changes are saved as version 2."
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "instrument.version_created")
    )
    assert event.detail["version"] == 2 and event.detail["based_on_version"] == 1

    # The new version is editable: the next change stays in it.
    again = ops.update_item(item(new, "LEAD_FOCUS_2"), fields_of("LEAD_FOCUS_2", scale="extent5"))
    db.session.commit()
    assert again.instrument_id == new.id
    assert versions(clone) == [1, 2]


def test_editing_the_frozen_version_again_makes_the_next_version(clone):
    add_survey(clone, SurveyStatus.OPEN)
    ops.remove_item(item(clone, "LEAD_FOCUS_4"))
    db.session.commit()
    third = ops.remove_item(item(clone, "LEAD_FOCUS_3"))
    db.session.commit()
    assert third.version == 3
    assert versions(clone) == [1, 2, 3]
    assert codes(third)[0] == ["LEAD_FOCUS_1", "LEAD_FOCUS_2", "LEAD_FOCUS_4"]


def test_a_change_that_changes_nothing_makes_no_new_version(clone):
    add_survey(clone, SurveyStatus.OPEN)
    first = item(clone, "LEAD_FOCUS_1")
    assert ops.move_item(first, -1).instrument_id == clone.id
    assert ops.update_item(first, ops.ItemFields.of(first)).instrument_id == clone.id
    db.session.commit()
    assert versions(clone) == [1]


def test_answers_freeze_a_version_whatever_its_survey_says(clone):
    survey = add_survey(clone, SurveyStatus.DRAFT)
    respondent = Respondent(
        survey_id=survey.id, group=Group.EXECUTIVE, token_hash="x" * 64, link_nonce="n"
    )
    db.session.add(respondent)
    db.session.flush()
    db.session.add(
        Response(respondent_id=respondent.id, item_id=item(clone, "LEAD_FOCUS_1").id, value=3)
    )
    db.session.commit()
    assert ops.is_frozen(clone)
    assert ops.editable_version(clone).version == 2


# Items -------------------------------------------------------------------------------------


def test_add_item_appends_to_its_dimension(clone):
    saved = ops.add_item(dimension(clone, "AWARE"), fields_of("AWARE_9"))
    db.session.commit()
    assert saved.instrument_id == clone.id
    assert codes(clone)[1][-1] == "AWARE_9"
    assert (saved.scale_key, saved.scale_labels[0]) == ("freq5", "Never")


def test_an_item_may_use_any_scale_of_the_builtin_file(organisation):
    document = dump_instrument(load_builtin())
    document["dimensions"] = document["dimensions"][:1]
    document["scales"] = {"freq5": document["scales"]["freq5"]}
    for entry in document["dimensions"][0]["items"]:
        entry["scale"] = "freq5"
    instrument = ops.import_instrument_file(organisation, yaml.safe_dump(document).encode())
    db.session.commit()
    assert set(ops.scale_choices(instrument)) == {"freq5", "agree5", "agree7", "extent5"}

    saved = ops.add_item(instrument.dimensions[0], fields_of("LEAD_FOCUS_9", scale="agree7"))
    assert saved.scale_labels[-1] == "Strongly agree" and len(saved.scale_labels) == 7


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"executive": "  "}, "item.executive", "'executive' wording is empty"),
        ({"cx_professional": ""}, "item.cx_professional", "'cx_professional' wording is empty"),
        ({"code": "lead focus"}, "item.code", "is not valid: use 2-40 capital letters"),
        ({"code": "AWARE_1"}, "item.code", "another item of this instrument is already AWARE_1"),
        ({"scale": "agree11"}, "item.scale", "Unknown scale 'agree11'"),
        ({"help": "Bad \x07 bell"}, "item.help", "contains a control character"),
        ({"executive": "x" * 2001}, "item.executive", "too long"),
    ],
)
def test_item_edits_are_checked_by_the_file_validator(clone, changes, field, message):
    original = spec_from_instrument(clone)
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.update_item(
            item(clone, "LEAD_FOCUS_1"), fields_of(**({"code": "LEAD_FOCUS_1"} | changes))
        )
    assert any(message in text for text in caught.value.fields[field]), caught.value.fields
    assert caught.value.general == []
    db.session.rollback()
    assert spec_from_instrument(clone) == original
    assert versions(clone) == [1]


def test_a_duplicate_code_is_reported_on_the_edited_item_wherever_it_is(clone):
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.update_item(item(clone, "AWARE_1"), fields_of("LEAD_FOCUS_2"))
    assert caught.value.fields == {"item.code": ["Duplicate code (also in dimension LEAD_FOCUS)."]}


def test_the_same_messages_as_an_uploaded_file(clone):
    """An edit's problems are the loader's, word for word, with the location in front."""
    document = dump_instrument(spec_from_instrument(clone))
    document["dimensions"][0]["items"][0]["cx_professional"] = ""
    with pytest.raises(ops.InstrumentError) as from_file:
        load_instrument(document)
    with pytest.raises(ops.InstrumentEditError) as from_edit:
        ops.update_item(item(clone, "LEAD_FOCUS_1"), fields_of("LEAD_FOCUS_1", cx_professional=""))
    assert from_edit.value.problems == from_file.value.problems


def test_an_item_code_may_not_take_a_free_text_questions_code(clone):
    taken = clone.open_questions[0].code
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.add_item(dimension(clone, "AWARE"), fields_of(taken))
    assert caught.value.fields["item.code"] == [
        "This code is already used by a free-text question of this instrument."
    ]


def test_renaming_an_item_code_keeps_the_item(clone):
    row = item(clone, "LEAD_FOCUS_2")
    row_id = row.id
    saved = ops.update_item(row, fields_of("LEAD_FOCUS_TALK", scale="extent5"))
    db.session.commit()
    assert saved.id == row_id and saved.code == "LEAD_FOCUS_TALK"
    assert codes(clone)[0][1] == "LEAD_FOCUS_TALK"


def test_an_item_can_move_to_another_dimension(clone):
    saved = ops.update_item(
        item(clone, "LEAD_FOCUS_1"),
        ops.ItemFields.of(item(clone, "LEAD_FOCUS_1")),
        dimension=dimension(clone, "ENGAGE"),
    )
    db.session.commit()
    assert saved.dimension.code == "ENGAGE"
    assert codes(clone)[0] == ["LEAD_FOCUS_2", "LEAD_FOCUS_3", "LEAD_FOCUS_4"]
    assert codes(clone)[2][-1] == "LEAD_FOCUS_1"
    positions = [i.position for i in dimension(clone, "ENGAGE").items]
    assert positions == list(range(len(positions)))


def test_move_item_up_and_down_within_its_dimension(clone):
    ids = [i.id for i in dimension(clone, "VOC").items]
    ops.move_item(item(clone, "VOC_3"), -1)
    db.session.commit()
    assert codes(clone)[7] == ["VOC_1", "VOC_3", "VOC_2", "VOC_4"]
    ops.move_item(item(clone, "VOC_1"), +1)
    ops.move_item(item(clone, "VOC_4"), +1)  # already last: nothing happens
    db.session.commit()
    assert codes(clone)[7] == ["VOC_3", "VOC_1", "VOC_2", "VOC_4"]
    assert sorted(i.id for i in dimension(clone, "VOC").items) == sorted(ids)


def test_remove_item(clone):
    instrument = ops.remove_item(item(clone, "LOOP_2"))
    db.session.commit()
    assert instrument.id == clone.id
    assert codes(clone)[8] == ["LOOP_1", "LOOP_3", "LOOP_4"]
    assert [i.position for i in dimension(clone, "LOOP").items] == [0, 1, 2]


def test_the_last_item_of_a_dimension_cannot_be_removed(clone):
    loop = dimension(clone, "LOOP")
    for code in ("LOOP_1", "LOOP_2", "LOOP_3"):
        ops.remove_item(item(clone, code))
    db.session.commit()
    with pytest.raises(ops.InstrumentEditError, match="needs at least one item"):
        ops.remove_item(item(clone, "LOOP_4"))
    # Moving the last item away would empty the dimension too.
    last = item(clone, "LOOP_4")
    with pytest.raises(ops.InstrumentEditError, match="needs at least one item"):
        ops.update_item(last, ops.ItemFields.of(last), dimension=dimension(clone, "VOC"))
    assert [i.code for i in loop.items] == ["LOOP_4"]


# Dimensions ------------------------------------------------------------------------------


def test_add_dimension_with_its_first_item(clone):
    saved = ops.add_dimension(
        clone,
        ops.DimensionFields(code="PARTNERS", name="Partner experience", importance=0.4),
        fields_of("PARTNERS_1"),
    )
    db.session.commit()
    assert saved.position == 12 and [i.code for i in saved.items] == ["PARTNERS_1"]
    assert saved.importance == 0.4


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"importance": 1.5}, "dimension.importance", "between 0 and 1"),
        ({"code": "LEAD_FOCUS"}, "dimension.code", "Duplicate dimension code"),
        ({"code": "x"}, "dimension.code", "is not valid"),
        ({"name": ""}, "dimension.name", "'name' is empty"),
        ({"name": "N" * 201}, "dimension.name", "too long"),
    ],
)
def test_dimension_edits_are_checked_by_the_file_validator(clone, changes, field, message):
    fields = ops.DimensionFields(
        **({"code": "NEW_DIM", "name": "New", "importance": 0.5} | changes)
    )
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.add_dimension(clone, fields, fields_of("NEW_DIM_1"))
    assert any(message in text for text in caught.value.fields[field]), caught.value.fields
    db.session.rollback()
    assert len(codes(clone)) == 12


def test_a_new_dimensions_first_item_is_checked_too(clone):
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.add_dimension(
            clone,
            ops.DimensionFields(code="NEW_DIM", name="New"),
            fields_of("NEW_DIM_1", executive=""),
        )
    assert "item.executive" in caught.value.fields


def test_update_dimension_and_rename_its_code(clone):
    row = dimension(clone, "AWARE")
    row_id = row.id
    saved = ops.update_dimension(
        row,
        ops.DimensionFields(
            code="AWARENESS", name="Awareness", importance=0.65, description="D", finding="F"
        ),
    )
    db.session.commit()
    assert saved.id == row_id
    assert (saved.code, saved.name, saved.importance) == ("AWARENESS", "Awareness", 0.65)
    assert (saved.description, saved.finding) == ("D", "F")
    assert len(saved.items) == 4


def test_move_dimension(clone):
    ops.move_dimension(dimension(clone, "AWARE"), -1)
    db.session.commit()
    assert [d.code for d in db.session.get(Instrument, clone.id).dimensions][:2] == [
        "AWARE",
        "LEAD_FOCUS",
    ]
    ops.move_dimension(dimension(clone, "AWARE"), -1)  # already first
    db.session.commit()
    assert [d.position for d in db.session.get(Instrument, clone.id).dimensions] == list(range(12))


def test_remove_dimension_removes_its_items(clone):
    ops.remove_dimension(dimension(clone, "EMPLOYEE"))
    db.session.commit()
    assert dimension(clone, "EMPLOYEE") is None
    assert item(clone, "EMPLOYEE_1") is None
    assert (
        db.session.scalar(select(func.count(Item.id)).where(Item.instrument_id == clone.id)) == 44
    )
    assert [d.position for d in db.session.get(Instrument, clone.id).dimensions] == list(range(11))


def test_the_last_dimension_cannot_be_removed(clone):
    for row in list(db.session.get(Instrument, clone.id).dimensions)[1:]:
        ops.remove_dimension(row)
    db.session.commit()
    with pytest.raises(ops.InstrumentEditError, match="at least one dimension"):
        ops.remove_dimension(db.session.get(Instrument, clone.id).dimensions[0])


def test_update_details(clone):
    saved = ops.update_details(clone, "Board edition", "For the board.")
    db.session.commit()
    assert (saved.name, saved.description) == ("Board edition", "For the board.")
    with pytest.raises(ops.InstrumentEditError, match="at most 200"):
        ops.update_details(clone, "N" * 201, "")


# Files --------------------------------------------------------------------------------------


def test_export_and_import_round_trip(builtin, organisation):
    text = ops.export_instrument(builtin)
    assert ops.export_filename(builtin) == "cx-alignment-v1.yaml"
    assert load_instrument(text.encode()) == load_builtin()

    first = ops.import_instrument_file(organisation, text.encode())
    db.session.commit()
    assert (first.organisation_id, first.key, first.version) == (organisation.id, "cx-alignment", 1)
    assert spec_from_instrument(first) == load_builtin()
    assert first.based_on_id is None

    # The same key again becomes the family's next version.
    second = ops.import_instrument_file(organisation, ops.export_instrument(first).encode())
    db.session.commit()
    assert (second.version, second.based_on_id) == (2, first.id)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["instrument.imported", "instrument.imported"]


def test_import_reads_json_too(organisation):
    document = dump_instrument(load_builtin()) | {"key": "from-json", "version": 4}
    instrument = ops.import_instrument_file(organisation, json.dumps(document).encode())
    assert (instrument.key, instrument.version) == ("from-json", 4)


def test_import_lists_every_problem_and_saves_nothing(organisation):
    document = dump_instrument(load_builtin())
    items = document["dimensions"][0]["items"]
    del items[0]["cx_professional"]
    items[1]["scale"] = "agree9"
    items[2]["code"] = items[3]["code"]
    document["dimensions"][1]["importance"] = 2
    with pytest.raises(ops.InstrumentEditError) as caught:
        ops.import_instrument_file(organisation, yaml.safe_dump(document).encode())
    problems = caught.value.problems
    assert "dimensions[0] (LEAD_FOCUS) item LEAD_FOCUS_1: missing 'cx_professional' wording" in (
        problems
    )
    assert any("unknown scale 'agree9'" in p for p in problems)
    assert any("duplicate code" in p for p in problems)
    assert any("dimensions[1] (AWARE): 'importance' must be between 0 and 1" in p for p in problems)
    assert len(problems) == 4
    assert db.session.scalar(select(func.count(Instrument.id))) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not text", "not UTF-8"),
        (b"key: [unclosed", "invalid YAML"),
        (b"", "empty"),
        (b"- just\n- a list\n", "mapping"),
        (b'{"key": "x" "name": "y"}', "invalid JSON at line 1, column 13"),
    ],
)
def test_import_refuses_files_that_are_not_instruments(organisation, content, message):
    with pytest.raises(ops.InstrumentEditError, match=message):
        ops.import_instrument_file(organisation, content)


def test_import_refuses_names_longer_than_the_database_keeps(organisation):
    document = dump_instrument(load_builtin()) | {"name": "N" * 300}
    with pytest.raises(ops.InstrumentEditError, match="at most 200"):
        ops.import_instrument_file(organisation, yaml.safe_dump(document).encode())
