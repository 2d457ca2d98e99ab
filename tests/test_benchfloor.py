"""The load test's floor endpoint lives outside the product and never runs in production."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from benchmarks import floor
from benchmarks.floor import FLOOR_PATH
from cxalign.extensions import db
from cxalign.models import Response
from cxalign.respond.answers import page_plan
from tests.conftest import make_test_app
from tests.test_respond_answers import make_respondent, make_survey


def floor_rules(app) -> list[str]:
    return [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("bench")]


def test_the_product_app_never_has_the_floor(app, client, tmp_path, monkeypatch):
    assert floor_rules(app) == []
    assert client.post(FLOOR_PATH, data={"respondent": 1, "item": [1]}).status_code == 404
    # The setting that once switched it on inside the product does nothing any more.
    monkeypatch.setenv("CXALIGN_BENCH_FLOOR", "1")
    assert floor_rules(make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)) == []


def test_production_refuses_the_floor():
    with pytest.raises(RuntimeError, match="cannot be enabled in production"):
        floor.create_app({"CXALIGN_ENV": "production", "SECRET_KEY": "x" * 64})


def test_the_floor_inserts_a_page_of_rows_without_csrf(app, tmp_path):
    floor_app = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True
    )
    floor.register(floor_app)
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
