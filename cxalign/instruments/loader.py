"""Read, validate and write instrument files.

An instrument file is YAML (or JSON, which YAML reads too) with this shape::

    format: cxalign-instrument/1     # optional
    key: cx-alignment
    version: 1
    name: CX Executive Alignment Index
    description: ...
    scales:
      agree5: {kind: agreement, labels: [Strongly disagree, ..., Strongly agree]}
    dimensions:
      - code: LEAD_FOCUS
        name: Leadership customer focus
        description: ...
        finding: ...
        importance: 0.9
        items:
          - {code: LEAD_FOCUS_1, executive: ..., cx_professional: ..., scale: agree5,
             reverse: false, dont_know: false, help: ...}
    open_questions:
      - {code: OPEN_EXEC_1, group: executive, text: ...}

Validation never stops at the first mistake: a person fixing an uploaded file
should see every problem at once, each one naming where it is.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cxalign.instruments.spec import (
    GROUPS,
    DimensionSpec,
    InstrumentSpec,
    ItemSpec,
    OpenQuestionSpec,
    Scale,
)

__all__ = [
    "FORMAT",
    "SCALE_KINDS",
    "InstrumentError",
    "dump_instrument",
    "dump_instrument_yaml",
    "load_builtin",
    "load_instrument",
]

FORMAT = "cxalign-instrument/1"
SCALE_KINDS = ("agreement", "frequency", "extent")
MIN_LABELS, MAX_LABELS = 2, 11

# Codes become CSV column names and URL fragments, so keep them plain; 40 is the
# column width in the database.
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
SCALE_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
# Characters YAML cannot carry (control characters, lone surrogates) or that it
# reads as line breaks (NEL, U+2028, U+2029): they would make an exported file
# unreadable or change on the way back, and never belong in a question anyway.
UNPRINTABLE_RE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

# Limits that keep an uploaded file from exhausting memory or producing an
# unusable questionnaire; far above anything a real instrument needs.
MAX_SOURCE_CHARS = 2_000_000
MAX_TEXT_CHARS = 2_000
MAX_DIMENSIONS = 100
MAX_ITEMS_PER_DIMENSION = 100
MAX_OPEN_QUESTIONS = 50
MAX_PROBLEMS = 100

TOP_KEYS = ("format", "key", "version", "name", "description", "scales", "dimensions")
TOP_KEYS += ("open_questions",)
SCALE_KEYS = ("kind", "labels")
DIMENSION_KEYS = ("code", "name", "description", "finding", "importance", "items")
ITEM_KEYS = ("code", "executive", "cx_professional", "scale", "reverse", "dont_know", "help")
OPEN_QUESTION_KEYS = ("code", "group", "text")
WORDING_FIELDS = ("executive", "cx_professional")

_MISSING = object()


class InstrumentError(ValueError):
    """An instrument file or mapping is not valid.

    ``problems`` lists every problem found, each naming its place in the file.
    """

    def __init__(self, problems: list[str] | tuple[str, ...] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return f"Invalid instrument: {self.problems[0]}"
        lines = "\n".join(f"- {p}" for p in self.problems)
        return f"Invalid instrument ({len(self.problems)} problems):\n{lines}"


# --------------------------------------------------------------------------- reading


def load_instrument(
    source: str | bytes | os.PathLike[str] | Mapping[str, Any] | Any,
) -> InstrumentSpec:
    """Validate an instrument and return its spec.

    ``source`` may be a mapping (already parsed), a path (``Path``, or a one-line
    ``str`` ending in ``.yaml``, ``.yml`` or ``.json``), YAML or JSON text (``str``
    or UTF-8 ``bytes``), or an open file. Text from users (uploads, form fields)
    should be passed as ``bytes`` or a file object, which are never taken for
    paths. Raises ``InstrumentError`` listing every problem found.
    """
    data = source if isinstance(source, Mapping) else _parse(_read_text(source))
    return _Validator().instrument(data)


@functools.cache
def load_builtin() -> InstrumentSpec:
    """The built-in instrument shipped with the package (parsed once per process)."""
    text = resources.files("cxalign.instruments").joinpath("builtin.yaml").read_text("utf-8")
    return load_instrument(text)


def _read_text(source: Any) -> str:
    """Turn any accepted non-mapping source into text."""
    if isinstance(source, os.PathLike):
        return _read_file(Path(source))
    if isinstance(source, str):
        return _read_file(Path(source)) if _looks_like_path(source) else source
    # Content read from bytes or a file is never taken for a path: an uploaded
    # file saying "/etc/secret.yaml" must not make the server read that file.
    if hasattr(source, "read"):  # an open file or an uploaded FileStorage
        source = source.read(MAX_SOURCE_CHARS + 1)
    if isinstance(source, bytes | bytearray):
        if len(source) > MAX_SOURCE_CHARS:
            raise InstrumentError(f"the file is too large (more than {MAX_SOURCE_CHARS} bytes)")
        try:
            return bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InstrumentError(f"the file is not UTF-8 text (byte {exc.start})") from None
    if isinstance(source, str):
        return source
    raise InstrumentError(
        f"cannot read an instrument from {type(source).__name__}; "
        "give a path, YAML or JSON text, or a mapping"
    )


def _looks_like_path(text: str) -> bool:
    # A real instrument document spans several lines, so a single line ending in
    # an instrument file's extension is a path. Only the extension counts, so
    # that pasted text such as "/etc/passwd" is never opened as a file.
    return "\n" not in text and text.strip().lower().endswith((".yaml", ".yml", ".json"))


def _read_file(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_SOURCE_CHARS * 4:
            raise InstrumentError(f"{path.name}: the file is too large")
        return path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise InstrumentError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read the file ({exc.strerror})") from None


_TOO_DEEP = "the file is nested too deeply to be an instrument"


def _parse(text: str) -> Any:
    """Parse YAML or JSON text, turning syntax errors into a located problem."""
    if len(text) > MAX_SOURCE_CHARS:
        raise InstrumentError(f"the file is too large (more than {MAX_SOURCE_CHARS} characters)")
    json_error: str | None = None
    if text.lstrip().startswith("{"):
        # JSON first: its error messages are more precise for JSON input.
        try:
            return json.loads(text)
        except RecursionError:
            raise InstrumentError(_TOO_DEEP) from None
        except json.JSONDecodeError as exc:
            json_error = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    try:
        return yaml.safe_load(text)
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise InstrumentError(_TOO_DEEP) from None
    except yaml.MarkedYAMLError as exc:
        if json_error:
            raise InstrumentError(json_error) from None
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "syntax error"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InstrumentError(f"invalid YAML{where}: {what}") from None
    except yaml.YAMLError as exc:
        raise InstrumentError(json_error or f"invalid YAML: {exc}") from None


# --------------------------------------------------------------------------- validation


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


class _Validator:
    """Walks a parsed document, collecting every problem, and builds the spec."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.unlisted = 0  # problems beyond MAX_PROBLEMS, only counted

    def add(self, where: str, message: str) -> None:
        # A badly broken file (or one pasting the same block a hundred times) could
        # produce thousands of messages; nobody reads past the first hundred.
        if len(self.problems) >= MAX_PROBLEMS:
            self.unlisted += 1
            return
        self.problems.append(f"{where}: {message}" if where else message)

    # ---- small field checks; each returns None when the value is unusable

    def unknown_keys(self, where: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                what = "top-level key" if not where else "key"
                # A typo ("revers") deserves a direct suggestion, not just the list.
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "expected one of: "
                hint += "" if close else ", ".join(allowed)
                self.add(where, f"unknown {what} {key!r} ({hint})")

    def text(
        self,
        where: str,
        data: Mapping[str, Any],
        field: str,
        *,
        required: bool = True,
        default: str | None = "",
        label: str | None = None,
    ) -> str | None:
        label = label or f"{field!r}"
        value = data.get(field)
        if value is None:  # absent, or present with nothing after the colon
            if required:
                self.add(where, f"missing {label}")
                return None
            return default
        if not isinstance(value, str):
            self.add(where, f"{label} must be text, got {_type_name(value)}")
            return None
        # Folded YAML blocks end with a newline; the spec never keeps edge spaces.
        value = value.strip()
        if not value:
            if required:
                self.add(where, f"{label} is empty")
                return None
            return default
        if len(value) > MAX_TEXT_CHARS:
            self.add(
                where, f"{label} is too long ({len(value)} characters, at most {MAX_TEXT_CHARS})"
            )
            return None
        if bad := UNPRINTABLE_RE.search(value):
            self.add(where, f"{label} contains a control character (U+{ord(bad.group()):04X})")
            return None
        return value

    def flag(self, where: str, data: Mapping[str, Any], field: str) -> bool | None:
        value = data.get(field, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(where, f"{field!r} must be true or false, got {_type_name(value)}")
            return None
        return value

    def code(self, where: str, data: Mapping[str, Any]) -> str | None:
        value = data.get("code", _MISSING)
        if value is _MISSING or value is None:
            self.add(where, "missing 'code'")
            return None
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(value, bool | int | float) else ""
            self.add(where, f"'code' must be text, got {_type_name(value)}{hint}")
            return None
        if not CODE_RE.match(value):
            self.add(
                where,
                f"code {value!r} is not valid: use 2-40 capital letters, digits or "
                "underscores, starting with a letter",
            )
            return None
        return value

    def mapping(self, where: str, value: Any, what: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(where, f"{what} must be a mapping of fields, got {_type_name(value)}")
            return None
        return value

    # ---- the document

    def instrument(self, data: Any) -> InstrumentSpec:
        if data is None:
            raise InstrumentError("the instrument is empty")
        if not isinstance(data, Mapping):
            raise InstrumentError(
                "the instrument must be a mapping of fields at the top level, "
                f"got {_type_name(data)}"
            )
        self.unknown_keys("", data, TOP_KEYS)

        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            self.add("format", f"unsupported format {fmt!r} (expected {FORMAT!r})")

        key = data.get("key", _MISSING)
        if key is _MISSING or key is None:
            self.add("", "missing 'key'")
            key = None
        elif not isinstance(key, str) or not KEY_RE.match(key):
            self.add(
                "key",
                f"{key!r} is not a valid key: use lower-case letters, digits, '-' or '_'",
            )
            key = None

        version = data.get("version", _MISSING)
        if version is _MISSING or version is None:
            self.add("", "missing 'version'")
            version = None
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.add("version", f"must be a whole number of at least 1, got {version!r}")
            version = None

        name = self.text("", data, "name")
        description = self.text("", data, "description", required=False)

        scales, broken_scales = self.scales(data.get("scales", _MISSING))
        dimensions = self.dimensions(data.get("dimensions", _MISSING), scales, broken_scales)
        open_questions = self.open_questions(data.get("open_questions"), dimensions)

        if self.problems:
            more = [f"... and {self.unlisted} more problems"] if self.unlisted else []
            raise InstrumentError(self.problems + more)
        assert key is not None and version is not None and name is not None
        return InstrumentSpec(
            key=key,
            version=version,
            name=name,
            description=description or "",
            dimensions=tuple(d for d in dimensions if d is not None),
            open_questions=open_questions,
        )

    def scales(self, value: Any) -> tuple[dict[str, Scale], set[str] | None]:
        """Return the valid scales and the names of broken ones (None: section unusable)."""
        if value is _MISSING or value is None:
            self.add("", "missing 'scales'")
            return {}, None
        if not isinstance(value, Mapping):
            self.add("scales", f"must be a mapping of scale names, got {_type_name(value)}")
            return {}, None
        if not value:
            self.add("scales", "no scales defined")
        scales: dict[str, Scale] = {}
        broken: set[str] = set()
        for name, body in value.items():
            where = f"scale {name!r}"
            valid = self.scale(where, name, body)
            if valid is None:
                broken.add(str(name))
            else:
                scales[name] = valid
        return scales, broken

    def scale(self, where: str, name: Any, body: Any) -> Scale | None:
        ok = True
        if not isinstance(name, str) or not SCALE_KEY_RE.match(name):
            self.add(where, "name must start with a letter and use only letters, digits, '-', '_'")
            ok = False
        spec = self.mapping(where, body, "a scale")
        if spec is None:
            return None
        self.unknown_keys(where, spec, SCALE_KEYS)
        kind = spec.get("kind", _MISSING)
        if kind is _MISSING or kind is None:
            self.add(where, "missing 'kind'")
            ok = False
        elif kind not in SCALE_KINDS:
            self.add(where, f"unknown kind {kind!r} (expected one of: {', '.join(SCALE_KINDS)})")
            ok = False
        labels = spec.get("labels", _MISSING)
        if labels is _MISSING or labels is None:
            self.add(where, "missing 'labels'")
            return None
        if not isinstance(labels, list):
            self.add(where, f"'labels' must be a list, got {_type_name(labels)}")
            return None
        if not MIN_LABELS <= len(labels) <= MAX_LABELS:
            self.add(
                where,
                f"needs {MIN_LABELS} to {MAX_LABELS} labels, got {len(labels)}",
            )
            ok = False
        clean: list[str] = []
        for i, label in enumerate(labels, start=1):
            if not isinstance(label, str) or not label.strip():
                self.add(where, f"label {i} must be non-empty text, got {_type_name(label)}")
                ok = False
            elif len(label) > MAX_TEXT_CHARS or UNPRINTABLE_RE.search(label):
                self.add(where, f"label {i} is too long or contains a control character")
                ok = False
            else:
                clean.append(label.strip())
        if len(set(clean)) != len(clean):
            self.add(where, "labels must be distinct")
            ok = False
        return Scale(key=name, kind=kind, labels=tuple(clean)) if ok else None

    def dimensions(
        self, value: Any, scales: dict[str, Scale], broken_scales: set[str] | None
    ) -> list[DimensionSpec | None]:
        if value is _MISSING or value is None:
            self.add("", "missing 'dimensions'")
            return []
        if not isinstance(value, list):
            self.add("dimensions", f"must be a list, got {_type_name(value)}")
            return []
        if not value:
            self.add("dimensions", "the instrument has no dimensions")
        if len(value) > MAX_DIMENSIONS:
            self.add("dimensions", f"too many dimensions ({len(value)}, at most {MAX_DIMENSIONS})")
            return []
        dim_seen: dict[str, int] = {}
        item_seen: dict[str, str] = {}  # item code -> dimension label where first seen
        result: list[DimensionSpec | None] = []
        for i, body in enumerate(value):
            where = f"dimensions[{i}]"
            raw_code = body.get("code") if isinstance(body, Mapping) else None
            if isinstance(raw_code, str) and raw_code:
                where += f" ({raw_code})"
            dim = self.mapping(where, body, "a dimension")
            if dim is None:
                result.append(None)
                continue
            self.unknown_keys(where, dim, DIMENSION_KEYS)
            code = self.code(where, dim)
            if code is not None:
                if code in dim_seen:
                    self.add(where, f"duplicate dimension code (also dimensions[{dim_seen[code]}])")
                else:
                    dim_seen[code] = i
            name = self.text(where, dim, "name")
            description = self.text(where, dim, "description", required=False)
            finding = self.text(where, dim, "finding", required=False)
            importance = self.importance(where, dim)
            items = self.items(where, dim, code, scales, broken_scales, item_seen)
            if None in (code, name, importance, items):
                result.append(None)
                continue
            assert code is not None and name is not None and importance is not None
            result.append(
                DimensionSpec(
                    code=code,
                    name=name,
                    description=description or "",
                    importance=importance,
                    items=tuple(items or ()),
                    finding=finding or "",
                )
            )
        return result

    def importance(self, where: str, dim: Mapping[str, Any]) -> float | None:
        value = dim.get("importance", 0.5)  # the model's default as well
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, f"'importance' must be a number from 0 to 1, got {_type_name(value)}")
            return None
        if not (math.isfinite(value) and 0 <= value <= 1):
            self.add(where, f"'importance' must be between 0 and 1, got {value:g}")
            return None
        return float(value)

    def items(
        self,
        dim_where: str,
        dim: Mapping[str, Any],
        dim_code: str | None,
        scales: dict[str, Scale],
        broken_scales: set[str] | None,
        item_seen: dict[str, str],
    ) -> tuple[ItemSpec, ...] | None:
        value = dim.get("items", _MISSING)
        if value is _MISSING or value is None:
            self.add(dim_where, "missing 'items'")
            return None
        if not isinstance(value, list):
            self.add(dim_where, f"'items' must be a list, got {_type_name(value)}")
            return None
        if not value:
            self.add(dim_where, "the dimension has no items")
            return None
        if len(value) > MAX_ITEMS_PER_DIMENSION:
            self.add(dim_where, f"too many items ({len(value)}, at most {MAX_ITEMS_PER_DIMENSION})")
            return None
        dim_label = dim_code or dim_where
        items: list[ItemSpec] = []
        ok = True
        for j, body in enumerate(value):
            raw_code = body.get("code") if isinstance(body, Mapping) else None
            if isinstance(raw_code, str) and raw_code:
                where = f"{dim_where} item {raw_code}"
            else:
                where = f"{dim_where} items[{j}]"
            item = self.item(where, body, scales, broken_scales)
            if item is not None:
                if item.code in item_seen:
                    self.add(where, f"duplicate code (also in dimension {item_seen[item.code]})")
                    ok = False
                else:
                    item_seen[item.code] = dim_label
                items.append(item)
            else:
                ok = False
                if isinstance(raw_code, str) and CODE_RE.match(raw_code):
                    # Still remember the code so that later duplicates are reported.
                    item_seen.setdefault(raw_code, dim_label)
        return tuple(items) if ok else None

    def item(
        self,
        where: str,
        body: Any,
        scales: dict[str, Scale],
        broken_scales: set[str] | None,
    ) -> ItemSpec | None:
        data = self.mapping(where, body, "an item")
        if data is None:
            return None
        self.unknown_keys(where, data, ITEM_KEYS)
        code = self.code(where, data)
        wordings = {
            field: self.text(where, data, field, label=f"{field!r} wording")
            for field in WORDING_FIELDS
        }
        scale = self.item_scale(where, data, scales, broken_scales)
        reverse = self.flag(where, data, "reverse")
        dont_know = self.flag(where, data, "dont_know")
        help_text = self.text(where, data, "help", required=False, default=None)
        if None in (code, scale, reverse, dont_know) or None in wordings.values():
            return None
        return ItemSpec(
            code=code,  # type: ignore[arg-type]
            executive=wordings["executive"],  # type: ignore[arg-type]
            cx_professional=wordings["cx_professional"],  # type: ignore[arg-type]
            scale=scale,  # type: ignore[arg-type]
            reverse=bool(reverse),
            dont_know=bool(dont_know),
            help=help_text,
        )

    def item_scale(
        self,
        where: str,
        data: Mapping[str, Any],
        scales: dict[str, Scale],
        broken_scales: set[str] | None,
    ) -> Scale | None:
        name = data.get("scale", _MISSING)
        if name is _MISSING or name is None:
            self.add(where, "missing 'scale'")
            return None
        if not isinstance(name, str):
            self.add(where, f"'scale' must be the name of a scale, got {_type_name(name)}")
            return None
        if name in scales:
            return scales[name]
        # A broken scale was reported already; a missing section makes every
        # reference unknown, which would only bury the real problem.
        if broken_scales is not None and name not in broken_scales:
            known = ", ".join(sorted(scales)) or "none defined"
            self.add(where, f"unknown scale {name!r} (known: {known})")
        return None

    def open_questions(
        self, value: Any, dimensions: list[DimensionSpec | None]
    ) -> tuple[OpenQuestionSpec, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add("open_questions", f"must be a list, got {_type_name(value)}")
            return ()
        if len(value) > MAX_OPEN_QUESTIONS:
            self.add(
                "open_questions", f"too many questions ({len(value)}, at most {MAX_OPEN_QUESTIONS})"
            )
            return ()
        # Free-text answers share the import CSV's columns with items, so the codes
        # must not collide.
        item_dims = {item.code: d.code for d in dimensions if d for item in d.items}
        seen: dict[str, int] = {}
        result: list[OpenQuestionSpec] = []
        for i, body in enumerate(value):
            where = f"open_questions[{i}]"
            raw_code = body.get("code") if isinstance(body, Mapping) else None
            if isinstance(raw_code, str) and raw_code:
                where += f" ({raw_code})"
            data = self.mapping(where, body, "an open question")
            if data is None:
                continue
            self.unknown_keys(where, data, OPEN_QUESTION_KEYS)
            code = self.code(where, data)
            if code is not None:
                if code in seen:
                    self.add(where, f"duplicate code (also open_questions[{seen[code]}])")
                    code = None
                elif code in item_dims:
                    self.add(where, f"code already used by an item in dimension {item_dims[code]}")
                    code = None
                else:
                    seen[code] = i
            group = data.get("group", _MISSING)
            if group is _MISSING or group is None:
                self.add(where, "missing 'group'")
                group = None
            elif group not in GROUPS:
                self.add(where, f"unknown group {group!r} (expected one of: {', '.join(GROUPS)})")
                group = None
            text = self.text(where, data, "text")
            if code and group and text:
                result.append(OpenQuestionSpec(code=code, group=group, text=text))
        return tuple(result)


# --------------------------------------------------------------------------- writing


def dump_instrument(spec: InstrumentSpec) -> dict[str, Any]:
    """The spec as plain data in the file format; ``load_instrument`` reads it back equal."""
    scales: dict[str, dict[str, Any]] = {}
    for scale in spec.scales:
        if scale.key in scales:
            # Two different scales under one name cannot be written as a file.
            raise InstrumentError(f"scale {scale.key!r}: two different scales share this name")
        scales[scale.key] = {"kind": scale.kind, "labels": list(scale.labels)}
    return {
        "format": FORMAT,
        "key": spec.key,
        "version": spec.version,
        "name": spec.name,
        "description": spec.description,
        "scales": scales,
        "dimensions": [
            {
                "code": dim.code,
                "name": dim.name,
                "description": dim.description,
                "finding": dim.finding,
                "importance": dim.importance,
                "items": [_dump_item(item) for item in dim.items],
            }
            for dim in spec.dimensions
        ],
        "open_questions": [
            {"code": q.code, "group": q.group, "text": q.text} for q in spec.open_questions
        ],
    }


def _dump_item(item: ItemSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": item.code,
        "executive": item.executive,
        "cx_professional": item.cx_professional,
        "scale": item.scale.key,
        "reverse": item.reverse,
        "dont_know": item.dont_know,
    }
    if item.help is not None:
        data["help"] = item.help
    return data


def dump_instrument_yaml(spec: InstrumentSpec) -> str:
    """The spec as an instrument file (YAML text), ready to edit and import again."""
    # No free text in the comment: a line break in a name would end the comment
    # and inject YAML into the file.
    header = (
        "# A cxalign instrument file. Edit it and import it again to make a new version;\n"
        "# docs/instrument.md describes the format.\n"
    )
    body = yaml.safe_dump(
        dump_instrument(spec), sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return header + body
