"""The load test's floor endpoint exists only when asked for, and never in production."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cxalign import create_app
from cxalign.benchfloor import FLOOR_PATH
from cxalign.config import load_config
from cxalign.extensions import db
from cxalign.models import Response
from cxalign.respond.answers import page_plan
from tests.conftest import make_test_app
from tests.test_respond_answers import make_respondent, make_survey


def floor_rules(app) -> list[str]:
    return [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("bench")]


def test_the_floor_is_absent_by_default(app, client, tmp_path, monkeypatch):
    assert app.config["BENCH_FLOOR"] is False
    assert floor_rules(app) == []
    assert client.post(FLOOR_PATH, data={"respondent": 1, "item": [1]}).status_code == 404
    monkeypatch.delenv("CXALIGN_BENCH_FLOOR", raising=False)
    assert load_config(str(tmp_path))["BENCH_FLOOR"] is False


def test_the_environment_switches_it_on(tmp_path, monkeypatch):
    monkeypatch.setenv("CXALIGN_BENCH_FLOOR", "1")
    monkeypatch.delenv("CXALIGN_ENV", raising=False)
    assert load_config(str(tmp_path))["BENCH_FLOOR"] is True


def test_production_refuses_the_floor(tmp_path, monkeypatch):
    monkeypatch.setenv("CXALIGN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("CXALIGN_BENCH_FLOOR", "1")
    with pytest.raises(RuntimeError, match="CXALIGN_BENCH_FLOOR"):
        load_config(str(tmp_path))
    # Nor can a config mapping sneak it past the environment check.
    monkeypatch.delenv("CXALIGN_BENCH_FLOOR")
    with pytest.raises(RuntimeError, match="cannot be enabled in production"):
        create_app({"CXALIGN_ENV": "production", "BENCH_FLOOR": True, "SECRET_KEY": "x" * 64})


def test_the_floor_inserts_a_page_of_rows_without_csrf(app, tmp_path):
    floor_app = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, BENCH_FLOOR=True, WTF_CSRF_ENABLED=True
    )
    assert floor_rules(floor_app) == [FLOOR_PATH]
    survey = make_survey()
    respondent, _token = make_respondent(survey)
    items = [item.id for item in page_plan(survey, "executive")[0].items]
    client = floor_app.test_client()
    with floor_app.app_context():
        reply = client.post(FLOOR_PATH, data={"respondent": respondent.id, "item": items})
        assert reply.status_code == 204
        assert client.post(FLOOR_PATH, data={"item": items}).status_code == 400
    db.session.rollback()
    stored = db.session.scalar(
        select(func.count(Response.id)).where(Response.respondent_id == respondent.id)
    )
    assert stored == len(items) == 4
