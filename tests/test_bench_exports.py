"""benchmarks/bench_exports.py keeps running and times what it says (a small run, no timings)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from openpyxl import load_workbook

from benchmarks import bench_exports
from cxalign.exports.writers import write_xlsx


def test_a_small_run_reports_both_formats():
    out = io.StringIO()
    with redirect_stdout(out):
        status = bench_exports.main(["--respondents", "40", "--runs", "1", "--json"])
    assert status == 0
    results = json.loads(out.getvalue())
    assert results["respondents"] == 40 and results["columns"] == 67
    for kind in ("csv", "xlsx"):
        assert results[kind]["bytes"] > 0 and results[kind]["cpu_s"] >= 0


def test_the_synthetic_table_writes_a_sheet_that_reads_back():
    table = bench_exports.responses_table(25)
    assert len(table.rows) == 25 and all(len(row) == len(table.columns) for row in table.rows)
    sheet = load_workbook(io.BytesIO(write_xlsx([table])), read_only=True)["Responses"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == table.columns
    assert len(rows) == 26
    assert rows[1][:3] == table.rows[0][:3]


def test_a_run_of_nothing_is_refused_with_a_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_exports.main(["--runs", "0"])
    assert exit_info.value.code == 2
    assert "--runs must be at least 1" in capsys.readouterr().err
