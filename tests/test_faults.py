"""Faults: a worker killed mid-request, and the database briefly out of reach.

* A gunicorn worker SIGKILLed while it holds a page's answers uncommitted loses only that
  page (never half of it), keeps every answer already acknowledged, leaves an intact
  database, and the respondent simply carries on. Workers killed at random while many
  saves are in flight change nothing either: clients that lose their connection send
  again (the save is idempotent) and the database ends up exactly as sent.
* The database failing a statement, refusing connections, or staying locked beyond its
  timeout gives the respondent a friendly 503 "try again" page (no stack trace) whose
  button sends the same answers again; their earlier pages are still there.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import sqlite3
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from benchmarks import loadlib
from cxalign.extensions import db
from cxalign.models import Respondent, RespondentStatus, Response
from cxalign.respond.answers import answers_of, page_plan

STALL_HEADER = "X-Test-Stall-After-Insert"


def stalling_app():
    """The app, plus a test-only stall: a request carrying STALL_HEADER writes its page's
    answers, notes its worker's pid in FAULT_MARKER_DIR, and waits (uncommitted) to be killed.

    Served by gunicorn as ``tests.test_faults:stalling_app()``.
    """
    from flask import has_request_context, request

    from cxalign import create_app

    app = create_app()
    markers = Path(os.environ["FAULT_MARKER_DIR"])
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "after_cursor_execute")
    def stall(conn, cursor, statement, parameters, context, executemany):
        if (
            has_request_context()
            and request.headers.get(STALL_HEADER)
            and statement.lstrip().upper().startswith("INSERT INTO RESPONSE")
        ):
            (markers / str(os.getpid())).write_text("stalled")
            time.sleep(120)

    return app


# ---------------------------------------------------------------------------
# A worker killed mid-request
# ---------------------------------------------------------------------------


def create_schema(url: str, secret_key: str) -> None:
    app = loadlib.make_app(url, secret_key)
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def page_counts(url: str, seeded: loadlib.Seeded) -> dict[tuple[int, int], int]:
    """(respondent id, page number) -> answers stored on that page."""
    page_of = {item.id: page.number for page in seeded.pages for item in page.items}
    engine = create_engine(loadlib._sqlalchemy_url(url))
    with engine.connect() as connection:
        rows = connection.execute(
            select(Response.respondent_id, Response.item_id)
            .join(Respondent)
            .where(Respondent.survey_id == seeded.survey_id)
        ).all()
    engine.dispose()
    return Counter((respondent_id, page_of[item_id]) for respondent_id, item_id in rows)


def wait_for(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(message)


def test_a_worker_killed_mid_request_loses_no_acknowledged_answer(tmp_path):
    secret_key = secrets.token_hex(32)
    markers = tmp_path / "markers"
    markers.mkdir()
    with loadlib.scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path) as url:
        create_schema(url, secret_key)
        server = loadlib.Server(
            url,
            secret_key,
            tmp_path / "gunicorn.log",
            workers=2,
            threads=2,  # so that a killed worker takes other requests down with it
            app_spec="tests.test_faults:stalling_app()",
            extra_env={"FAULT_MARKER_DIR": str(markers)},
        )
        with server:
            seeded = loadlib.seed(url, secret_key, 24)
            driver = loadlib.Driver(server.port, seeded, 8, time.monotonic() + 300)
            everyone = seeded.participants
            victim, others = everyone[0], everyone[1:]
            page_1, page_2 = seeded.pages[0], seeded.pages[1]
            driver.wave("landing", driver.landing, ((p,) for p in everyone))
            for page in (page_1, page_2):
                driver.wave("view", driver.view, ((p, page) for p in everyone))
                if page is page_1:
                    driver.wave("save", driver.save, ((p, page) for p in everyone))

            # The victim's save of page 2 stalls after writing its rows, uncommitted...
            outcome: dict = {}

            def victim_saves() -> None:
                fields = {
                    **loadlib.page_fields(victim, page_2),
                    "csrf_token": victim.csrf_token,
                    "nav": "next",
                }
                try:
                    outcome["reply"] = loadlib.request(
                        server.port,
                        "POST",
                        f"/r/{victim.token}/page/2",
                        fields,
                        cookies=victim.cookies,
                        headers={STALL_HEADER: "1"},
                    )
                except OSError as error:
                    outcome["error"] = error

            stalled = threading.Thread(target=victim_saves)
            stalled.start()
            pid = int(wait_for(lambda: next(iter(os.listdir(markers)), None), 60, "no stall seen"))
            # ... while the others save page 2; then its worker is killed.
            others_save = threading.Thread(
                target=driver.wave, args=("save", driver.save, [(p, page_2) for p in others])
            )
            others_save.start()
            time.sleep(0.3)
            os.kill(pid, signal.SIGKILL)
            stalled.join(timeout=60)
            others_save.join(timeout=120)
            assert "error" in outcome, outcome  # the victim's request died with its worker

            counts = page_counts(url, seeded)
            assert counts[(victim.id, 1)] == 4  # acknowledged earlier: kept
            assert counts[(victim.id, 2)] == 0  # never committed: nothing, not half
            assert all(counts[(p.id, n)] == 4 for p in others for n in (1, 2))
            # A killed worker stays among the master's children (a zombie) until reaped.
            wait_for(
                lambda: len(live := server.worker_pids()) == 2 and pid not in live,
                60,
                "worker not replaced",
            )
            # The load test's per-wave figures count replacements from gunicorn's log.
            replaced = wait_for(server.worker_replacements, 30, "replacement not logged")
            assert len(replaced) == 1 and abs(replaced[0] - time.time()) < 60

            # Every worker killed while many saves are in flight, on three pages. Clients
            # that lose their connection retry for up to about half a minute, while gunicorn
            # starts new workers.
            driver.retries = 10
            for page in seeded.pages[2:5]:
                driver.wave("view", driver.view, ((p, page) for p in others))
                chaos = threading.Thread(target=kill_workers_mid_wave, args=(server, driver))
                chaos.start()
                driver.wave("save", driver.save, ((p, page) for p in others))
                chaos.join()
                wait_for(lambda: len(server.worker_pids()) == 2, 60, "workers not replaced")
            lost = sum(n for what, n in driver.stats.events.items() if "connection error" in what)
            assert lost >= 1, "the kills should have cut some saves short (and they were retried)"
            # The victim carries on from page 2 (the form comes back with page 1 saved).
            remaining = seeded.pages[1:]
            for page in remaining:
                driver.view(victim, page)
                driver.save(victim, page)
            for page in seeded.pages[5:]:
                driver.wave("view", driver.view, ((p, page) for p in others))
                driver.wave("save", driver.save, ((p, page) for p in others))

        assert driver.stats.failures == [], driver.stats.failures[:5]
        assert server.log_problems()["responses_500"] == 0
        checks = loadlib.verify(url, seeded)
    # Every page of every respondent is whole, exactly as sent; the database is intact.
    assert checks["ok"], checks
    assert checks["integrity_check"] in ("ok", "not applicable")
    assert checks["floor_rows_stored"] == 0


def kill_workers_mid_wave(server: loadlib.Server, driver: loadlib.Driver) -> None:
    """SIGKILL every worker once a few saves of the wave are done (the rest in flight).

    Every worker, not one: a worker that is still starting would serve nothing to cut short.
    """
    done = len(driver.stats.timings["save"].seconds)
    wait_for(lambda: len(driver.stats.timings["save"].seconds) >= done + 4, 60, "the wave stalled")
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# The database briefly out of reach
# ---------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def respondent_and_token():
    from tests.test_respond_answers import make_respondent, make_survey

    return make_respondent(make_survey(), "executive")


def live_app(app, tmp_path, **overrides):
    """The app as served: CSRF on, not in testing mode (errors handled, never raised)."""
    from tests.conftest import make_test_app

    return make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path,
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        **overrides,
    )


def page_answers(survey, number: int) -> dict[str, str]:
    page = page_plan(survey, "executive")[number - 1]
    return {
        f"item_{item.code}": str(1 + index % item.points) for index, item in enumerate(page.items)
    }


def save_page(client, token: str, number: int, answers: dict) -> object:
    form = client.get(f"/r/{token}/page/{number}")
    assert form.status_code == 200
    csrf = CSRF.search(form.text).group(1)
    return client.post(
        f"/r/{token}/page/{number}", data={**answers, "csrf_token": csrf, "nav": "next"}
    )


@contextmanager
def statement_failures(engine, error: Exception):
    """Every statement fails with ``error`` (a driver exception) inside the block."""

    def fail(conn, cursor, statement, parameters, context, executemany):
        raise error

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def unreachable_url(url: str, tmp_path: Path) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/no-such-folder/cxalign.db"
    return make_url(url).set(port=loadlib.free_port()).render_as_string(hide_password=False)


@contextmanager
def database_locked(url: str):
    """Another connection holds the lock that saving answers needs, until the block ends."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE response IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def short_lock_timeout(url: str) -> dict:
    """Engine settings that give up on a lock after 0.3 s rather than the production 15 s."""
    if url.startswith("sqlite"):
        return {}
    return {"pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=300"}}


def shorten_sqlite_busy_timeout(engine) -> None:
    # Runs after cxalign.extensions' own connect listener, which sets 15 s.
    @event.listens_for(engine, "connect")
    def busy_timeout(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA busy_timeout=300")


@pytest.mark.parametrize("fault", ["statement fails", "cannot connect", "locked too long"])
def test_the_database_out_of_reach_gives_a_friendly_try_again_page(
    app, tmp_path, respondent_and_token, fault
):
    respondent, token = respondent_and_token
    survey = respondent.survey
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    served = live_app(app, tmp_path, SQLALCHEMY_ENGINE_OPTIONS=short_lock_timeout(url))
    client = served.test_client()
    with served.app_context():
        engine = db.engine
    shorten_sqlite_busy_timeout(engine)
    for number in (1, 2):
        assert save_page(client, token, number, page_answers(survey, number)).status_code == 302
    form = client.get(f"/r/{token}/page/3")
    csrf = CSRF.search(form.text).group(1)
    page_3 = {**page_answers(survey, 3), "csrf_token": csrf, "nav": "next"}

    if fault == "statement fails":
        error = (
            sqlite3.OperationalError("disk I/O error")
            if url.startswith("sqlite")
            else psycopg.OperationalError("server closed the connection unexpectedly")
        )
        with statement_failures(engine, error):
            reply = client.post(f"/r/{token}/page/3", data=page_3)
    elif fault == "cannot connect":
        down = live_app(app, tmp_path, SQLALCHEMY_DATABASE_URI=unreachable_url(url, tmp_path))
        down_client = down.test_client()
        down_client.set_cookie("session", client.get_cookie("session").value)
        reply = down_client.post(f"/r/{token}/page/3", data=page_3)
        health = down_client.get("/healthz")
        assert health.status_code == 503  # load balancers take the host out
    else:
        with database_locked(url):
            reply = client.post(f"/r/{token}/page/3", data=page_3)

    # A friendly page, with a way to send the same answers again.
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    assert reply.headers["Cache-Control"] == "no-store"
    body = reply.text
    assert "Please try again" in body and "Nothing you saved earlier is lost" in body
    assert "Traceback" not in body and "OperationalError" not in body
    assert "sqlalchemy" not in body.lower() and "psycopg" not in body.lower()
    retry_form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', body, re.S)
    assert retry_form is not None and retry_form.group(1) == f"/r/{token}/page/3"
    resend = dict(HIDDEN.findall(retry_form.group(2)))
    assert resend == page_3
    assert "Try again" in retry_form.group(2)

    # The earlier pages are still there; nothing of page 3 was written.
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    saved = answers_of(respondent)
    assert len(saved) == 8
    assert db.session.get(Respondent, respondent.id).status == RespondentStatus.STARTED

    # "Try again", once the database is back: the same answers, saved.
    again = client.post(retry_form.group(1), data=resend)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/r/{token}/page/4")
    db.session.rollback()
    assert len(answers_of(respondent)) == 12
