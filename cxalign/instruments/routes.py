from __future__ import annotations

from flask import Blueprint

bp = Blueprint("instruments", __name__)
