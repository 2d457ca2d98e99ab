"""Settings come from the environment; the development secret is generated once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cxalign.config import instance_secret_key, load_config, normalise_database_url
from cxalign.extensions import db
from tests.conftest import make_test_app


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_pointed_at_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = instance_secret_key(str(tmp_path))
    second = instance_secret_key(str(tmp_path))
    assert first == second
    assert len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("CXALIGN_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        load_config(str(tmp_path))


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("CXALIGN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CXALIGN_ENV", raising=False)
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/cxalign.db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    sqlite_app = make_test_app(f"sqlite:///{tmp_path}/pragmas.db", tmp_path)
    with sqlite_app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
