"""Hostile input, fuzzed: every form and every query string of the app.

For every rule of ``app.url_map`` that accepts POST/PUT/PATCH/DELETE, hypothesis sends
random and malformed requests built from the real form's field names (parsed from the
pages, and recorded from what the view reads; see ``tests/hostile.py``): over-long
strings, NUL bytes, lone surrogates and invalid UTF-8, numbers and dates out of range,
several values where one is expected, missing and unknown fields, JSON and garbage
bodies, hostile file uploads. Staff routes are used by the owner of the organisation
that owns the data; respondent and invitation routes anonymously, with a valid token.

What must hold for every request:

* the status is never 5xx;
* a rejection (4xx, the form shown again with its errors, or a redirect that flashes an
  error) leaves the whole database as it was: every table's row count and a hash of its
  rows (see ``hostile.snapshot``; nothing is excluded).

GET rules are fuzzed the same way through their query string (``page``, ``next``,
filters: every key the view was seen to read).

The number of examples per rule is small so that CI stays fast; set
``HOSTILE_FUZZ_EXAMPLES`` (e.g. 300) for a deeper run. Runs are derandomized: CI sees the
same examples every time.
"""

from __future__ import annotations

import io
import json
import os

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cxalign import create_app
from cxalign.extensions import db
from cxalign.models import Respondent, Survey, User
from tests.conftest import PASSWORD
from tests.hostile import (
    STATE_CHANGING,
    FormShape,
    Outcome,
    build_path,
    changed_tables,
    encode_form,
    plausible,
    send,
    snapshot,
    stage,
    user_for,
)

EXAMPLES = int(os.environ.get("HOSTILE_FUZZ_EXAMPLES", "0"))


def fuzz_settings(examples: int):
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def _rules_at_import(methods) -> list[str]:
    """Rule keys to parametrize over; the tests look the rules up again in the real app."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    keys = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        wanted = [m for m in methods if m in (rule.methods or ())]
        if wanted and rule.endpoint != "static":
            keys.append(f"{rule.endpoint} {rule.rule}")
    return keys


def rule_of(app: Flask, key: str):
    endpoint, _, path = key.partition(" ")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == endpoint and rule.rule == path:
            return rule
    raise LookupError(key)


# ---------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: sent as invalid UTF-8
    "x\udfffy",
    "x" * 201,
    "é" * 255,
    "w" * 5001,
    "long " * 20_000,
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "9" * 40,
    "-" + "9" * 40,
    "1e308",
    "-1e999",
    "NaN",
    "Infinity",
    "0x1F",
    "1_000",
    "0.000000000000000000000000000001",
    "2024-02-30",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "-0001-01-01",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "' OR '1'='1",
    "../../../etc/passwd",
    "%00",
    "\r\nX-Injected: 1",
    "@",
    "a@b",
    "ceo@example.com, executive",
    "x@example.com;executive;Name\x00",
    "\u202e\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃",
    "goto-99999999999999999999",
    "goto-0",
]

RAW_BYTES = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x00\x00", b"%\x00"]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.text(st.characters(codec=None, categories=["Cc", "Cs", "Co", "Zl"]), max_size=8),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates(min_value=__import__("datetime").date(1, 1, 1)).map(str),
)
hostile_value = st.one_of(hostile_text, st.sampled_from(RAW_BYTES), st.binary(max_size=12))


def value_for(samples: set[str]):
    if samples:
        return st.one_of(st.sampled_from(sorted(samples)), hostile_value)
    return hostile_value


@st.composite
def form_pairs(draw, shape: FormShape):
    """The real field names with plausible values, except one, a few or all of them:
    those are hostile, missing or repeated. Sometimes unknown fields too."""
    names = shape.field_names()
    mode = draw(st.sampled_from(["one", "one", "few", "all"]))
    if not names:
        hostile = set()
    elif mode == "one":
        hostile = {draw(st.sampled_from(names))}
    elif mode == "few":
        hostile = set(draw(st.lists(st.sampled_from(names), max_size=3)))
    else:
        hostile = set(names)
    pairs: list[tuple[str, str | bytes]] = []
    for name in names:
        if name not in hostile:
            pairs.append((name, plausible(name, shape)))
            continue
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
            pairs.append((name, draw(value_for(shape.fields.get(name, set())))))
    extra_names = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["item_NOPE", "comment_NOPE", "csrf_token", "id", "organisation_id"]),
    )
    if mode == "all" or not names:
        pairs += draw(st.lists(st.tuples(extra_names, hostile_value), max_size=3))
    return pairs


@st.composite
def query_pairs(draw, names: list[str], samples: dict[str, set[str]]):
    """Each known key: its real value (when there is one), a hostile value, or missing."""
    pairs = []
    for name in names:
        real = sorted(samples.get(name, ()))
        choice = draw(
            st.sampled_from(
                ["real", "real", "hostile", "missing"] if real else ["hostile", "missing"]
            )
        )
        if choice == "real":
            pairs.append((name, real[0]))
        elif choice == "hostile":
            pairs.append((name, draw(value_for(set(real)))))
    return pairs


PLAUSIBLE_CSV = b"email,group,name\nnew.person@example.com,executive,New Person\n"


def _leaves(document, path=()):
    """Paths to every string in a parsed document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _leaves(value, (*path, index))
    elif isinstance(document, str):
        yield path


@st.composite
def mutated_document(draw, raw: bytes):
    """A downloaded file (an exported instrument, a CSV) with one value made hostile."""
    import yaml

    value = draw(hostile_text)
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict | list):
        lines = raw.decode("utf-8", "replace").splitlines() or [""]
        index = draw(st.integers(0, len(lines) - 1))
        cells = lines[index].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = value
        lines[index] = ",".join(cells)
        return "\n".join(lines).encode("utf-8", "surrogatepass"), "mutated.csv"
    paths = list(_leaves(document))
    if paths:
        path = draw(st.sampled_from(paths))
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    if draw(st.booleans()):
        return json.dumps(document).encode(), "mutated.json"  # NUL and surrogates escaped
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text.encode("utf-8", "surrogatepass"), "mutated.yaml"


def file_upload(documents: list[bytes]):
    """(content, filename) of a hostile upload."""
    csv_like = st.lists(
        st.tuples(hostile_text, st.sampled_from(["executive", "cx_professional", "ceo"])),
        max_size=4,
    ).map(lambda rows: "\n".join(f"{a},{b}" for a, b in rows).encode("utf-8", "surrogatepass"))
    garbage = st.one_of(
        st.binary(max_size=200),
        csv_like,
        st.sampled_from(
            [
                b"",
                b"\xff\xfe" + "email,group\n".encode("utf-16-le"),
                b"email,group\nceo@example.com\x00,executive\n",
                b'{"key": "x\\u0000", "name": "\\ud800"}',
                b"key: [unclosed",
                b"\x00" * 100,
            ]
        ),
    )
    named = st.tuples(garbage, st.sampled_from(["r.csv", "i.yaml", "i.json", "", "../x.csv"]))
    return st.one_of(named, *(mutated_document(raw) for raw in [PLAUSIBLE_CSV, *documents]), named)


def _plain(value: str | bytes) -> str:
    """Multipart fields must be text for the test client: keep what can be encoded."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value.encode("utf-8", "replace").decode("utf-8")


@st.composite
def hostile_request(
    draw, shape: FormShape, methods: list[str], path: str, documents: list[bytes] = ()
):
    """(method, url, request kwargs) for one fuzzed request."""
    method = draw(st.sampled_from(methods))
    query = draw(query_pairs([*shape.query_names(), "next"], shape.query))
    url = path + ("?" + encode_form(query).decode("ascii") if query else "")
    pairs = draw(form_pairs(shape))
    encoding = draw(
        st.sampled_from(
            ["form"] * 5 + ["multipart"] * (3 if shape.files else 1) + ["json", "garbage"]
        )
    )
    if encoding == "form":
        return method, url, {"body": encode_form(pairs)}
    if encoding == "multipart":
        data = [(name, _plain(value)) for name, value in pairs if _plain(name)]
        for name in sorted(shape.files):
            if draw(st.sampled_from([True, True, True, False])) or not data:
                content, filename = draw(file_upload(list(documents)))
                data.append((name, (io.BytesIO(content), filename)))
        return method, url, {"data": _multidict(data), "content_type": "multipart/form-data"}
    if encoding == "json":
        document = draw(
            st.one_of(
                st.dictionaries(
                    st.sampled_from(shape.field_names() or ["name"]),
                    st.one_of(
                        hostile_text,
                        st.integers(),
                        st.none(),
                        st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                    ),
                ),
                st.lists(st.integers(), max_size=3),
                st.sampled_from(["text", 1, None, True]),
            )
        )
        body = json.dumps(document).encode()
        if draw(st.booleans()):
            body = body[: max(1, len(body) // 2)]  # malformed JSON
        return method, url, {"body": body, "content_type": "application/json"}
    content_type = draw(
        st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "multipart/form-data",
                "text/plain",
                "application/x-www-form-urlencoded; charset=utf-16",
            ]
        )
    )
    return method, url, {"body": draw(st.binary(max_size=300)), "content_type": content_type}


def _multidict(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------


def check(outcome: Outcome, method: str, url: str, baseline: dict, current) -> None:
    label = f"{method} {url[:200]!r} -> {outcome.status}"
    assert outcome.status < 500, f"{label}: server error"
    after = snapshot()
    changed = changed_tables(baseline, after)
    if outcome.is_rejection:
        assert not changed, f"{label}: rejected, yet changed {changed}"
    if changed:
        current.reset()  # a success: put the scene back for the next example


STATE_CHANGING_RULES = _rules_at_import(STATE_CHANGING)
GET_RULES = _rules_at_import(["GET"])


@pytest.mark.parametrize("key", STATE_CHANGING_RULES)
def test_fuzzed_posts_never_fail_and_rejections_change_nothing(app, key):
    rule = rule_of(app, key)
    current = stage(app)
    path = build_path(rule, current.scene)
    if path is None:
        pytest.skip(f"{key}: unknown URL parameter (test_route_isolation reports it)")
    shape = current.shapes.get(rule.endpoint, FormShape())
    methods = [m for m in STATE_CHANGING if m in rule.methods]
    user = user_for(rule, current.scene)
    baseline = snapshot()
    # Buttons without fields get fewer examples: only the body's framing varies.
    examples = 15 if shape.field_names() or shape.files else 4

    @fuzz_settings(examples)
    @given(request=hostile_request(shape, methods, path, current.documents))
    def fuzz(request):
        method, url, kwargs = request
        if "data" in kwargs:
            kwargs["data"] = _rewind(kwargs["data"])
        outcome = send(app, user, method, url, **kwargs)
        check(outcome, method, url, baseline, current)

    fuzz()


def _rewind(data):
    """Hypothesis may replay an example: file objects must start at the beginning again."""
    from werkzeug.datastructures import MultiDict

    rewound = MultiDict()
    for name, value in data.items(multi=True):
        if isinstance(value, tuple):
            stream, filename = value
            value = (io.BytesIO(stream.getvalue()), filename)
        rewound.add(name, value)
    return rewound


@pytest.mark.parametrize("key", GET_RULES)
def test_fuzzed_query_strings_never_fail(app, key):
    rule = rule_of(app, key)
    current = stage(app, pdf=rule.rule.endswith(".pdf"))
    path = build_path(rule, current.scene)
    if path is None:
        pytest.skip(f"{key}: unknown URL parameter (test_route_isolation reports it)")
    shape = current.shapes.get(rule.endpoint, FormShape())
    names = sorted({*shape.query_names(), "page", "next"})
    user = user_for(rule, current.scene)
    baseline = snapshot()
    if rule.rule.endswith(".pdf"):
        names = sorted(set(names) - {"paper"})  # a valid paper renders a PDF: slow

    @fuzz_settings(8 if shape.query_names() else 2)
    @given(pairs=query_pairs(names, shape.query))
    def fuzz(pairs):
        url = path + ("?" + encode_form(pairs).decode("ascii") if pairs else "")
        outcome = send(app, user, "GET", url)
        assert outcome.status < 500, f"GET {url[:200]!r} -> {outcome.status}: server error"
        if changed_tables(baseline, snapshot()):
            current.reset()

    fuzz()


# ---------------------------------------------------------------------------
# The JSON API: random credentials, bodies and headers
# ---------------------------------------------------------------------------

API_KEYS = [k for k in GET_RULES if k.partition(" ")[2].startswith("/api/")]

authorization = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            "Bearer",
            "Bearer ",
            "bearer cxa_",
            "Bearer cxa_" + "A" * 43,
            "Bearer cxa_" + "A" * 500,
            "Basic dXNlcjpwYXNz",
            "Bearer  cxa_x  extra",
            "Token cxa_abc",
            "Bearer \x00",
            "Bearer cxa_\u00e9\u00e9",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x10FFFF, exclude_categories=["Cs"]))
    .filter(lambda v: "\n" not in v and "\r" not in v)
    .map(lambda v: "Bearer " + v),
)


@pytest.mark.parametrize("key", API_KEYS)
def test_fuzzed_api_requests_answer_json_and_change_nothing(app, key):
    rule = rule_of(app, key)
    current = stage(app)
    path = build_path(rule, current.scene)
    baseline = snapshot()

    @fuzz_settings(20)
    @given(
        auth=authorization,
        method=st.sampled_from(["GET", "GET", "POST", "PUT", "PATCH", "DELETE"]),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", None]
        ),
        body=st.one_of(
            st.none(),
            st.binary(max_size=100),
            st.sampled_from([b"{", b"[]", b'{"survey_id": 1e999}', b"null", b'"\\ud800"']),
        ),
        extra=st.dictionaries(
            st.sampled_from(["If-None-Match", "Accept", "X-Forwarded-For", "Cookie"]),
            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
            max_size=2,
        ),
        survey_id=st.sampled_from([None, 0, 2**31, 2**63, 10**30]),
    )
    def fuzz(auth, method, content_type, body, extra, survey_id):
        headers = dict(extra)
        if auth is not None:
            headers["Authorization"] = auth
        url = path
        if survey_id is not None and "<int:survey_id>" in rule.rule:
            url = rule.rule.replace("<int:survey_id>", str(survey_id))
        outcome = send(
            app, None, method, url, body=body, content_type=content_type, headers=headers
        )
        label = f"{method} {url} Authorization={auth!r} -> {outcome.status}"
        assert outcome.status < 500, label
        assert outcome.headers.get("Content-Type", "").startswith("application/json") or (
            outcome.status == 304
        ), label
        if outcome.status in (401, 403, 404, 405):
            assert json.loads(outcome.body)["status"] == outcome.status, label
        assert not changed_tables(baseline, snapshot()), label

    fuzz()


# ---------------------------------------------------------------------------
# Regression tests for the bugs the fuzzing found
# ---------------------------------------------------------------------------


@pytest.fixture
def scene(app):
    return stage(app).scene


def test_nul_bytes_are_refused_with_400_everywhere(app, scene):
    """PostgreSQL cannot store NUL in text: the app refuses it before any view runs."""
    baseline = snapshot()
    cases = [
        ("POST", "/auth/login", {"email": "a\x00@example.com", "password": "x"}, None),
        ("POST", "/settings", {"name": "Acme\x00"}, scene.owner_id),
        ("POST", "/settings/api-tokens", {"name": "bi\x00"}, scene.owner_id),
        ("GET", "/surveys/outbox?survey=1%00", None, scene.owner_id),
        ("POST", f"/r/{scene.answering_token}/autosave", {"page": "1\x00"}, None),
    ]
    for method, url, data, user in cases:
        body = encode_form(data.items()) if data else None
        outcome = send(app, user, method, url, body=body)
        assert outcome.status == 400, (url, outcome.status)
        assert "NUL" in outcome.text or "null character" in outcome.text.lower()
    assert not changed_tables(baseline, snapshot())


def test_nul_in_a_url_is_a_400(app, scene):
    assert send(app, None, "GET", "/r/abc%00def").status == 400
    assert send(app, scene.owner_id, "GET", "/instruments/?x=%00").status == 400


def test_huge_page_numbers_are_refused_not_a_server_error(app, scene):
    for url in ("/audit?page=99999999999999999999", "/surveys/outbox?page=10000000000000000"):
        outcome = send(app, scene.owner_id, "GET", url)
        assert outcome.status in (200, 400), (url, outcome.status)


def test_huge_ids_in_urls_are_404(app, scene):
    for url in (f"/surveys/{2**63}", f"/surveys/{10**30}/results", f"/instruments/{2**40}"):
        assert send(app, scene.owner_id, "GET", url).status == 404, url


def test_out_of_range_ids_in_forms_and_query_strings(app, scene):
    """Were 500s: PostgreSQL "integer out of range", SQLite OverflowError, int("²")."""
    baseline = snapshot()
    huge = str(2**40)
    switch = send(
        app, scene.owner_id, "POST", "/organisations/switch", data={"organisation_id": huge}
    )
    assert switch.status == 400
    assert send(app, scene.owner_id, "GET", f"/surveys/outbox?survey={huge}").status == 200
    edit = f"/instruments/{scene.clone_id}/dimensions/edit?dimension="
    for value in (huge, "\u00b2", "1_0"):
        assert send(app, scene.owner_id, "GET", edit + value).status == 404, value
    page = f"/r/{scene.answering_token}/page/1"
    for nav in ("goto-\u00b2", "goto-" + "9" * 30):
        assert send(app, None, "POST", page, data={"nav": nav}).status == 400, nav
    assert not changed_tables(baseline, snapshot())


def test_json_bodies_on_forms_are_refused(app, scene):
    """Forms take form data only: Flask-WTF would otherwise read a JSON list or numbers."""
    baseline = snapshot()
    for body in (b"[1, 2]", b'{"name": 5}', b'{"name": {"a": 1}}', b'"text"'):
        outcome = send(
            app, scene.owner_id, "POST", "/settings", body=body, content_type="application/json"
        )
        assert outcome.status == 415, (body, outcome.status)
    assert not changed_tables(baseline, snapshot())


def test_over_long_text_is_a_form_error_not_a_server_error(app, scene):
    """Every String(n) column has a form limit of n (PostgreSQL enforces it)."""
    baseline = snapshot()
    cases = [
        (
            f"/surveys/{scene.survey_id}/respondents/link-only",
            {"one-group": "executive", "one-name": "n" * 201},
        ),
        (
            f"/surveys/{scene.survey_id}/respondents/paste",
            {"paste-lines": "a" * 250 + "@example.com, executive"},
        ),
        ("/settings/api-tokens", {"name": "t" * 101}),
        ("/settings", {"name": "o" * 201}),
        ("/auth/password", {"current": "x" * 300, "password": "p" * 300, "confirm": "p" * 300}),
    ]
    for url, data in cases:
        outcome = send(app, scene.owner_id, "POST", url, data=data)
        assert outcome.status < 500 and outcome.is_rejection, (url, outcome.status)
    assert not changed_tables(baseline, snapshot())


def test_signup_with_an_over_long_email_is_refused(app):
    stage(app)
    outcome = send(
        app,
        None,
        "POST",
        "/auth/signup",
        data={
            "name": "Ada",
            "email": "a" * 250 + "@example.com",
            "organisation": "Org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert outcome.status < 500 and outcome.is_rejection
    assert db.session.scalar(select(User).where(User.name == "Ada")) is None


def test_csv_upload_with_nul_bytes_or_bad_encoding_is_refused(app, scene):
    baseline = snapshot()
    for content in (
        b"email,group\nceo@example.com\x00,executive\n",
        b"\xff\xfe\x00e\x00m",
        b"email,group\n" + b"x" * 300 + b"@example.com,executive\n",
    ):
        outcome = send(
            app,
            scene.owner_id,
            "POST",
            f"/surveys/{scene.survey_id}/respondents/upload",
            data={"upload-file": (io.BytesIO(content), "r.csv")},
            content_type="multipart/form-data",
        )
        assert outcome.status == 400 and outcome.is_rejection, (content[:20], outcome.status)
    assert not changed_tables(baseline, snapshot())
    assert db.session.scalar(select(Survey).where(Survey.id == scene.survey_id)) is not None
    assert not db.session.scalars(
        select(Respondent).where(Respondent.email.like("%" + "x" * 300 + "%"))
    ).all()
