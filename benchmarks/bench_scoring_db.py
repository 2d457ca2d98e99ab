"""Benchmark scoring from the database: import, load and score 10,000 respondents x 60 items.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scoring_db.py [--respondents 10000] [--runs 5]

For a throwaway SQLite database (and, when ``BENCH_DATABASE_URL`` or
``TEST_DATABASE_URL`` names a PostgreSQL server, also in a private schema there that is
dropped afterwards, so a shared test database is left as it was):

1. builds the synthetic 60-item instrument of ``bench_scoring.py`` (12 dimensions, 5- and
   7-point scales, reverse-coded items, "don't know") and saves it as rows;
2. imports 10,000 completed questionnaires (a fifth of them executives) through
   ``cxalign.analysis.importer.import_responses`` (CSV parsing, validation, bulk inserts,
   one commit), and reports that time;
3. times ``cxalign.analysis.load_answers`` (the queries that turn the survey's rows into
   the answer matrix) and ``cxalign.scoring.score_survey`` separately, median of
   ``--runs`` runs each; then ``load_answers_proposed`` (a faster drop-in for
   ``load_answers``, defined below), ``data_version`` and the whole
   ``results_document`` as JSON (what the API and ``score --json`` serve), and checks
   that both loaded matrices equal the answers generated.

Each step shows wall time and this process's CPU time (on a busy machine, the CPU time
is the steadier figure; on PostgreSQL the server's own work is in the wall time only).

Budgets: scoring < 1 s; loading < 2 s on SQLite. Exit status 1 if either is exceeded.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scoring import build_answers, build_instrument  # noqa: E402

from cxalign import create_app  # noqa: E402
from cxalign.extensions import db  # noqa: E402

SCORE_BUDGET = 1.0
LOAD_BUDGET_SQLITE = 2.0


def answers_csv(instrument, answers) -> str:
    """The generated answers as an import file (before reverse coding: raw answers)."""
    codes = [item.code for item in instrument.items]
    out = io.StringIO()
    out.write("respondent,group," + ",".join(codes) + "\n")
    values = answers.values
    for i, group in enumerate(answers.groups):
        cells = [
            "DK" if answers.dont_know[i, j] else ("" if np.isnan(v) else str(int(v)))
            for j, v in enumerate(values[i])
        ]
        out.write(f"r{i:05d},{group}," + ",".join(cells) + "\n")
    return out.getvalue()


def _same_matrix(a, b) -> bool:
    return (
        np.array_equal(a.values, b.values, equal_nan=True)
        and np.array_equal(a.dont_know, b.dont_know)
        and list(a.groups) == list(b.groups)
    )


@dataclass(frozen=True)
class Timing:
    wall: float  # median wall-clock seconds
    cpu: float  # median CPU seconds of this process (the database server's are not in it)


def timed(function: Callable[[], object], runs: int) -> tuple[Timing, object]:
    walls, cpus = [], []
    result = None
    for _ in range(runs):
        db.session.expire_all()
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Timing(statistics.median(walls), statistics.median(cpus)), result


def show(step: str, timing: Timing, note: str = "") -> None:
    print(f"  {step:<27}{timing.wall * 1000:9.0f} ms {timing.cpu * 1000:9.0f} ms   {note}")


def run(label: str, url: str, n: int, runs: int, engine_options: dict | None = None) -> bool:
    from cxalign.analysis import (
        analyse_survey,
        data_version,
        load_answers,
        results_document,
        scoring_settings,
    )
    from cxalign.analysis.importer import import_responses
    from cxalign.instruments.store import save_instrument, spec_from_instrument
    from cxalign.models import Organisation, Survey
    from cxalign.scoring import score_survey

    config = {
        "TESTING": True,
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
    }
    if engine_options:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    app = create_app(config)
    with app.app_context():
        db.create_all()
        spec = build_instrument()
        organisation = Organisation(name="Benchmark")
        survey = Survey(
            organisation=organisation,
            instrument=save_instrument(spec, organisation_id=None),
            title="Benchmark wave",
            status="open",
            anonymity_executive=1,
        )
        db.session.add_all([organisation, survey])
        db.session.commit()
        generated = build_answers(spec, n, n // 5)
        text = answers_csv(spec, generated)
        codes = tuple(item.code for item in spec.items)

        print(f"\n{label}: {n:,} respondents x {len(codes)} items, {len(text) / 2**20:.1f} MiB CSV")
        print(f"  {'step':<27}{'wall':>12}{'cpu':>13}")

        def import_file():
            summary = import_responses(survey, text)
            db.session.commit()
            return summary

        timing, summary = timed(import_file, 1)
        show("import_responses + commit", timing, f"{summary.answers + summary.dont_know:,} rows")

        instrument_spec = spec_from_instrument(survey.instrument)
        load, matrix = timed(lambda: load_answers(survey, codes), runs)
        show("load_answers", load, f"median of {runs}")
        show("data_version", timed(lambda: data_version(survey), runs)[0])
        settings = scoring_settings(survey)
        score, result = timed(lambda: score_survey(instrument_spec, matrix, settings), runs)
        show(
            "score_survey", score, f"median of {runs}; alignment index {result.alignment.index:.1f}"
        )
        total, document = timed(
            lambda: json.dumps(results_document(survey, analyse_survey(survey))), max(1, runs // 2)
        )
        show("analyse_survey + JSON", total, f"what the API serves: {len(document) / 1024:.0f} KiB")
        same = _same_matrix(matrix, generated)
        print(f"  loaded matrices equal the generated answers: {'yes' if same else 'NO'}")
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    ok = same and score.wall < SCORE_BUDGET
    if url.startswith("sqlite"):
        ok = ok and load.wall < LOAD_BUDGET_SQLITE
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"Budgets: score_survey < {SCORE_BUDGET * 1000:.0f} ms; "
        f"load_answers < {LOAD_BUDGET_SQLITE * 1000:.0f} ms on SQLite"
    )

    ok = True
    with tempfile.TemporaryDirectory() as directory:
        ok &= run("SQLite", f"sqlite:///{directory}/bench.db", args.respondents, args.runs)

    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg_url and pg_url.startswith("postgres"):
        ok &= run_postgresql(pg_url, args.respondents, args.runs)
    print("\nOK" if ok else "\nOVER BUDGET (or the loaded answers differ)")
    return 0 if ok else 1


def run_postgresql(url: str, n: int, runs: int) -> bool:
    """The same run in a private schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    from cxalign.config import normalise_database_url

    url = normalise_database_url(url)
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return run(
            f"PostgreSQL (schema {schema})",
            url,
            n,
            runs,
            {"connect_args": {"options": f"-csearch_path={schema}"}},
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
