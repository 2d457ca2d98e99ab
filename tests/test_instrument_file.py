"""The built-in instrument file and the loader that validates instrument files."""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxalign.instruments.loader import (
    InstrumentError,
    dump_instrument,
    dump_instrument_yaml,
    load_builtin,
    load_instrument,
)
from cxalign.instruments.spec import (
    GROUPS,
    DimensionSpec,
    InstrumentSpec,
    ItemSpec,
    OpenQuestionSpec,
    Scale,
)

ROOT = Path(__file__).resolve().parent.parent
BUILTIN_FILE = ROOT / "cxalign" / "instruments" / "builtin.yaml"
DOCS_FILE = ROOT / "docs" / "instrument.md"


@pytest.fixture
def builtin() -> InstrumentSpec:
    return load_builtin()


@pytest.fixture
def data(builtin: InstrumentSpec) -> dict[str, Any]:
    """A fresh, valid, mutable instrument mapping for each test."""
    return copy.deepcopy(dump_instrument(builtin))


def problems_of(source: Any) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        load_instrument(source)
    return info.value.problems


# --------------------------------------------------------------------------- built-in


def test_builtin_file_validates(builtin: InstrumentSpec) -> None:
    assert load_instrument(BUILTIN_FILE) == builtin
    assert builtin.key == "cx-alignment"
    assert builtin.version == 1
    assert "Alignment" in builtin.name
    assert builtin.description


def test_builtin_is_cached() -> None:
    assert load_builtin() is load_builtin()


def test_builtin_counts(builtin: InstrumentSpec) -> None:
    assert len(builtin.dimensions) >= 11
    assert len(builtin.items) >= 40
    assert sum(item.reverse for item in builtin.items) >= 5
    # At most one single-item dimension: one item cannot carry a construct alone.
    assert sum(len(dim.items) < 2 for dim in builtin.dimensions) <= 1


def test_builtin_scales(builtin: InstrumentSpec) -> None:
    scales = {scale.key: scale for scale in builtin.scales}
    kinds = {scale.kind for scale in scales.values()}
    assert {"agreement", "frequency"} <= kinds
    assert any(s.kind == "agreement" and s.points == 5 for s in scales.values())
    assert any(s.kind == "frequency" and s.points == 5 for s in scales.values())
    assert any(s.points == 7 for s in scales.values())
    freq = next(s for s in scales.values() if s.kind == "frequency")
    assert (freq.labels[0], freq.labels[-1]) == ("Never", "Always")
    for scale in scales.values():
        assert len(set(scale.labels)) == scale.points
        assert (scale.minimum, scale.maximum) == (1, scale.points)


def test_builtin_open_questions_per_group(builtin: InstrumentSpec) -> None:
    for group in GROUPS:
        assert 1 <= len(builtin.open_questions_for(group)) <= 3
    codes = [q.code for q in builtin.open_questions]
    assert len(set(codes)) == len(codes)


def test_builtin_items_have_two_distinct_wordings(builtin: InstrumentSpec) -> None:
    for item in builtin.items:
        assert item.executive.strip() and item.cx_professional.strip(), item.code
        assert item.executive != item.cx_professional, item.code
        assert item.wording("executive") == item.executive
        assert item.wording("cx_professional") == item.cx_professional
        # One construct per item: a question is a question, a statement a statement.
        assert item.executive.endswith("?") == item.cx_professional.endswith("?"), item.code
        assert item.help is None or item.help.strip()


def test_builtin_codes_are_stable_and_grouped(builtin: InstrumentSpec) -> None:
    codes = [item.code for item in builtin.items]
    assert len(set(codes)) == len(codes)
    for dim in builtin.dimensions:
        assert 0 <= dim.importance <= 1
        assert dim.name and dim.description and dim.finding
        for item in dim.items:
            # Item codes carry their dimension's code, so exports stay readable.
            assert re.fullmatch(rf"{dim.code}_\d+", item.code), item.code
            assert builtin.dimension_of(item.code) is dim
            assert builtin.item(item.code) is item


def test_builtin_covers_the_researched_dimensions(builtin: InstrumentSpec) -> None:
    codes = {dim.code for dim in builtin.dimensions}
    assert {
        "LEAD_FOCUS",
        "AWARE",
        "ENGAGE",
        "STRATEGY",
        "INVEST",
        "ACCOUNT",
        "CX_LEAD",
        "VOC",
        "LOOP",
        "EMPLOYEE",
        "DISCIPLINE",
        "CUST_VIEW",
    } <= codes


def test_compensation_offers_dont_know(builtin: InstrumentSpec) -> None:
    # CX professionals rarely know how executives are paid.
    item = builtin.item("ACCOUNT_1")
    assert "compensation" in item.cx_professional
    assert item.dont_know


def test_docs_describe_every_dimension_and_item(builtin: InstrumentSpec) -> None:
    docs = DOCS_FILE.read_text("utf-8")
    for dim in builtin.dimensions:
        assert dim.code in docs and dim.name in docs
    for item in builtin.items:
        assert item.code in docs
        assert item.executive in docs, item.code
        assert item.cx_professional in docs, item.code


# --------------------------------------------------------------------------- round trip


def test_round_trip_dict(builtin: InstrumentSpec) -> None:
    assert load_instrument(dump_instrument(builtin)) == builtin


def test_round_trip_yaml(builtin: InstrumentSpec) -> None:
    text = dump_instrument_yaml(builtin)
    assert text.startswith("#")
    assert load_instrument(text) == builtin


def test_round_trip_json(builtin: InstrumentSpec) -> None:
    assert load_instrument(json.dumps(dump_instrument(builtin), indent=2)) == builtin


def test_yaml_header_carries_no_free_text(builtin: InstrumentSpec) -> None:
    # A name with a line break must not escape the comment and inject keys.
    spec = InstrumentSpec(
        key="k",
        version=1,
        name="Evil\nkey: other",
        description="",
        dimensions=builtin.dimensions,
    )
    assert load_instrument(dump_instrument_yaml(spec)) == spec


def test_dump_is_plain_data(builtin: InstrumentSpec) -> None:
    dumped = dump_instrument(builtin)
    assert json.loads(json.dumps(dumped)) == dumped
    assert list(dumped)[:3] == ["format", "key", "version"]


def test_sources(tmp_path: Path, builtin: InstrumentSpec) -> None:
    text = dump_instrument_yaml(builtin)
    path = tmp_path / "instrument.yaml"
    path.write_text(text, "utf-8")
    assert load_instrument(path) == builtin
    assert load_instrument(str(path)) == builtin
    assert load_instrument(text.encode("utf-8")) == builtin
    assert load_instrument(io.BytesIO(text.encode("utf-8"))) == builtin
    assert load_instrument(io.StringIO(text)) == builtin


def test_optional_fields_have_defaults(data: dict[str, Any]) -> None:
    del data["format"], data["description"], data["open_questions"]
    dim = data["dimensions"][0]
    del dim["description"], dim["finding"], dim["importance"]
    item = dim["items"][0]
    del item["reverse"], item["dont_know"]
    item.pop("help", None)
    spec = load_instrument(data)
    assert spec.description == "" and spec.open_questions == ()
    first = spec.dimensions[0]
    assert (first.description, first.finding, first.importance) == ("", "", 0.5)
    assert not first.items[0].reverse and not first.items[0].dont_know
    assert first.items[0].help is None


def test_text_is_stripped(data: dict[str, Any]) -> None:
    data["dimensions"][0]["items"][0]["executive"] = "  How often?\n"
    assert load_instrument(data).items[0].executive == "How often?"


@pytest.mark.parametrize(
    "text",
    [
        "Line one\r\nline two",
        "Tab\there",
        "Quotes ' and \" both",
        "# not a comment",
        "key: value",
        "- not a list",
        "yes",
        "null",
        "1.0",
        "\ufeffStarts with a byte-order mark",
        "Ünïcödé, 中文 and 😀",
        "<b>not HTML</b> & {braces}",
    ],
)
def test_awkward_text_round_trips(builtin: InstrumentSpec, text: str) -> None:
    first = builtin.dimensions[0]
    item = replace(first.items[0], executive=text, help=text)
    dim = replace(first, name=text, items=(item, *first.items[1:]))
    spec = replace(builtin, name=text, dimensions=(dim, *builtin.dimensions[1:]))
    assert load_instrument(dump_instrument_yaml(spec)) == spec
    assert load_instrument(json.dumps(dump_instrument(spec))) == spec


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\ud800"])
def test_control_characters_are_refused(data: dict[str, Any], char: str) -> None:
    data["dimensions"][0]["items"][0]["executive"] = f"Before{char}after"
    problems = problems_of(data)
    assert problems == [
        "dimensions[0] (LEAD_FOCUS) item LEAD_FOCUS_1: 'executive' wording contains a control "
        f"character (U+{ord(char):04X})"
    ]


def test_conflicting_scales_cannot_be_dumped(builtin: InstrumentSpec) -> None:
    dim = builtin.dimensions[0]
    other = Scale("agree5", "agreement", ("No", "Yes"))
    item = ItemSpec("X_1", "a?", "b?", other)
    spec = InstrumentSpec(
        key="k",
        version=1,
        name="n",
        description="",
        dimensions=(dim, DimensionSpec("X", "x", "", 0.5, (item,))),
    )
    if not any(i.scale.key == "agree5" for i in dim.items):  # pragma: no cover
        pytest.skip("first dimension does not use agree5")
    with pytest.raises(InstrumentError, match="agree5"):
        dump_instrument(spec)


# --------------------------------------------------------------------------- bad files

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets ``data[a][b]...`` given the path ``"a.b..."``."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


BAD_CASES: dict[str, tuple[Mutation, str]] = {
    "missing wording": (
        _delete("dimensions.4.items.2.cx_professional"),
        "dimensions[4] (INVEST) item INVEST_3: missing 'cx_professional' wording",
    ),
    "empty wording": (
        _set("dimensions.0.items.0.executive", "   "),
        "item LEAD_FOCUS_1: 'executive' wording is empty",
    ),
    "control character in wording": (
        _set("dimensions.0.items.0.executive", "Bell\x07?"),
        "item LEAD_FOCUS_1: 'executive' wording contains a control character (U+0007)",
    ),
    "control character in label": (
        _set("scales.agree5.labels", ["No", "Ye\x00s"]),
        "scale 'agree5': label 2 is too long or contains a control character",
    ),
    "wording not text": (
        _set("dimensions.0.items.0.executive", ["a", "b"]),
        "item LEAD_FOCUS_1: 'executive' wording must be text, got a list",
    ),
    "unknown scale": (
        _set("dimensions.0.items.0.scale", "agree9"),
        "item LEAD_FOCUS_1: unknown scale 'agree9'",
    ),
    "missing scale": (_delete("dimensions.0.items.0.scale"), "item LEAD_FOCUS_1: missing 'scale'"),
    "duplicate item code": (
        _set("dimensions.1.items.0.code", "LEAD_FOCUS_1"),
        "item LEAD_FOCUS_1: duplicate code (also in dimension LEAD_FOCUS)",
    ),
    "duplicate dimension code": (
        _set("dimensions.1.code", "LEAD_FOCUS"),
        "dimensions[1] (LEAD_FOCUS): duplicate dimension code (also dimensions[0])",
    ),
    "lower-case code": (
        _set("dimensions.0.items.0.code", "lead_1"),
        "code 'lead_1' is not valid",
    ),
    "one-letter code": (_set("dimensions.0.code", "L"), "code 'L' is not valid"),
    "code not text": (
        _set("dimensions.0.items.0.code", False),
        "'code' must be text, got a boolean (false) (put it in quotes)",
    ),
    "missing code": (_delete("dimensions.0.items.0.code"), "dimensions[0] (LEAD_FOCUS) items[0]"),
    "importance above 1": (
        _set("dimensions.0.importance", 1.5),
        "dimensions[0] (LEAD_FOCUS): 'importance' must be between 0 and 1, got 1.5",
    ),
    "importance negative": (
        _set("dimensions.0.importance", -0.1),
        "'importance' must be between 0 and 1",
    ),
    "importance not a number": (
        _set("dimensions.0.importance", "high"),
        "'importance' must be a number from 0 to 1, got text",
    ),
    "importance nan": (_set("dimensions.0.importance", float("nan")), "between 0 and 1"),
    "reverse not a boolean": (
        _set("dimensions.0.items.0.reverse", "yes"),
        "item LEAD_FOCUS_1: 'reverse' must be true or false, got text ('yes')",
    ),
    "dont_know not a boolean": (
        _set("dimensions.0.items.0.dont_know", 1),
        "'dont_know' must be true or false, got a number (1)",
    ),
    "scale with one label": (
        _set("scales.agree5.labels", ["Yes"]),
        "scale 'agree5': needs 2 to 11",
    ),
    "scale with twelve labels": (
        _set("scales.agree5.labels", [f"L{i}" for i in range(12)]),
        "scale 'agree5': needs 2 to 11 labels, got 12",
    ),
    "scale with blank label": (
        _set("scales.agree5.labels", ["No", " ", "Yes"]),
        "scale 'agree5': label 2 must be non-empty text",
    ),
    "scale with repeated labels": (
        _set("scales.agree5.labels", ["No", "No"]),
        "scale 'agree5': labels must be distinct",
    ),
    "scale of unknown kind": (
        _set("scales.agree5.kind", "mood"),
        "scale 'agree5': unknown kind 'mood'",
    ),
    "open question with unknown group": (
        _set("open_questions.0.group", "ceo"),
        "open_questions[0] (OPEN_EXEC_CHANGE): unknown group 'ceo'",
    ),
    "open question without text": (
        _set("open_questions.0.text", ""),
        "open_questions[0] (OPEN_EXEC_CHANGE): 'text' is empty",
    ),
    "open question code used by an item": (
        _set("open_questions.0.code", "LOOP_1"),
        "open_questions[0] (LOOP_1): code already used by an item in dimension LOOP",
    ),
    "duplicate open question code": (
        _set("open_questions.1.code", "OPEN_EXEC_CHANGE"),
        "open_questions[1] (OPEN_EXEC_CHANGE): duplicate code (also open_questions[0])",
    ),
    "unknown top-level key": (_set("colour", "blue"), "unknown top-level key 'colour'"),
    "typo in an item key": (
        _set("dimensions.0.items.0.revers", True),
        "item LEAD_FOCUS_1: unknown key 'revers' (did you mean 'reverse'?)",
    ),
    "unknown dimension key": (
        _set("dimensions.0.weight", 2),
        "dimensions[0] (LEAD_FOCUS): unknown key 'weight'",
    ),
    "missing key": (_delete("key"), "missing 'key'"),
    "bad key": (_set("key", "CX Alignment"), "key: 'CX Alignment' is not a valid key"),
    "version not a whole number": (_set("version", 1.5), "version: must be a whole number"),
    "version zero": (_set("version", 0), "version: must be a whole number of at least 1"),
    "version is text": (_set("version", "1"), "version: must be a whole number"),
    "missing name": (_delete("name"), "missing 'name'"),
    "unsupported format": (_set("format", "other/2"), "unsupported format 'other/2'"),
    "no dimensions": (_set("dimensions", []), "dimensions: the instrument has no dimensions"),
    "dimensions not a list": (_set("dimensions", {"a": 1}), "dimensions: must be a list"),
    "dimension without items": (
        _set("dimensions.0.items", []),
        "dimensions[0] (LEAD_FOCUS): the dimension has no items",
    ),
    "dimension not a mapping": (
        _set("dimensions.0", "LEAD_FOCUS"),
        "dimensions[0]: a dimension must be a mapping of fields, got text",
    ),
    "item not a mapping": (
        _set("dimensions.0.items.0", 7),
        "dimensions[0] (LEAD_FOCUS) items[0]: an item must be a mapping",
    ),
    "missing scales": (_delete("scales"), "missing 'scales'"),
    "open questions not a list": (_set("open_questions", "none"), "open_questions: must be a list"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_names_the_problem(case: str, data: dict[str, Any]) -> None:
    mutate, expected = BAD_CASES[case]
    mutate(data)
    problems = problems_of(data)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_names_the_problem_through_yaml(case: str, data: dict[str, Any]) -> None:
    """The same errors arrive when the mapping is read back from a file."""
    mutate, expected = BAD_CASES[case]
    mutate(data)
    if case == "importance nan":
        expected = "got nan"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    problems = problems_of(text)
    assert any(expected in problem for problem in problems), problems


def test_missing_scales_does_not_bury_the_problem(data: dict[str, Any]) -> None:
    # Without a scales section every item's scale is unknown; say it once.
    del data["scales"]
    assert problems_of(data) == ["missing 'scales'"]


def test_broken_scale_is_reported_once(data: dict[str, Any]) -> None:
    data["scales"]["agree5"]["labels"] = ["Only"]
    problems = problems_of(data)
    assert problems == ["scale 'agree5': needs 2 to 11 labels, got 1"]


def test_all_problems_are_reported_at_once(data: dict[str, Any]) -> None:
    picked = [
        "missing wording",
        "unknown scale",
        "duplicate item code",
        "importance above 1",
        "open question with unknown group",
        "unknown top-level key",
        "reverse not a boolean",
    ]
    for case in picked:
        BAD_CASES[case][0](data)
    with pytest.raises(InstrumentError) as info:
        load_instrument(data)
    problems = info.value.problems
    assert len(problems) == len(picked)
    for case in picked:
        assert any(BAD_CASES[case][1] in p for p in problems), case
    message = str(info.value)
    assert message.startswith(f"Invalid instrument ({len(picked)} problems):")
    for problem in problems:
        assert f"- {problem}" in message


def test_problem_list_is_capped(data: dict[str, Any], builtin: InstrumentSpec) -> None:
    for dim in data["dimensions"]:
        for item in dim["items"]:
            item["scale"] = "nope"
            item["reverse"] = "no"
            item["dont_know"] = "no"
    problems = problems_of(data)
    assert len(problems) == 101
    assert problems[-1] == f"... and {3 * len(builtin.items) - 100} more problems"


def test_single_problem_message() -> None:
    with pytest.raises(InstrumentError, match=r"^Invalid instrument: the instrument is empty$"):
        load_instrument("")


def test_error_is_a_value_error() -> None:
    assert issubclass(InstrumentError, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key: cx\nname: [unclosed\nversion: 1\n", r"invalid YAML at line \d+, column \d+"),
        ("key: cx\n  name: x\n", r"invalid YAML at line 2, column 7: mapping values"),
        ("key: cx\n\tname: x\n", r"invalid YAML at line 2"),
        ('{"key": "cx",\n "version": 1,,\n}', r"invalid JSON at line 2, column 15"),
    ],
)
def test_invalid_syntax_reports_the_line(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert re.search(expected, problems[0]), problems


def test_unsafe_yaml_tags_are_refused() -> None:
    # safe_load refuses arbitrary Python objects.
    problems = problems_of("key: !!python/object/apply:os.system ['true']\nversion: 1\n")
    assert "invalid YAML" in problems[0]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("- a\n- b\n", "must be a mapping of fields at the top level, got a list"),
        ("just words\nover two lines\n", "got text"),
        ("# only a comment\n", "the instrument is empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (12, "cannot read an instrument from int"),
    ],
)
def test_unusable_documents(source: Any, expected: str) -> None:
    assert expected in problems_of(source)[0]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"),
        ("x" * 2_000_001, "too large"),
        (b"x" * 2_000_001, "too large"),
    ],
)
def test_hostile_documents_are_refused_cleanly(source: Any, expected: str) -> None:
    assert expected in problems_of(source)[0]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems_of(missing) == [f"{missing}: no such file"]
    assert problems_of(str(missing)) == [f"{missing}: no such file"]


# --------------------------------------------------------------------------- properties

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.lists(st.sampled_from(["dimensions", "items", "scales", "0", "1", "code"]), max_size=4),
    value=_json,
)
def test_any_damage_gives_a_spec_or_instrument_error(path: list[str], value: Any) -> None:
    """Whatever is put wherever, the loader answers with a spec or an InstrumentError."""
    data = copy.deepcopy(dump_instrument(load_builtin()))
    node: Any = data
    for part in path:
        key: Any = int(part) if part.isdigit() and isinstance(node, list) else part
        try:
            child = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if not isinstance(child, dict | list):
            break
        node = child
    if isinstance(node, dict):
        node[path[-1] if path else "code"] = value
    elif isinstance(node, list) and node:
        node[0] = value
    try:
        load_instrument(data)
    except InstrumentError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(value=_json)
def test_any_document_gives_a_spec_or_instrument_error(value: Any) -> None:
    with pytest.raises(InstrumentError):
        load_instrument(json.dumps(value) if isinstance(value, dict) else value)


_code = st.from_regex(r"[A-Z][A-Z0-9_]{1,12}", fullmatch=True)
# Any printable text, line breaks included; control characters are refused (tested above).
_chars = st.characters(exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp"), include_characters="\n\t")
_text = st.text(_chars, min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def specs(draw: st.DrawFn) -> InstrumentSpec:
    """Valid specs of random shape and wording."""
    scales = [
        Scale(
            key=f"s{i}",
            kind=draw(st.sampled_from(["agreement", "frequency", "extent"])),
            labels=tuple(draw(st.lists(_text, min_size=2, max_size=11, unique=True))),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    codes = iter(draw(st.lists(_code, min_size=16, max_size=16, unique=True)))
    dimensions = []
    for _ in range(draw(st.integers(1, 3))):
        items = tuple(
            ItemSpec(
                code=next(codes),
                executive=draw(_text),
                cx_professional=draw(_text),
                scale=draw(st.sampled_from(scales)),
                reverse=draw(st.booleans()),
                dont_know=draw(st.booleans()),
                help=draw(st.none() | _text),
            )
            for _ in range(draw(st.integers(1, 3)))
        )
        dimensions.append(
            DimensionSpec(
                code=next(codes),
                name=draw(_text),
                description=draw(st.just("") | _text),
                importance=draw(st.floats(0, 1)),
                items=items,
                finding=draw(st.just("") | _text),
            )
        )
    open_questions = tuple(
        OpenQuestionSpec(code=next(codes), group=draw(st.sampled_from(GROUPS)), text=draw(_text))
        for _ in range(draw(st.integers(0, 2)))
    )
    return InstrumentSpec(
        key=draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)),
        version=draw(st.integers(1, 10**6)),
        name=draw(_text),
        description=draw(st.just("") | _text),
        dimensions=tuple(dimensions),
        open_questions=open_questions,
    )


@settings(max_examples=100, deadline=None)
@given(spec=specs())
def test_round_trip_of_any_valid_spec(spec: InstrumentSpec) -> None:
    assert load_instrument(dump_instrument(spec)) == spec
    assert load_instrument(dump_instrument_yaml(spec)) == spec


def test_docs_example_file_is_valid() -> None:
    docs = DOCS_FILE.read_text("utf-8")
    example = re.search(r"```yaml\n(.*?)```", docs, re.S)
    assert example, "docs/instrument.md has no YAML example"
    spec = load_instrument(example.group(1))
    assert spec.key == "board-pulse"
    assert [item.reverse for item in spec.items] == [False, True]
