"""Shared machinery of the hostile-input tests (fuzzing, CSRF, inert HTML, headers).

Everything is derived from ``app.url_map`` at test time, so a route added tomorrow is
fuzzed, CSRF-checked and header-checked without anyone editing these files. URL
parameters are filled by ``tests/test_route_isolation.py``'s ``PARAMETERS`` (one place to
maintain), evaluated for organisation A so that A's owner may act on the data.

* :func:`stage` builds the scene once per worker: organisations A and B (as the
  route-isolation walk makes them) plus what A's owner needs to reach every form (a draft
  survey, an editable instrument with items, a respondent half-way through, a pending
  invitation). It saves every row, and puts them back in milliseconds before each use
  (:func:`restore`), so a fuzzed request that succeeded cannot spoil the next one.
* :func:`discover` learns, per endpoint, the field names of the real forms (parsed from
  every page A's owner can open) and the form and query keys each view actually reads
  (recorded while a probe request runs), with sample values (select options, hidden
  inputs).
* :func:`snapshot` is the whole database: row count and a hash of every table's rows.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote_plus, urlsplit

from flask import Flask, request
from sqlalchemy import select, text
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from cxalign.extensions import db
from cxalign.instruments.store import ensure_builtin_instrument
from cxalign.models import (
    Group,
    Respondent,
    RespondentStatus,
    Role,
    StaffInvitation,
    Survey,
    SurveyStatus,
    hash_token,
    new_token,
    utcnow,
)
from tests.conftest import PASSWORD, empty_all_tables
from tests.test_route_isolation import (
    ID_BY_BLUEPRINT,
    PARAMETERS,
    PUBLIC,
    PUBLIC_RULE_PREFIXES,
    Tenant,
    make_tenant,
)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET", *STATE_CHANGING)


# ---------------------------------------------------------------------------
# The scene: A's owner with one of everything
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    """Plain ids and tokens (no ORM objects: the rows are restored between requests)."""

    params: dict[str, object]  # PARAMETERS evaluated for organisation A
    ids_by_blueprint: dict[str, object]  # ID_BY_BLUEPRINT evaluated for A
    owner_id: int  # A's owner
    analyst_id: int
    owner_email: str
    organisation_id: int
    survey_id: int  # A's open survey, with a completed respondent
    draft_id: int  # a draft survey of A: every setting editable, deletable
    clone_id: int  # A's editable instrument with dimensions and items
    clone_item_id: int
    invitation_id: int
    answering_token: str  # A's respondent half-way through the questionnaire
    open_link_token: str
    invitee_token: str  # a pending staff invitation of A for someone without an account
    b_organisation_id: int
    b_survey_id: int


def _evaluate(mapping: dict, tenant: Tenant) -> dict:
    values = {}
    for name, resolve in mapping.items():
        try:
            values[name] = resolve(tenant)
        except (AttributeError, IndexError, KeyError):  # data this scene does not have
            continue
    return values


def build_scene(app: Flask) -> Scene:
    from cxalign.instruments.operations import clone_instrument

    builtin = ensure_builtin_instrument()
    db.session.commit()
    a = make_tenant(app, "Alpha", "alphamark", builtin)
    b = make_tenant(app, "Borealis", "zqxborealis", builtin)
    clone = clone_instrument(builtin, a.organisation, name="Alpha copy", user=a.owner)
    draft = Survey(
        organisation_id=a.organisation.id,
        instrument_id=clone.id,
        title="Alpha draft",
        status=SurveyStatus.DRAFT,
        anonymity_executive=3,
        anonymity_cx=3,
        created_by_id=a.owner.id,
    )
    db.session.add(draft)
    answering = Respondent(
        survey_id=a.survey.id,
        group=Group.EXECUTIVE,
        email="answering.alpha@example.com",
        name="Answering Alpha",
        token_hash="",
        link_nonce="",
        status=RespondentStatus.STARTED,
        started_at=utcnow(),
    )
    answering_token = answering.issue_token(app.config["SECRET_KEY"])
    db.session.add(answering)
    invitee_token = new_token()
    db.session.add(
        StaffInvitation(
            organisation_id=a.organisation.id,
            email="newcomer.alpha@example.com",
            role=Role.ANALYST,
            token_hash=hash_token(invitee_token),
            invited_by_id=a.owner.id,
            expires_at=a.invitation.expires_at,
        )
    )
    db.session.commit()
    return Scene(
        params=_evaluate(PARAMETERS, a),
        ids_by_blueprint=_evaluate(ID_BY_BLUEPRINT, a),
        owner_id=a.owner.id,
        analyst_id=a.analyst.id,
        owner_email=a.owner.email,
        organisation_id=a.organisation.id,
        survey_id=a.survey.id,
        draft_id=draft.id,
        clone_id=clone.id,
        clone_item_id=clone.dimensions[0].items[0].id,
        invitation_id=a.invitation.id,
        answering_token=answering_token,
        open_link_token=a.open_link_token,
        invitee_token=invitee_token,
        b_organisation_id=b.organisation.id,
        b_survey_id=b.survey.id,
    )


Rows = dict[str, list[dict]]


def capture() -> Rows:
    """Every row of every table, to put back with :func:`restore`."""
    db.session.rollback()
    rows = {
        table.name: [dict(row._mapping) for row in db.session.execute(select(table))]
        for table in db.metadata.sorted_tables
    }
    db.session.rollback()
    return rows


def restore(rows: Rows) -> None:
    """Put the database back exactly as captured, ids included."""
    db.session.remove()
    tables = db.metadata.sorted_tables
    for table in reversed(tables):
        db.session.execute(table.delete())
    for table in tables:
        if rows.get(table.name):
            db.session.execute(table.insert(), rows[table.name])
    if db.engine.dialect.name == "postgresql":
        # The ids were inserted explicitly: move each sequence past them.
        for table in tables:
            for column in table.primary_key.columns:
                if column.autoincrement in (True, "auto") and column.type.python_type is int:
                    db.session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                            f"'{column.name}'), COALESCE((SELECT MAX(\"{column.name}\") "
                            f'FROM "{table.name}"), 0) + 1, false)'
                        )
                    )
    db.session.commit()
    db.session.remove()


@dataclass
class Stage:
    """The scene, its saved rows and the forms discovered on it (built once per worker)."""

    scene: Scene
    rows: Rows
    shapes: dict[str, FormShape]
    documents: list[bytes]  # downloads (exports) of the scene: sample uploads
    pdf_cached: bool = False

    def reset(self) -> None:
        restore(self.rows)

    def cache_pdf(self, app: Flask) -> None:
        """Render the report once and keep it in the saved rows (the report cache), so
        that later PDF requests on the restored scene take milliseconds, not seconds."""
        if self.pdf_cached:
            return
        for rule in app.url_map.iter_rules():
            if rule.rule.endswith(".pdf") and "GET" in (rule.methods or ()):
                path = build_path(rule, self.scene)
                if path is not None:
                    send(app, self.scene.owner_id, "GET", path)
        self.rows = capture()
        self.pdf_cached = True


_STAGES: dict[str, Stage] = {}


def stage(app: Flask, *, pdf: bool = False) -> Stage:
    """The saved scene, restored into the database; built and discovered on first use."""
    key = app.config["SQLALCHEMY_DATABASE_URI"]
    if key not in _STAGES:
        db.session.remove()
        empty_all_tables()
        scene = build_scene(app)
        rows = capture()
        shapes, documents = discover(app, scene, rows)
        _STAGES[key] = Stage(scene=scene, rows=rows, shapes=shapes, documents=documents)
    current = _STAGES[key]
    current.reset()
    if pdf:
        current.cache_pdf(app)
    return current


# ---------------------------------------------------------------------------
# Rules and their URLs, filled with A's data
# ---------------------------------------------------------------------------


def is_public(rule: Rule) -> bool:
    if rule.endpoint in PUBLIC:
        return True
    return any(rule.rule == p or rule.rule.startswith(p + "/") for p in PUBLIC_RULE_PREFIXES)


def methods_of(rule: Rule) -> list[str]:
    return [m for m in METHODS if m in (rule.methods or ())]


def _token_for(rule: Rule, scene: Scene) -> str:
    if rule.rule.startswith("/invitations/"):
        return scene.invitee_token
    if rule.rule.startswith("/join/"):
        return scene.open_link_token
    return scene.answering_token


# A's owner may change these in every way: the editable copy of the instrument and the
# draft survey (the open survey locks most of its settings and cannot be deleted).
ON_DRAFT = frozenset({"surveys.settings", "surveys.delete", "surveys.open"})


def parameter_value(rule: Rule, name: str, scene: Scene):
    """The value of one URL parameter that A's owner (or A's respondent) may use."""
    endpoint = rule.endpoint
    if name == "token":
        return _token_for(rule, scene)
    if name == "filename":
        return "css/app.css"
    if endpoint.startswith("instruments.") and name in ("instrument_id", "id"):
        return scene.clone_id
    if endpoint.startswith("instruments.") and name == "item_id":
        return scene.clone_item_id
    if endpoint in ON_DRAFT and name == "survey_id":
        return scene.draft_id
    if name == "invitation_id":
        return scene.invitation_id
    if name == "id":
        return scene.ids_by_blueprint.get(endpoint.partition(".")[0])
    return scene.params.get(name)


def build_path(rule: Rule, scene: Scene) -> str | None:
    """The rule's URL with A's values; None when a parameter is unknown (the
    route-isolation walk reports those)."""
    path = rule.rule
    for name in rule.arguments:
        value = parameter_value(rule, name, scene)
        if value is None:
            return None
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)
    return path


def rules(app: Flask, methods: Iterable[str]) -> list[Rule]:
    wanted = set(methods)
    return sorted(
        (r for r in app.url_map.iter_rules() if wanted & set(r.methods or ())),
        key=lambda r: (r.rule, r.endpoint),
    )


def endpoint_of(app: Flask, path: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(path).path, method=method)
    except HTTPException:
        return None
    return endpoint


def user_for(rule: Rule, scene: Scene) -> int | None:
    """Public routes are used anonymously (respondents, invitees); the rest by A's owner."""
    return None if is_public(rule) else scene.owner_id


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

# Plausible values by field name (the part after a form prefix such as ``paste-``), so
# that most fuzzed requests get past the first check and reach the database; a request
# then carries one, a few or only hostile values.
STRONG_PASSWORD = "tidal-basin-lantern-42"
PLAUSIBLE = {
    "email": "new.person@example.com",
    "password": STRONG_PASSWORD,
    "confirm": STRONG_PASSWORD,
    "current": PASSWORD,
    "name": "Plausible name",
    "organisation": "Plausible Organisation",
    "title": "Plausible title",
    "introduction": "Thank you for your time.",
    "lines": "new.person@example.com, executive, New Person",
    "code": "NEW_CODE_9",
    "executive": "We review complaints every month.",
    "cx_professional": "Our executives review complaints every month.",
    "importance": "0.5",
    "anonymity_executive": "3",
    "anonymity_cx": "3",
    "gap_threshold": "0.5",
    "reminder_cooldown_hours": "48",
    "opens_on": "2030-01-01",
    "closes_on": "2030-02-01",
    "retention_days": "365",
    "days": "365",
    "page": "1",
    "direction": "up",
    "group": "executive",
    "role": "analyst",
    "nav": "next",
}


def plausible(name: str, shape: FormShape) -> str:
    samples = sorted(v for v in shape.fields.get(name, ()) if v)
    if samples:
        return samples[0]
    return PLAUSIBLE.get(name.rpartition("-")[2], "plausible")


@dataclass
class Outcome:
    status: int
    location: str
    body: bytes
    headers: dict
    flashes: list[tuple[str, str]]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400

    @property
    def is_rejection(self) -> bool:
        """A 4xx, a form shown again with its errors, or a redirect with an error message."""
        if 400 <= self.status < 500:
            return True
        if self.is_redirect:
            return any(category == "error" for category, _ in self.flashes)
        if self.status == 200 and self.headers.get("Content-Type", "").startswith("text/html"):
            text = self.text
            return "field-invalid" in text or "alert alert-error" in text
        return False


def send(
    app: Flask,
    user: int | None,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    data=None,
    headers: dict | None = None,
    query_string=None,
    client=None,
) -> Outcome:
    """One request in its own app context (its own ``g`` and database session)."""
    client = client or app.test_client()
    user_id = user
    with app.app_context():
        if user_id is not None:
            with client.session_transaction() as session:
                session["_user_id"] = str(user_id)
                session["_fresh"] = True
        kwargs = {"method": method, "headers": headers or {}, "query_string": query_string}
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = content_type or "application/x-www-form-urlencoded"
        elif data is not None:
            kwargs["data"] = data
            if content_type:
                kwargs["content_type"] = content_type
        response = client.open(path, **kwargs)
        payload = response.get_data()
        response.close()
        flashes = []
        with client.session_transaction() as session:
            flashes = list(session.pop("_flashes", []))
    return Outcome(
        status=response.status_code,
        location=response.headers.get("Location", ""),
        body=payload,
        headers=dict(response.headers),
        flashes=flashes,
    )


def encode_form(pairs: Iterable[tuple[str, str | bytes]]) -> bytes:
    """An urlencoded body; ``str`` may hold lone surrogates (sent as their raw UTF-8
    bytes, which is invalid UTF-8), ``bytes`` are sent as they are."""

    def part(value: str | bytes) -> str:
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return quote_plus(raw)

    return "&".join(f"{part(k)}={part(v)}" for k, v in pairs).encode("ascii")


# ---------------------------------------------------------------------------
# The database, all of it
# ---------------------------------------------------------------------------


def snapshot() -> dict[str, tuple[int, str]]:
    """Every table: (row count, SHA-256 of its rows in primary-key order)."""
    db.session.rollback()  # a fresh transaction: see what the requests committed
    state = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
        state[table.name] = (len(rows), digest.hexdigest()[:16])
    db.session.rollback()
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


# ---------------------------------------------------------------------------
# Discovering the forms
# ---------------------------------------------------------------------------


@dataclass
class FormShape:
    """What a real request to one endpoint carries."""

    fields: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    files: set[str] = field(default_factory=set)
    query: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    read_form: set[str] = field(default_factory=set)  # keys the view looked up
    read_query: set[str] = field(default_factory=set)

    def field_names(self) -> list[str]:
        return sorted((set(self.fields) | self.read_form) - {"csrf_token"})

    def query_names(self) -> list[str]:
        return sorted(set(self.query) | self.read_query)


class _FormParser(HTMLParser):
    """Every <form>: method, action, enctype, and its named inputs with sample values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").upper(),
                "action": attrs.get("action") or "",
                "enctype": attrs.get("enctype") or "",
                "fields": defaultdict(set),
                "files": set(),
            }
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag in ("input", "button", "textarea") and name:
            if attrs.get("type") == "file":
                form["files"].add(name)
            elif attrs.get("value") is not None:
                form["fields"][name].add(attrs["value"])
            else:
                form["fields"][name]
        elif tag == "select" and name:
            self._select = name
            form["fields"][name]
        elif tag == "option" and self._select and attrs.get("value") is not None:
            form["fields"][self._select].add(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_in(html: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class _RecordingDict(ImmutableMultiDict):
    """Remembers every key a view looks up."""

    def __init__(self, mapping, seen: set[str]):
        super().__init__(mapping)
        self._seen = seen

    def __getitem__(self, key):
        self._seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self._seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._seen.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._seen.add(key)
        return super().__contains__(key)


def _recording_app(app: Flask) -> tuple[Flask, dict]:
    """A second app on the same database whose requests record the keys views read."""
    from tests.conftest import make_test_app

    recorder = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], None)
    seen: dict = {"form": set(), "query": set()}

    @recorder.before_request
    def record():
        seen["form"].clear()
        seen["query"].clear()
        request.__dict__["args"] = _RecordingDict(request.args, seen["query"])
        if request.method in STATE_CHANGING:
            form = request.form  # parse the body first
            request.__dict__["form"] = _RecordingDict(form, seen["form"])

    return recorder, seen


def discover(app: Flask, scene: Scene, rows: Rows) -> tuple[dict[str, FormShape], list[bytes]]:
    """endpoint → FormShape, from every page A's owner and A's respondent can open, then
    one probe request per state-changing rule (restoring the rows after each); and the
    files the app lets people download (exports), to be sent back, mutated, as uploads."""
    shapes: dict[str, FormShape] = defaultdict(FormShape)
    documents: list[bytes] = []
    recorder, seen = _recording_app(app)

    def learn(html: str) -> None:
        for form in forms_in(html):
            if form["method"] == "GET":
                continue
            action = form["action"].replace("&amp;", "&")
            endpoint = endpoint_of(recorder, action, form["method"])
            if endpoint is None:
                continue
            shape = shapes[endpoint]
            for name, values in form["fields"].items():
                shape.fields[name] |= values
            shape.files |= form["files"]
            for key, value in parse_qsl(urlsplit(action).query):
                shape.query[key].add(value)

    for rule in rules(recorder, ["GET"]):
        path = build_path(rule, scene)
        if path is None or rule.endpoint in ("static", "respond.join"):
            continue
        if urlsplit(path).path.endswith(".pdf"):
            continue  # no forms in a PDF, and rendering one takes seconds
        outcome = send(recorder, user_for(rule, scene), "GET", path)
        shapes[rule.endpoint].read_query |= seen["query"]
        disposition = outcome.headers.get("Content-Disposition", "")
        if "attachment" in disposition and not disposition.rstrip('"').endswith(".pdf"):
            documents.append(outcome.body)
        if outcome.headers.get("Content-Type", "").startswith("text/html"):
            learn(outcome.text)
            # Forms reached through a link with a query string (?dimension=ID).
            for link in set(re.findall(r'href="(/[^"?]+\?[^"]+)"', outcome.text)):
                link = link.replace("&amp;", "&")
                target = endpoint_of(recorder, link, "GET")
                if target is None or target == rule.endpoint or shapes[target].query:
                    continue
                if urlsplit(link).path.endswith(".pdf"):
                    continue  # rendering another paper size takes seconds
                for key, value in parse_qsl(urlsplit(link).query):
                    shapes[target].query[key].add(value)
                learn(send(recorder, scene.owner_id, "GET", link).text)

    for rule in rules(recorder, STATE_CHANGING):
        path = build_path(rule, scene)
        if path is None:
            continue
        shape = shapes[rule.endpoint]
        query = {k: sorted(v)[0] for k, v in shape.query.items() if v}
        for method in methods_of(rule):
            if method == "GET":
                continue
            send(
                recorder,
                user_for(rule, scene),
                method,
                path,
                data={"_probe": "1"},
                query_string=query,
            )
            shape.read_form |= seen["form"] - {"_probe"}
            shape.read_query |= seen["query"]
            restore(rows)
    return dict(shapes), documents
