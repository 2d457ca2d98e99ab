"""A small load test in every CI run: 100 respondents, 20 at a time, through gunicorn.

The same machinery as ``benchmarks/load_test.py`` (see benchmarks/README.md): a fresh
database (SQLite, or a scratch database on TEST_DATABASE_URL's PostgreSQL server), the
app started by ``scripts/serve`` on 127.0.0.1, respondents answering every page like
browsers (GET the page, POST it with its CSRF token, cookies per respondent). It asserts
exact counts (nothing lost, nothing duplicated, every value as sent), never timings.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter

import pytest

from benchmarks import loadlib

RESPONDENTS = 100
CLIENTS = 20

pytestmark = pytest.mark.slow


def test_a_hundred_respondents_at_once_lose_and_duplicate_nothing(tmp_path):
    secret_key = secrets.token_hex(32)
    with loadlib.scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path) as url:
        server = loadlib.Server(url, secret_key, tmp_path / "gunicorn.log", workers=2)
        with server:
            seeded = loadlib.seed(url, secret_key, RESPONDENTS)
            stats = loadlib.drive(server.port, seeded, clients=CLIENTS, timeout=240)
        problems = server.log_problems()
        replaced = server.worker_replacements()
        checks = loadlib.verify(url, seeded)

    assert stats.failures == [], stats.failures[:5]
    assert problems == {
        "responses_5xx": 0,
        "responses_500": 0,
        "tracebacks": 0,
        "database_locked": 0,
    }, server.log_tail()
    assert checks["ok"], checks
    assert checks["answers_stored"] == RESPONDENTS * seeded.items == RESPONDENTS * 48
    assert checks["respondents_completed"] == RESPONDENTS
    assert checks["comments_matching"] == checks["comments_expected"] == 2 * RESPONDENTS
    assert checks["floor_rows_stored"] == RESPONDENTS * 48
    # Every request of every kind was made and succeeded once per respondent and page.
    timings = stats.timings
    assert len(timings["save"].seconds) == RESPONDENTS * 12
    assert len(timings["view"].seconds) == RESPONDENTS * 13
    assert len(timings["submit"].seconds) == len(timings["done"].seconds) == RESPONDENTS

    # The per-wave figures (load_test.py --waves) cover every request once.
    waves = loadlib.figures(stats, replaced)["waves"]
    pages = len(seeded.pages)
    kinds = Counter(wave["kind"] for wave in waves)
    assert kinds == {
        "landing": 1,
        "view": pages,
        "save": pages - 1,
        "submit": 1,
        "floor": 12,
        "done": 1,
    }
    assert all(wave["requests"] == RESPONDENTS for wave in waves)
    assert [w["page"] for w in waves if w["kind"] == "view"] == list(range(1, pages + 1))
    assert all(w["p50_ms"] <= w["p95_ms"] <= w["max_ms"] for w in waves)
    assert replaced == [] and sum(w["workers_replaced"] for w in waves) == 0
