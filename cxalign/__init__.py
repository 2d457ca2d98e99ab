"""cxalign: measure how far executives and CX professionals see customer experience apart."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from cxalign.config import ROOT


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app. Importing or creating it has no side effects beyond reading settings."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    from cxalign.config import load_config

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)


def register_extensions(app: Flask) -> None:
    from cxalign import models
    from cxalign.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(models.User, int(user_id)) if user_id.isdigit() else None


def register_blueprints(app: Flask) -> None:
    from cxalign.auth.routes import bp as auth_bp
    from cxalign.main.routes import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    for module in OPTIONAL_BLUEPRINTS:
        register_feature(app, module)


# Feature blueprints, each in its own package with a ``routes.bp``.
OPTIONAL_BLUEPRINTS: tuple[str, ...] = (
    "instruments",
    "surveys",
    "respond",
    "results",
    "api",
    "organisations",
    "exports",
)


def register_feature(app: Flask, module: str) -> None:
    import importlib

    app.register_blueprint(importlib.import_module(f"cxalign.{module}.routes").bp)


def register_errorhandlers(app: Flask) -> None:
    from cxalign.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from cxalign.templating import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from cxalign.security import register

    register(app)


def register_commands(app: Flask) -> None:
    from cxalign.cli import cli, register_feature_commands

    register_feature_commands()
    app.cli.add_command(cli)
