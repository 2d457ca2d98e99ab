"""The load test's floor: the cheapest request that writes what one questionnaire page writes.

``POST /_bench/floor`` inserts one ``Response`` row per ``item`` field for the given
``respondent``, with plain SQLAlchemy in one transaction: no token lookup, no survey or
instrument, no form, no CSRF, no validation. ``benchmarks/load_test.py`` times it on the
same server and database as the real answer-saving request, so the real request's cost
can be read against what Flask, the WSGI server and the database cost on their own.

It writes whatever it is given, so it lives here, outside the product package: only the
load test serves it (``CXALIGN_WSGI_APP='benchmarks.floor:create_app()' scripts/serve``),
and it refuses to start in production.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, request
from sqlalchemy import insert

import cxalign
from cxalign.extensions import csrf, db
from cxalign.models import Response, utcnow
from cxalign.security import database_int

bp = Blueprint("benchfloor", __name__)
csrf.exempt(bp)

FLOOR_PATH = "/_bench/floor"


@bp.post(FLOOR_PATH)
def floor():
    respondent_id = request.form.get("respondent", type=database_int)
    item_ids = request.form.getlist("item", type=database_int)
    if respondent_id is None or not item_ids:
        abort(400)
    now = utcnow()
    db.session.execute(
        insert(Response),
        [
            {
                "respondent_id": respondent_id,
                "item_id": item_id,
                "value": 3,
                "dont_know": False,
                "updated_at": now,
            }
            for item_id in item_ids
        ],
    )
    db.session.commit()
    return "", 204


def register(app: Flask) -> None:
    if app.config.get("CXALIGN_ENV") == "production":
        raise RuntimeError("the benchmark floor cannot be enabled in production")
    app.register_blueprint(bp)


def create_app(test_config: dict | None = None) -> Flask:
    """The product's app with the floor added: what the load test serves."""
    app = cxalign.create_app(test_config)
    register(app)
    return app
