"""gunicorn settings for production: ``scripts/serve`` (or ``gunicorn -c gunicorn.conf.py
'app:create_app()'``). Environment variables override them; see docs/deployment.md.

The app keeps no state in memory (sessions are signed cookies, PDFs are cached in the
database), so any number of workers and hosts can serve it behind one load balancer.
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two workers per core plus one: while one waits on the database another computes.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# One thread per worker (gunicorn's sync worker) by default. Requests are mostly Python
# work, so threads in one process mostly wait for each other's GIL; separate processes
# share the load more evenly: in the load test, the answer-saving request's p95 latency
# was 10-25% lower than with 2 threads per worker for the same throughput. The reverse
# proxy in front buffers slow clients (docs/deployment.md), as sync workers need.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # PDF rendering can take seconds
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a C library cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Load the app once, in the master, and fork workers from it. A worker that replaces a
# recycled or killed one is then ready without importing the app (about a second of CPU):
# in the load test all five workers reach max_requests within half a minute, and without
# preloading the waves of requests in that window had about twice the p95 latency of the
# others. The workers also share the loaded code's memory. The price: new code needs a
# restart of the master, not a HUP (docs/deployment.md, "Upgrading").
preload_app = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """Give each worker its own database connections.

    Loading the app opens none, but a connection opened by the master would otherwise be
    shared by every worker forked from it, and two processes talking over one socket mix
    up each other's replies.
    """
    from cxalign.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# A personal link's token is the respondent's only credential: access logs show
# /r/[token] and /join/[token] instead, so whoever reads the logs cannot answer for them.
_LINK_TOKEN = re.compile(r"^(/r/|/join/)[^/?\s]+")
_REDACTED = r"\1[token]"


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        method, _, rest = atoms["r"].partition(" ")
        atoms["r"] = method + " " + _LINK_TOKEN.sub(_REDACTED, rest)
        atoms["U"] = _LINK_TOKEN.sub(_REDACTED, atoms["U"] or "")
        return atoms


logger_class = RedactingLogger
