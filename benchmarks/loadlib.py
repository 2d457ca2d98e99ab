"""The load test's machinery, shared by ``benchmarks/load_test.py`` and the tests.

One run:

1. :func:`scratch_database` gives a fresh database: an SQLite file, or a new database on
   the PostgreSQL server of a URL (dropped afterwards).
2. :class:`Server` starts the app the way production does, ``scripts/serve`` (``flask db
   upgrade``, then gunicorn with ``gunicorn.conf.py``) on a free port of 127.0.0.1, with
   the benchmark floor added (``benchmarks/floor.py``).
3. :func:`seed` adds an organisation, an open survey on the built-in instrument and N
   respondents with personal links (bulk inserts), plus N "floor" respondents in a second
   survey, whose rows only the floor endpoint writes.
4. :func:`drive` takes every respondent through the whole questionnaire like a browser:
   the welcome page, then for each page a GET (which gives the form and its CSRF token;
   cookies are kept per respondent) and a POST of the page's answers, then the thank-you
   page. It goes page by page in *waves*: all respondents view page k, then all save it
   (C clients at a time), then the floor writes the same rows for the floor respondents
   with the same C clients. Saves and floor requests are therefore timed under the same
   concurrency, on the same server, against the same tables, interleaved in time.
5. :func:`verify` checks the database: exactly the answers sent (values included), no
   duplicates, every respondent completed, the floor's rows complete, SQLite's
   ``PRAGMA integrity_check``.

Requests use a new connection each, as nginx does towards its upstream by default. A
request that gets a 503 ("try again") or loses its connection is retried a few times, as a
respondent would press the button again; every such event is counted and reported.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FLOOR_PATH = "/_bench/floor"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FIELD_NAMES = re.compile(r'name="((?:item|comment)_[A-Za-z0-9_]+)"')
ACCESS_STATUS = re.compile(r'HTTP/1\.[01]" (\d{3}) ')
WORKER_BOOTED = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})\] \[\d+\] \[INFO\] Booting worker",
    re.MULTILINE,
)
RETRIES = 4
RETRY_PAUSE = 0.5

# Targets of issue 9: the real save against the floor measured in the same run.
TARGET_THROUGHPUT_RATIO = 0.5  # real saves/s >= 50% of floor requests/s
TARGET_P95_RATIO = 2.0  # real save p95 <= 2x floor p95


class LoadTestError(RuntimeError):
    """The run could not go on (server did not start, a deadline passed, ...)."""


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------


def _sqlalchemy_url(url: str) -> str:
    from cxalign.config import normalise_database_url

    return normalise_database_url(url)


@contextlib.contextmanager
def scratch_database(server_url: str | None, directory: Path, *, keep: bool = False):
    """A fresh, empty database; yields its URL.

    Without ``server_url``: an SQLite file in ``directory``. With a PostgreSQL URL: a new
    database ``<its name>_load_<random>`` on that server, dropped afterwards (unless
    ``keep``). The database the URL names is only used to create and drop it.
    """
    if not server_url or server_url.startswith("sqlite"):
        path = directory / "load.db"
        if server_url:
            path = Path(urlsplit(server_url).path.lstrip("/") or path)
            if path.exists():
                raise LoadTestError(f"{path} exists: the load test wants a fresh database")
        yield f"sqlite:///{path}"
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(_sqlalchemy_url(server_url))
    name = f"{base.database}_load_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The app served by ``scripts/serve`` (migrations, then gunicorn) on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        secret_key: str,
        log_path: Path,
        *,
        workers: int | None = None,
        threads: int | None = None,
        app_spec: str | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.database_url = database_url
        self.secret_key = secret_key
        self.log_path = log_path
        self.workers = workers
        self.threads = threads
        self.app_spec = app_spec
        self.extra_env = extra_env or {}
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._log = None

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GUNICORN_", "CXALIGN_", "TEST_DATABASE"))
            and key not in ("DATABASE_URL", "SECRET_KEY", "MAIL_SERVER")
        }
        env.update(
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret_key,
            CXALIGN_ENV="development",  # the floor is refused in production; nothing else differs
            CXALIGN_WSGI_APP="benchmarks.floor:create_app()",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            PYTHON=sys.executable,
            PYTHONUNBUFFERED="1",
        )
        if self.workers:
            env["GUNICORN_WORKERS"] = str(self.workers)
        if self.threads:
            env["GUNICORN_THREADS"] = str(self.threads)
        env.update(self.extra_env)
        return env

    def gunicorn_settings(self) -> dict:
        """workers, threads and max_requests as gunicorn.conf.py sets them for this server."""
        import runpy
        from unittest import mock

        with mock.patch.dict(os.environ, self.environment(), clear=True):
            settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
        return {name: settings[name] for name in ("workers", "threads", "max_requests")}

    def start(self, timeout: float = 90) -> int:
        self.port = free_port()
        command = [str(REPO / "scripts" / "serve")]
        if self.app_spec:
            # Tests may serve a variant of the app directly.
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                self.app_spec,
            ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LoadTestError(f"the server exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(self.port, "GET", "/healthz", timeout=5).status == 200:
                    return self.port
            time.sleep(0.2)
        self.stop()
        raise LoadTestError(f"the server did not answer /healthz in {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if not path.exists():
            return []
        return [int(pid) for pid in path.read_text().split() if not _is_zombie(int(pid))]

    def cpu_seconds(self) -> float:
        """CPU time used by gunicorn so far: master, live workers and workers already reaped.

        Unlike latencies, this hardly depends on what else the machine is doing, so it is
        the steadiest measure of what a request costs the app (the database server's own
        work is not in it).
        """
        assert self.process is not None
        ticks = os.sysconf("SC_CLK_TCK")

        def times(pid: int, with_children: bool) -> float:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that just exited: its time moves to the master's children
                return 0.0
            # utime, stime, cutime, cstime are fields 14-17 of /proc/<pid>/stat
            used = int(fields[11]) + int(fields[12])
            if with_children:
                used += int(fields[13]) + int(fields[14])
            return used / ticks

        return times(self.process.pid, True) + sum(times(pid, False) for pid in self.worker_pids())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self) -> dict[str, int]:
        """Server errors in gunicorn's log: 5xx responses, tracebacks, locked databases."""
        text = self.log_text()
        statuses = Counter(ACCESS_STATUS.findall(text))
        return {
            "responses_5xx": sum(n for status, n in statuses.items() if status.startswith("5")),
            "responses_500": statuses.get("500", 0),
            "tracebacks": text.count("Traceback (most recent call last)"),
            "database_locked": text.count("database is locked"),
        }

    def worker_replacements(self) -> list[float]:
        """When gunicorn booted a worker in place of one that exited (epoch seconds).

        The workers started with the server are not counted: only replacements, which
        happen when a worker reaches ``max_requests``, dies or times out.
        """
        booted = [
            datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z").timestamp()
            for stamp in WORKER_BOOTED.findall(self.log_text())
        ]
        # the first ones may be logged after /healthz already answered: count, don't time
        return booted[self.gunicorn_settings()["workers"] :]

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    id: int
    code: str
    points: int
    dont_know: bool


@dataclass(frozen=True)
class PlanPage:
    number: int
    items: tuple[PlanItem, ...]
    # group -> ((open question id, code), ...); only on the final page
    questions: dict[str, tuple[tuple[int, str], ...]]
    is_final: bool


@dataclass
class Participant:
    """One respondent as the load client sees them: their link and their browser state."""

    id: int
    token: str
    group: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_token: str | None = None


@dataclass
class Seeded:
    survey_id: int
    floor_survey_id: int
    pages: list[PlanPage]
    participants: list[Participant]
    floor_respondent_ids: list[int]

    @property
    def item_pages(self) -> list[PlanPage]:
        return [page for page in self.pages if page.items]

    @property
    def items(self) -> int:
        return sum(len(page.items) for page in self.pages)


def make_app(database_url: str, secret_key: str):
    from cxalign import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(database_url),
            "SECRET_KEY": secret_key,
            "MAIL_SERVER": None,
        }
    )


def seed(
    database_url: str, secret_key: str, respondents: int, *, executive_every: int = 5
) -> Seeded:
    """An open survey with ``respondents`` invited respondents, and as many floor respondents.

    The schema must exist (the server's ``flask db upgrade`` made it). One respondent in
    ``executive_every`` is an executive, the rest CX professionals.
    """
    from sqlalchemy import insert, select

    from cxalign.extensions import db
    from cxalign.instruments.store import ensure_builtin_instrument
    from cxalign.models import Organisation, Respondent, derive_link_token, hash_token
    from cxalign.respond.answers import page_plan
    from cxalign.surveys import operations as ops

    app = make_app(database_url, secret_key)
    with app.app_context():
        organisation = Organisation(name="Load test")
        db.session.add(organisation)
        db.session.flush()
        instrument = ensure_builtin_instrument()
        survey = ops.create_survey(organisation, title="Load test", instrument=instrument)
        ops.open_survey(survey)
        floor_survey = ops.create_survey(organisation, title="Floor", instrument=instrument)
        db.session.flush()

        def rows(survey_id: int, count: int, tokens: list | None):
            result = []
            for index in range(count):
                nonce = secrets.token_hex(16)
                token = derive_link_token(secret_key, nonce)
                group = "executive" if index % executive_every == 0 else "cx_professional"
                if tokens is not None:
                    tokens.append((token, group))
                result.append(
                    {
                        "survey_id": survey_id,
                        "group": group,
                        "token_hash": hash_token(token),
                        "link_nonce": nonce,
                        "status": "invited",
                        "source": "invited",
                        "last_page": 0,
                        "reminder_count": 0,
                    }
                )
            return result

        tokens: list[tuple[str, str]] = []
        db.session.execute(insert(Respondent), rows(survey.id, respondents, tokens))
        db.session.execute(insert(Respondent), rows(floor_survey.id, respondents, None))
        by_hash = dict(
            db.session.execute(
                select(Respondent.token_hash, Respondent.id).where(
                    Respondent.survey_id == survey.id
                )
            ).all()
        )
        participants = [
            Participant(by_hash[hash_token(token)], token, group) for token, group in tokens
        ]
        floor_ids = sorted(
            db.session.scalars(select(Respondent.id).where(Respondent.survey_id == floor_survey.id))
        )
        plans = {group: page_plan(survey, group) for group in ("executive", "cx_professional")}
        pages = [
            PlanPage(
                number=page.number,
                items=tuple(
                    PlanItem(item.id, item.code, item.points, item.dont_know) for item in page.items
                ),
                questions={
                    group: tuple((q.id, q.code) for q in plan[page.number - 1].open_questions)
                    for group, plan in plans.items()
                },
                is_final=page.is_final,
            )
            for page in plans["executive"]
        ]
        seeded = Seeded(survey.id, floor_survey.id, pages, participants, floor_ids)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return seeded


# ---------------------------------------------------------------------------
# What each respondent answers (deterministic, so the database can be checked exactly)
# ---------------------------------------------------------------------------


def answer_for(respondent_id: int, item: PlanItem) -> str:
    mix = (respondent_id * 31 + item.id * 17) % 97
    if item.dont_know and mix % 13 == 0:
        return "dk"
    return str(1 + mix % item.points)


def comment_for(respondent_id: int, question_id: int) -> str:
    return f"Load test comment {respondent_id}/{question_id}: fine."


def page_fields(participant: Participant, page: PlanPage) -> dict[str, str]:
    fields = {f"item_{item.code}": answer_for(participant.id, item) for item in page.items}
    for question_id, code in page.questions.get(participant.group, ()):
        fields[f"comment_{code}"] = comment_for(participant.id, question_id)
    return fields


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def request(
    port: int,
    method: str,
    path: str,
    fields: dict | None = None,
    *,
    cookies: dict[str, str] | None = None,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a new connection; Set-Cookie headers update ``cookies``."""
    headers = {"Connection": "close", "Accept": "text/html", **(headers or {})}
    body = None
    if fields is not None:
        body = urlencode(fields, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    if cookies is not None:
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in header.lower():
                cookies[name.strip()] = value
            else:
                cookies.pop(name.strip(), None)
    return Reply(response.status, response.headers, data.decode("utf-8", "replace"), seconds)


# ---------------------------------------------------------------------------
# Driving respondents
# ---------------------------------------------------------------------------


@dataclass
class Timings:
    """Latencies of successful requests; wall time and server CPU time of their waves."""

    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float | None = None

    def summary(self) -> dict:
        if not self.seconds:
            return {"requests": 0}
        ms = np.asarray(self.seconds) * 1000
        return {
            "requests": len(ms),
            "wall_s": round(self.wall, 3),
            "throughput_per_s": round(len(ms) / self.wall, 1) if self.wall else None,
            "mean_ms": round(float(ms.mean()), 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1),
            "server_cpu_ms": (
                round(self.server_cpu * 1000 / len(ms), 2) if self.server_cpu is not None else None
            ),
        }


@dataclass
class Wave:
    """One wave: every participant's request of one kind (for one page), C at a time."""

    kind: str
    page: int | None
    started: float  # epoch seconds
    wall: float
    seconds: list[float]

    def summary(self) -> dict:
        ms = np.asarray(self.seconds) * 1000 if self.seconds else np.zeros(1)
        return {
            "kind": self.kind,
            "page": self.page,
            "started": round(self.started, 3),
            "wall_s": round(self.wall, 3),
            "requests": len(self.seconds),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "max_ms": round(float(ms.max()), 1),
        }


@dataclass
class RunStats:
    timings: dict[str, Timings] = field(default_factory=lambda: defaultdict(Timings))
    waves: list[Wave] = field(default_factory=list)
    # "save 503", "view connection error", ... -> count
    events: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.timings[kind].seconds.append(seconds)

    def event(self, name: str) -> None:
        with self.lock:
            self.events[name] += 1

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)


class Driver:
    """Takes participants through the questionnaire in waves of ``clients`` concurrent requests."""

    def __init__(
        self,
        port: int,
        seeded: Seeded,
        clients: int,
        deadline: float,
        cpu_seconds: Callable[[], float] | None = None,
    ):
        self.port = port
        self.cpu_seconds = cpu_seconds
        self.retries = RETRIES
        self.seeded = seeded
        self.clients = clients
        self.deadline = deadline
        self.stats = RunStats()

    # One request, retried like a respondent pressing the button again ----------------

    def _send(self, kind: str, method: str, path: str, fields=None, cookies=None) -> Reply | None:
        for attempt in range(self.retries + 1):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.stats.event(f"{kind} not sent: deadline")
                return None
            try:
                reply = request(
                    self.port, method, path, fields, cookies=cookies, timeout=min(60, remaining)
                )
            except (OSError, http.client.HTTPException) as error:
                self.stats.event(f"{kind} connection error ({type(error).__name__})")
            else:
                if reply.status != 503:
                    return reply
                self.stats.event(f"{kind} 503")
                if "Traceback" in reply.body:
                    self.stats.fail(f"{kind} {path}: 503 page shows a traceback")
            if attempt < self.retries:
                time.sleep(RETRY_PAUSE * (attempt + 1))
        self.stats.fail(f"{kind} {method} {path}: no answer after {self.retries} retries")
        return None

    def _expect(self, kind: str, reply: Reply | None, status: int, location: str = "") -> bool:
        if reply is None:
            return False
        if reply.status != status or (location and not reply.location.endswith(location)):
            self.stats.fail(
                f"{kind}: expected {status} {location}, got {reply.status} {reply.location} "
                f"{reply.body[:300]!r}"
            )
            return False
        self.stats.record(kind, reply.seconds)
        return True

    # The steps ---------------------------------------------------------------------

    def landing(self, participant: Participant) -> None:
        reply = self._send("landing", "GET", f"/r/{participant.token}", cookies=participant.cookies)
        self._expect("landing", reply, 200)

    def view(self, participant: Participant, page: PlanPage) -> None:
        path = f"/r/{participant.token}/page/{page.number}"
        reply = self._send("view", "GET", path, cookies=participant.cookies)
        if not self._expect("view", reply, 200):
            return
        match = CSRF_FIELD.search(reply.body)
        expected = set(page_fields(participant, page))
        shown = set(FIELD_NAMES.findall(reply.body))
        if match is None or not expected <= shown:
            self.stats.fail(f"view {path}: no CSRF token or missing fields {expected - shown}")
            return
        participant.csrf_token = match.group(1)

    def save(self, participant: Participant, page: PlanPage) -> None:
        kind = "submit" if page.is_final else "save"
        if participant.csrf_token is None:
            self.stats.fail(f"{kind} page {page.number}: no form was shown to save")
            return
        fields = page_fields(participant, page)
        fields["csrf_token"] = participant.csrf_token
        fields["nav"] = "submit" if page.is_final else "next"
        base = f"/r/{participant.token}"
        reply = self._send(
            kind, "POST", f"{base}/page/{page.number}", fields, cookies=participant.cookies
        )
        target = f"{base}/done" if page.is_final else f"{base}/page/{page.number + 1}"
        self._expect(kind, reply, 302, target)
        participant.csrf_token = None

    def done(self, participant: Participant) -> None:
        path = f"/r/{participant.token}/done"
        reply = self._send("done", "GET", path, cookies=participant.cookies)
        if self._expect("done", reply, 200) and "Thank you" not in reply.body:
            self.stats.fail(f"done {path}: no thank-you")

    def floor(self, respondent_id: int, page: PlanPage) -> None:
        fields = {"respondent": respondent_id, "item": [item.id for item in page.items]}
        reply = self._send("floor", "POST", FLOOR_PATH, fields)
        self._expect("floor", reply, 204)

    # Waves -------------------------------------------------------------------------

    def wave(
        self, kind: str, step: Callable, arguments: Iterable[tuple], page: int | None = None
    ) -> None:
        if time.monotonic() > self.deadline:
            raise LoadTestError("the run's time limit was reached")
        cpu_before = self.cpu_seconds() if self.cpu_seconds else None
        timings = self.stats.timings[kind]
        done_before = len(timings.seconds)
        started_at = time.time()
        started = time.perf_counter()
        with ThreadPoolExecutor(self.clients, thread_name_prefix=kind) as pool:
            for future in [pool.submit(step, *args) for args in arguments]:
                future.result()
        wall = time.perf_counter() - started
        timings.wall += wall
        self.stats.waves.append(Wave(kind, page, started_at, wall, timings.seconds[done_before:]))
        if cpu_before is not None:
            timings.server_cpu = (timings.server_cpu or 0.0) + self.cpu_seconds() - cpu_before

    def run(self, *, floor: bool = True, progress: Callable[[str], None] | None = None) -> RunStats:
        participants = self.seeded.participants
        self.wave("landing", self.landing, ((p,) for p in participants))
        for page in self.seeded.pages:
            self.wave("view", self.view, ((p, page) for p in participants), page.number)
            kind = "submit" if page.is_final else "save"
            self.wave(kind, self.save, ((p, page) for p in participants), page.number)
            if floor and page.items:
                self.wave(
                    "floor",
                    self.floor,
                    ((rid, page) for rid in self.seeded.floor_respondent_ids),
                    page.number,
                )
            if progress:
                progress(f"page {page.number}/{len(self.seeded.pages)} done")
        self.wave("done", self.done, ((p,) for p in participants))
        return self.stats


def drive(
    port: int,
    seeded: Seeded,
    *,
    clients: int,
    timeout: float,
    floor: bool = True,
    progress: Callable[[str], None] | None = None,
    cpu_seconds: Callable[[], float] | None = None,
) -> RunStats:
    driver = Driver(port, seeded, clients, time.monotonic() + timeout, cpu_seconds)
    return driver.run(floor=floor, progress=progress)


# ---------------------------------------------------------------------------
# Checking the database afterwards
# ---------------------------------------------------------------------------


def verify(database_url: str, seeded: Seeded) -> dict:
    """Exact checks of what the run should have left in the database; ``ok`` says all passed."""
    from sqlalchemy import create_engine, func, select, text

    from cxalign.models import Comment, Respondent, Response

    engine = create_engine(_sqlalchemy_url(database_url))
    participants = {p.id: p for p in seeded.participants}
    expected_answers = {
        (p.id, item.id): answer_for(p.id, item)
        for p in seeded.participants
        for page in seeded.pages
        for item in page.items
    }
    expected_comments = {
        (p.id, qid): comment_for(p.id, qid)
        for p in seeded.participants
        for page in seeded.pages
        for qid, _code in page.questions.get(p.group, ())
    }
    with engine.connect() as connection:
        rows = connection.execute(
            select(Response.respondent_id, Response.item_id, Response.value, Response.dont_know)
            .join(Respondent)
            .where(Respondent.survey_id == seeded.survey_id)
        ).all()
        stored = Counter((r.respondent_id, r.item_id) for r in rows)
        values = {(r.respondent_id, r.item_id): "dk" if r.dont_know else str(r.value) for r in rows}
        comments = {
            (r.respondent_id, r.question_id): r.text
            for r in connection.execute(
                select(Comment.respondent_id, Comment.question_id, Comment.text)
                .join(Respondent)
                .where(Respondent.survey_id == seeded.survey_id)
            )
        }
        statuses = Counter(
            connection.scalars(
                select(Respondent.status).where(Respondent.survey_id == seeded.survey_id)
            )
        )
        floor_rows = connection.scalar(
            select(func.count(Response.id))
            .join(Respondent)
            .where(Respondent.survey_id == seeded.floor_survey_id)
        )
        integrity = "not applicable"
        if engine.dialect.name == "sqlite":
            integrity = connection.execute(text("PRAGMA integrity_check")).scalar()
    engine.dispose()

    missing = [key for key in expected_answers if key not in stored]
    checks = {
        "answers_expected": len(expected_answers),
        "answers_stored": len(rows),
        "answers_missing": len(missing),
        "answers_unexpected": sum(1 for key in stored if key not in expected_answers),
        "answers_duplicated": sum(1 for n in stored.values() if n > 1),
        "answers_wrong_value": sum(
            1 for key, value in values.items() if expected_answers.get(key, value) != value
        ),
        "comments_expected": len(expected_comments),
        "comments_matching": sum(
            1 for key, text_ in expected_comments.items() if comments.get(key) == text_
        ),
        "respondents": len(participants),
        "respondents_completed": statuses.get("completed", 0),
        "floor_rows_expected": len(seeded.floor_respondent_ids)
        * len([item for page in seeded.pages for item in page.items]),
        "floor_rows_stored": floor_rows,
        "integrity_check": integrity,
    }
    checks["ok"] = (
        checks["answers_stored"] == checks["answers_expected"]
        and not checks["answers_missing"]
        and not checks["answers_unexpected"]
        and not checks["answers_duplicated"]
        and not checks["answers_wrong_value"]
        and checks["comments_matching"] == checks["comments_expected"] == len(comments)
        and checks["respondents_completed"] == checks["respondents"]
        and checks["floor_rows_stored"] in (0, checks["floor_rows_expected"])
        and checks["integrity_check"] in ("ok", "not applicable")
    )
    return checks


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def figures(stats: RunStats, worker_replacements: Iterable[float] = ()) -> dict:
    """The run's figures: per kind of request, per wave, and the targets.

    ``worker_replacements`` are the epoch seconds at which gunicorn booted a replacement
    worker (``Server.worker_replacements``); each counts for the wave it fell in, because
    a new worker's start costs CPU that the requests of that wave wait for.
    """
    summary = {kind: timing.summary() for kind, timing in stats.timings.items()}
    save, floor = summary.get("save", {}), summary.get("floor", {})
    waves = [wave.summary() | {"workers_replaced": 0} for wave in stats.waves]
    for stamp in worker_replacements:
        # gunicorn logs whole seconds: the boot happened in [stamp, stamp + 1). It counts
        # for the wave that overlaps that second most, and for none after the last wave.
        overlaps = [
            min(stamp + 1, wave.started + wave.wall) - max(stamp, wave.started)
            for wave in stats.waves
        ]
        if overlaps and max(overlaps) > 0:
            waves[overlaps.index(max(overlaps))]["workers_replaced"] += 1
    result = {
        "requests": summary,
        "waves": waves,
        "events": dict(stats.events),
        "failures": stats.failures[:50],
    }
    if save.get("requests") and floor.get("requests"):
        throughput_ratio = save["throughput_per_s"] / floor["throughput_per_s"]
        p95_ratio = save["p95_ms"] / floor["p95_ms"]
        result["targets"] = {
            "throughput_ratio": round(throughput_ratio, 3),
            "throughput_target": TARGET_THROUGHPUT_RATIO,
            "throughput_met": throughput_ratio >= TARGET_THROUGHPUT_RATIO,
            "p95_ratio": round(p95_ratio, 3),
            "p95_target": TARGET_P95_RATIO,
            "p95_met": p95_ratio <= TARGET_P95_RATIO,
        }
        if save.get("server_cpu_ms") and floor.get("server_cpu_ms"):
            result["targets"]["server_cpu_ratio"] = round(
                save["server_cpu_ms"] / floor["server_cpu_ms"], 3
            )
    return result


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _is_zombie(pid: int) -> bool:
    """A killed worker stays among the master's children until the master reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # already gone
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
