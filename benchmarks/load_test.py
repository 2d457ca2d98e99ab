"""Load test: N respondents answer the whole questionnaire at once through gunicorn.

Run from the repository root::

    .venv/bin/python benchmarks/load_test.py                        # SQLite, 2,000 respondents
    .venv/bin/python benchmarks/load_test.py \\
        --database-url postgresql://cxalign@127.0.0.1:25432/cxalign  # PostgreSQL

It makes a fresh database (an SQLite file in a temporary folder, or a new database on the
PostgreSQL server of ``--database-url``, dropped afterwards), starts the app with
``scripts/serve`` (migrations, then gunicorn with ``gunicorn.conf.py``) on a free port of
127.0.0.1, seeds an open survey with N respondents, and drives them through every page
with C concurrent clients, like browsers: each page is fetched (form and CSRF token,
cookies kept per respondent) and then saved. Next to each wave of saves it runs the same
number of requests to the *floor* (``benchmarks/floor.py``: the same rows inserted with
plain SQLAlchemy, no lookup, validation or CSRF) with the same C clients. See
``benchmarks/loadlib.py`` for the details and ``benchmarks/README.md`` for figures.

It prints throughput and p50/p95/p99 latency of the answer-saving request next to the
floor's, the ratios against the targets (saves reach >= 50% of the floor's throughput;
save p95 <= 2x floor p95), and checks the database exactly: every answer sent is stored
once with its value, every respondent completed, nothing else was written.

Exit status: 0 when every check passes; 1 when an answer is lost, duplicated or wrong, a
respondent is not completed, a request failed or the server answered 500; 2 when the run
did not finish in ``--timeout`` seconds; 3 with ``--enforce-targets`` when a target is
missed (targets are reported, not enforced, by default: timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loadlib


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=2000, help="default: 2000")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server to make a scratch database on (default: SQLite file)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (gunicorn.conf.py default)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads per worker (gunicorn.conf.py default)"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="time limit of the run, seconds (1800)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the floor requests (correctness only)"
    )
    parser.add_argument(
        "--enforce-targets", action="store_true", help="exit 3 when a target is missed"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and server log")
    parser.add_argument(
        "--waves",
        action="store_true",
        help="also print each page's waves: p95 of views, saves and floor, workers replaced",
    )
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace, log=print) -> dict:
    """One whole run; returns the results (``status`` is the exit status)."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cxalign-load-"))
    secret_key = secrets.token_hex(32)
    results: dict = {
        "settings": {
            "respondents": arguments.respondents,
            "clients": arguments.clients,
            "workers": arguments.workers,
            "threads": arguments.threads,
        }
    }
    with loadlib.scratch_database(arguments.database_url, workdir, keep=arguments.keep) as url:
        results["settings"]["database"] = url.split(":", 1)[0]
        server = loadlib.Server(
            url,
            secret_key,
            workdir / "gunicorn.log",
            workers=arguments.workers,
            threads=arguments.threads,
        )
        log(f"starting gunicorn (scripts/serve) on {results['settings']['database']} ...")
        with server:
            results["settings"].update(server.gunicorn_settings())
            log(f"seeding {arguments.respondents:,} respondents ...")
            seeded = loadlib.seed(url, secret_key, arguments.respondents)
            log(
                f"{len(seeded.pages)} pages, {seeded.items} items; driving with "
                f"{arguments.clients} clients against port {server.port} ..."
            )
            remaining = arguments.timeout - (time.monotonic() - started)
            try:
                stats = loadlib.drive(
                    server.port,
                    seeded,
                    clients=arguments.clients,
                    timeout=remaining,
                    floor=not arguments.no_floor,
                    progress=log,
                    cpu_seconds=server.cpu_seconds,
                )
                timed_out = False
            except loadlib.LoadTestError as error:
                log(f"stopped: {error}")
                stats, timed_out = None, True
        results["server"] = server.log_problems()
        replacements = server.worker_replacements()
        results["server"]["workers_replaced"] = len(replacements)
        if stats is not None:
            results.update(loadlib.figures(stats, replacements))
        results["database"] = loadlib.verify(url, seeded)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    if arguments.keep:
        results["workdir"] = str(workdir)
    else:
        loadlib.remove_tree(workdir)

    failed = (
        not results["database"]["ok"]
        or bool(results.get("failures"))
        or results["server"]["responses_500"]
        or results["server"]["tracebacks"]
    )
    targets = results.get("targets", {})
    missed = targets and not (targets["throughput_met"] and targets["p95_met"])
    if timed_out:
        results["status"] = 2
    elif failed:
        results["status"] = 1
    elif missed and arguments.enforce_targets:
        results["status"] = 3
    else:
        results["status"] = 0
    return results


def wave_lines(waves: list[dict]) -> list[str]:
    """A line per page: each kind's p95 in that page's waves, and the workers replaced."""
    pages: dict[int, dict[str, dict]] = {}
    for wave in waves:
        if wave["page"] is not None:
            pages.setdefault(wave["page"], {})[wave["kind"]] = wave
    lines = [
        f"{'page':<6}{'view p95':>10}{'save p95':>10}{'floor p95':>11}{'save/floor':>12}"
        f"{'workers replaced':>18}"
    ]
    for number, kinds in sorted(pages.items()):
        save = kinds.get("save") or kinds.get("submit")
        floor = kinds.get("floor")
        ratio = f"{save['p95_ms'] / floor['p95_ms']:.2f}" if save and floor else ""
        lines.append(
            f"{number:<6}"
            + "".join(
                f"{wave['p95_ms'] if wave else '':>{width}}"
                for wave, width in ((kinds.get("view"), 10), (save, 10), (floor, 11))
            )
            + f"{ratio:>12}{sum(w['workers_replaced'] for w in kinds.values()):>18}"
        )
    return lines


def report(results: dict, waves: bool = False) -> str:
    settings = results["settings"]
    lines = [
        f"Load test: {settings['respondents']:,} respondents, {settings['clients']} clients, "
        f"{settings['database']}, gunicorn {settings['workers']} workers x "
        f"{settings['threads']} threads ({results['elapsed_s']} s)",
        "",
        f"{'request':<10}{'count':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'cpu ms':>9}",
    ]
    for kind in ("landing", "view", "save", "submit", "done", "floor"):
        figures = results.get("requests", {}).get(kind)
        if not figures or not figures.get("requests"):
            continue
        lines.append(
            f"{kind:<10}{figures['requests']:>8}{figures['throughput_per_s']:>9}"
            f"{figures['p50_ms']:>9}{figures['p95_ms']:>9}{figures['p99_ms']:>9}"
            f"{figures['max_ms']:>9}{figures.get('server_cpu_ms') or '':>9}"
        )
    if waves and results.get("waves"):
        lines += ["", *wave_lines(results["waves"])]
    targets = results.get("targets")
    if targets:
        lines += [
            "",
            f"save throughput / floor: {targets['throughput_ratio']:.2f} "
            f"(target >= {targets['throughput_target']}) "
            f"{'PASS' if targets['throughput_met'] else 'MISS'}",
            f"save p95 / floor p95:    {targets['p95_ratio']:.2f} "
            f"(target <= {targets['p95_target']}) {'PASS' if targets['p95_met'] else 'MISS'}",
        ]
        if "server_cpu_ratio" in targets:
            lines.append(f"save / floor server CPU per request: {targets['server_cpu_ratio']:.2f}")
    if results.get("events"):
        lines += ["", "retried: " + ", ".join(f"{k}: {v}" for k, v in results["events"].items())]
    database = results["database"]
    lines += [
        "",
        f"database: {database['answers_stored']:,} answers stored of "
        f"{database['answers_expected']:,} sent; missing {database['answers_missing']}, "
        f"duplicated {database['answers_duplicated']}, wrong value "
        f"{database['answers_wrong_value']}, unexpected {database['answers_unexpected']}",
        f"          comments {database['comments_matching']}/{database['comments_expected']}, "
        f"completed {database['respondents_completed']}/{database['respondents']}, "
        f"floor rows {database['floor_rows_stored']}/{database['floor_rows_expected']}, "
        f"integrity {database['integrity_check']}",
        "server:   " + ", ".join(f"{k} {v}" for k, v in results["server"].items()),
    ]
    for failure in results.get("failures", [])[:10]:
        lines.append(f"FAILED: {failure}")
    lines.append({0: "OK", 1: "FAILED", 2: "TIMED OUT", 3: "TARGET MISSED"}[results["status"]])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    log = (
        (lambda message: print(message, file=sys.stderr, flush=True))
        if arguments.json
        else (lambda message: print(message, flush=True))
    )
    results = run(arguments, log)
    print(json.dumps(results, indent=2) if arguments.json else report(results, arguments.waves))
    return results["status"]


if __name__ == "__main__":
    raise SystemExit(main())
