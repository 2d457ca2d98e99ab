"""gunicorn.conf.py: workers are forked from a preloaded master and never share its connections.

The settings as a whole run in every CI job through ``scripts/serve``
(tests/test_load_small.py, tests/test_faults.py); this pins down the part that keeps
forked workers apart.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from cxalign.extensions import db
from tests.conftest import make_test_app

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture(scope="module")
def settings():
    spec = importlib.util.spec_from_file_location("gunicorn_settings", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workers_are_forked_from_a_preloaded_app(settings):
    assert settings.preload_app is True
    assert settings.max_requests > 0 and 0 < settings.max_requests_jitter < settings.max_requests


def test_a_forked_worker_starts_with_no_connection_of_the_master(settings, app, tmp_path):
    master_app = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with master_app.app_context():
        engine = db.engine
        with engine.connect() as connection:  # the master used the database while loading
            connection.execute(text("SELECT 1"))
        assert engine.pool.checkedin() == 1
        inherited = engine.pool

    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: master_app))
    settings.post_fork(server, worker=None)

    with master_app.app_context():
        assert db.engine.pool is not inherited  # a fresh pool: nothing of the master's
        assert db.engine.pool.checkedin() == 0
        assert db.session.scalar(text("SELECT 1")) == 1  # and the worker still connects
        db.session.remove()
    # Here master and worker are one process: close what the real master would keep.
    inherited.dispose()
