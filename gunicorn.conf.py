"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

The app keeps no state in memory (sessions are signed cookies, PDFs are cached in the
database), so any number of workers and hosts can serve it behind one load balancer.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two workers per core plus one: requests mostly wait on the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # PDF rendering can take seconds
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a C library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
