"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from cxalign.config import normalise_database_url
from cxalign.extensions import db
from tests.conftest import make_test_app


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new, empty database of the same kind as the suite's."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    name = f"cxalign_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(empty_database_url, tmp_path):
    migrations_app = make_test_app(empty_database_url, tmp_path)
    with migrations_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
            )
            tables = set(inspect(connection).get_table_names())
        assert diff == [], f"models and migrations disagree: {diff}"
        assert {"survey", "respondent", "response", "item", "membership"} <= tables

        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
