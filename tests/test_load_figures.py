"""The load test's per-wave figures: which waves a worker replacement fell in, and the table.

The timings themselves come from real runs (tests/test_load_small.py, benchmarks/); these
tests pin down the bookkeeping on made-up waves, where the right answer is known.
"""

from __future__ import annotations

from benchmarks import load_test, loadlib

T0 = 1_795_000_000.0  # epoch seconds, a whole second


def run_stats() -> loadlib.RunStats:
    stats = loadlib.RunStats()
    # page 1: view 0-10 s, save 10.5-16 s, floor 16.2-20 s (latencies in seconds)
    for kind, started, wall, seconds in (
        ("view", T0, 10.0, [0.2, 0.3, 0.4]),
        ("save", T0 + 10.5, 5.5, [0.1, 0.2, 0.6]),
        ("floor", T0 + 16.2, 3.8, [0.1, 0.1, 0.3]),
    ):
        stats.waves.append(loadlib.Wave(kind, 1, started, wall, seconds))
        stats.timings[kind].seconds += seconds
        stats.timings[kind].wall += wall
    return stats


def test_a_replacement_counts_for_the_wave_it_fell_in():
    # gunicorn stamps whole seconds: T0 + 10 is the second the save wave began (at 10.5).
    figures = loadlib.figures(run_stats(), [T0 + 3, T0 + 10, T0 + 12.0, T0 + 25])
    replaced = {wave["kind"]: wave["workers_replaced"] for wave in figures["waves"]}
    assert replaced == {"view": 1, "save": 2, "floor": 0}  # T0 + 25 is after every wave


def test_each_wave_reports_its_own_percentiles():
    save = loadlib.figures(run_stats())["waves"][1]
    assert save["kind"] == "save" and save["page"] == 1 and save["requests"] == 3
    assert save["p50_ms"] == 200.0 and save["max_ms"] == 600.0
    assert 200.0 < save["p95_ms"] < 600.0


def test_the_wave_table_puts_a_page_on_a_line_with_its_save_to_floor_ratio():
    waves = loadlib.figures(run_stats(), [T0 + 12.0])["waves"]
    header, line = load_test.wave_lines(waves)
    assert header.startswith("page") and header.rstrip().endswith("workers replaced")
    assert "save/floor" in header
    cells = line.split()
    save_p95, floor_p95 = waves[1]["p95_ms"], waves[2]["p95_ms"]
    assert cells[0] == "1"
    assert float(cells[2]) == save_p95 and float(cells[3]) == floor_p95
    assert cells[4] == f"{save_p95 / floor_p95:.2f}"
    assert cells[5] == "1"
