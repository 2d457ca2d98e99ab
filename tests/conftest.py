"""Shared fixtures: the app on SQLite or PostgreSQL, clients, factories, a live server, Chromium.

Set ``TEST_DATABASE_URL`` to run the whole suite against PostgreSQL; otherwise each
run gets a fresh SQLite file. Tables are created once per run and emptied after every test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from cxalign import create_app
from cxalign.extensions import db, limiter
from cxalign.models import Membership, Organisation, Role, User

PASSWORD = "correct-horse-battery"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> Iterator[str]:
    """SQLite file per run, or TEST_DATABASE_URL; each xdist worker gets its own database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    if worker_id == "master":
        yield url
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from cxalign.config import normalise_database_url

    base = make_url(normalise_database_url(url))
    name = f"{base.database}_{worker_id}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Apps that tests build for themselves; their engines are disposed after each test so no
# connection is left for the garbage collector (psycopg warns, and warnings are errors).
_extra_apps: list[Flask] = []


def make_test_app(database_url: str, instance: Path, **overrides) -> Flask:
    from cxalign.config import normalise_database_url

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": None,
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": "http://localhost",
    }
    config.update(overrides)
    app = create_app(config)
    _extra_apps.append(app)
    return app


def dispose_extra_apps(keep: Flask) -> None:
    while _extra_apps:
        extra = _extra_apps.pop()
        if extra is keep:
            continue
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory) -> Iterator[Flask]:
    app = make_test_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_all_tables() -> None:
    db.session.rollback()
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app) -> Iterator[None]:
    """Each test runs inside an app context and leaves empty tables behind."""
    with app.app_context():
        yield
        db.session.remove()
        empty_all_tables()
        db.session.remove()
    dispose_extra_apps(keep=app)
    # Flask-Limiter's one Limiter takes `enabled` from the last app that called init_app:
    # a test that builds a rate-limited app must not leave limits on for the tests after it.
    if limiter.enabled:
        limiter.reset()
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories -----------------------------------------------------------------


@pytest.fixture
def make_organisation():
    def make(name: str = "Acme Insurance") -> Organisation:
        organisation = Organisation(name=name)
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return make


@pytest.fixture
def make_user(make_organisation):
    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        *,
        role: str | None = Role.OWNER,
        organisation: Organisation | None = None,
        password: str = PASSWORD,
        name: str = "Test User",
    ) -> User:
        user = User(email=email or f"user{next(counter)}@example.com", name=name)
        user.set_password(password)
        db.session.add(user)
        if role is not None:
            organisation = organisation or make_organisation()
            db.session.add(Membership(user=user, organisation=organisation, role=role))
            db.session.flush()
            user.current_organisation_id = organisation.id
        db.session.commit()
        return user

    return make


class AuthActions:
    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, user_or_email: User | str, password: str = PASSWORD):
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        return self.client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def owner(make_user) -> User:
    return make_user("owner@example.com", role=Role.OWNER)


@pytest.fixture
def owner_client(client, auth, owner) -> FlaskClient:
    """A client logged in as an organisation owner."""
    response = auth.login(owner)
    assert response.status_code == 302, response.text
    return client


# Live server and browser ------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app, database_url, tmp_path_factory) -> Iterator[str]:
    """The app served over real HTTP on loopback, CSRF on, sharing the test database."""
    live_app = make_test_app(
        database_url, tmp_path_factory.mktemp("live"), WTF_CSRF_ENABLED=True, TESTING=False
    )
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    live_app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium. Missing Chromium is an error, never a skip."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
