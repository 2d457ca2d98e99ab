"""Benchmark the export writers: a responses table of 10,000 respondents x 60 items.

Run from the repository root::

    python benchmarks/bench_exports.py [--respondents 10000] [--runs 3]

Times ``write_csv`` and ``write_xlsx`` (cxalign/exports/writers.py) on a synthetic
table shaped like the responses export: a pseudonym, group, status and two times, then
one integer answer per item and two comment columns. Prints the median wall and CPU time
of each, the file size, and whether openpyxl found lxml to write its XML with (it is not a
requirement: it saved only about 13% here, because most of the time goes into openpyxl's
per-cell bookkeeping, not into the XML). Reading the table from the database is not
included.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl.xml import LXML

from cxalign.exports.tables import Table
from cxalign.exports.writers import write_csv, write_xlsx

ITEMS = 60


def responses_table(respondents: int, seed: int = 7) -> Table:
    rng = random.Random(seed)
    started = datetime(2026, 11, 2, 9, 0)
    columns = (
        "respondent",
        "group",
        "status",
        "started_at",
        "completed_at",
        *(f"item_{number:02d}" for number in range(1, ITEMS + 1)),
        "comment_strength",
        "comment_fix_first",
    )
    rows = []
    for number in range(respondents):
        begun = started + timedelta(minutes=rng.randrange(0, 20_000))
        answers = [rng.choice((1, 2, 3, 4, 5, 5, 4, None)) for _ in range(ITEMS)]
        rows.append(
            (
                f"R-{number:06x}",
                "executive" if number % 5 == 0 else "cx_professional",
                "completed",
                begun,
                begun + timedelta(minutes=rng.randrange(6, 40)),
                *answers,
                "The CEO asks us for advice before big launches." if number % 3 == 0 else None,
                "Fund the voice-of-customer programme." if number % 4 == 0 else None,
            )
        )
    return Table("Responses", columns, rows)


def timed(write, table: Table, runs: int) -> dict:
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(write(table))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall_s": round(statistics.median(walls), 2),
        "cpu_s": round(statistics.median(cpus), 2),
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.respondents < 1 or arguments.runs < 1:
        parser.error("--respondents and --runs must be at least 1")

    table = responses_table(arguments.respondents)
    results = {
        "respondents": arguments.respondents,
        "columns": len(table.columns),
        "openpyxl_uses_lxml": LXML,
        "csv": timed(lambda t: write_csv(t), table, arguments.runs),
        "xlsx": timed(lambda t: write_xlsx([t]), table, arguments.runs),
    }
    if arguments.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"exports: {arguments.respondents:,} respondents x {len(table.columns)} columns, "
        f"median of {arguments.runs}; openpyxl with lxml: {'yes' if LXML else 'no'}"
    )
    for kind in ("csv", "xlsx"):
        figures = results[kind]
        print(
            f"  {kind:<5} wall {figures['wall_s']:>6.2f} s   cpu {figures['cpu_s']:>6.2f} s   "
            f"{figures['bytes'] / 1e6:>6.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
