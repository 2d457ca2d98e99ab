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
