"""How long the PDF gap report takes: full render, WeasyPrint's floor, and a cached download.

    python benchmarks/bench_report.py [--runs 3] [--downloads 20]

Seeds a temporary SQLite database with the demo organisation and times, for its closed
survey (38 respondents, 12 dimensions, 48 items):

* **full render**: ``get_report_pdf`` with an empty cache, i.e. everything a first
  download does: data version, scoring, report data, charts, template, WeasyPrint and
  the cache write;
* **floor**: WeasyPrint alone rendering the same HTML with the charts already made (same
  stylesheets and URL fetcher);
* **cached download**: ``GET /surveys/<id>/report.pdf`` through the Flask test client for
  a logged-in member when the PDF is in the cache (access check, data version, cache
  read, audit record).

Full and floor runs alternate, so that background load affects both alike; each figure is
the median. Renders are timed in wall-clock and in CPU time of this process; the ratio is
taken on CPU time, which other processes on a busy machine disturb far less. Targets: full
render at most 1.3 times the floor, cached download under 50 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from sqlalchemy import delete, select

from cxalign import create_app
from cxalign.extensions import db

FULL_TARGET = 1.3
CACHED_TARGET_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed renders of each kind")
    parser.add_argument("--downloads", type=int, default=20, help="timed cached downloads")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "benchmark",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            figures = run(app, args.runs, args.downloads)
            db.session.remove()
            db.engine.dispose()
    report(figures)
    ok = figures["ratio"] <= FULL_TARGET and figures["cached_ms"] < CACHED_TARGET_MS
    return 0 if ok else 1


def run(app, runs: int, downloads: int) -> dict:
    from cxalign.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
    from cxalign.models import RenderedReport, Survey, SurveyStatus
    from cxalign.reports.data import report_for_survey
    from cxalign.reports.pdf import get_report_pdf, render_pdf, render_report_html

    db.create_all()
    started = time.perf_counter()
    seed_demo()
    db.session.commit()
    seed_s = time.perf_counter() - started
    survey = db.session.scalar(
        select(Survey).where(Survey.status == SurveyStatus.CLOSED).order_by(Survey.id)
    )
    html = render_report_html(report_for_survey(survey), "a4")

    def clear_cache() -> None:
        db.session.execute(delete(RenderedReport))
        db.session.commit()

    render_pdf(html, "a4")  # warm-up: fonts, caches, imports
    full, floor, full_cpu, floor_cpu = [], [], [], []
    pdf = b""
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        render_pdf(html, "a4")
        floor.append(time.perf_counter() - started)
        floor_cpu.append(time.process_time() - cpu)

        clear_cache()
        db.session.expire_all()
        started, cpu = time.perf_counter(), time.process_time()
        pdf, cached = get_report_pdf(survey, "a4")
        full.append(time.perf_counter() - started)
        full_cpu.append(time.process_time() - cpu)
        assert not cached

    client = app.test_client()
    response = client.post("/auth/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    url = f"/surveys/{survey.id}/report.pdf?paper=a4"
    assert client.get(url).headers["X-Report-Cache"] == "hit"
    times = []
    for _ in range(downloads):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.headers["X-Report-Cache"] == "hit"
    full_s, floor_s = statistics.median(full), statistics.median(floor)
    full_cpu_s, floor_cpu_s = statistics.median(full_cpu), statistics.median(floor_cpu)
    return {
        "seed_s": seed_s,
        "survey": survey.title,
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "size": len(pdf),
        "full": full,
        "floor": floor,
        "full_s": full_s,
        "floor_s": floor_s,
        "full_cpu": full_cpu,
        "floor_cpu": floor_cpu,
        "full_cpu_s": full_cpu_s,
        "floor_cpu_s": floor_cpu_s,
        "wall_ratio": full_s / floor_s,
        "ratio": full_cpu_s / floor_cpu_s,
        "cached_ms": statistics.median(times) * 1000,
        "cached_max_ms": max(times) * 1000,
        "downloads": downloads,
    }


def report(f: dict) -> None:
    def runs(values):
        return ", ".join(f"{v:.2f}" for v in values)

    print(f"Demo survey: {f['survey']} (seeded in {f['seed_s']:.2f} s)")
    print(f"Report: {f['pages']} pages, {f['size'] / 1024:.0f} KiB, A4")
    print("                          wall clock              CPU time")
    print(
        f"Full render (uncached):   {f['full_s']:5.2f} s [{runs(f['full'])}]   "
        f"{f['full_cpu_s']:5.2f} s [{runs(f['full_cpu'])}]"
    )
    print(
        f"Floor (WeasyPrint only):  {f['floor_s']:5.2f} s [{runs(f['floor'])}]   "
        f"{f['floor_cpu_s']:5.2f} s [{runs(f['floor_cpu'])}]"
    )
    verdict = "ok" if f["ratio"] <= FULL_TARGET else "over target"
    print(
        f"Full / floor:             {f['wall_ratio']:.2f}x wall, {f['ratio']:.2f}x CPU  "
        f"(target <= {FULL_TARGET}x: {verdict})"
    )
    verdict = "ok" if f["cached_ms"] < CACHED_TARGET_MS else "over target"
    print(
        f"Cached download:          {f['cached_ms']:.1f} ms median, {f['cached_max_ms']:.1f} ms "
        f"max over {f['downloads']}  (target < {CACHED_TARGET_MS:.0f} ms: {verdict})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
