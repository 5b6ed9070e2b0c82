"""rph-pwa: a progressive web app for Rask psykisk helsehjelp."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import ROOT, Config, config_from_env


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the app. No side effects: no migrations, network calls or scheduler here."""
    config = config or config_from_env()
    if hasattr(config, "check_environment"):
        config.check_environment(os.environ)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config)
    app.config.update(overrides)

    from . import assets, cli, crypto, db, localtime, urls, web
    from .auth import bp as auth_bp
    from .client import bp as client_bp
    from .public import bp as public_bp
    from .referral import bp as referral_bp
    from .therapist import bp as therapist_bp

    db.init_app(app)
    crypto.init_app(app)
    localtime.init_app(app)
    urls.init_app(app)
    assets.init_app(app)  # before web: its hooks run after web's (compression last)
    web.init_app(app)
    cli.init_app(app)

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(client_bp)
    app.register_blueprint(referral_bp)
    app.register_blueprint(therapist_bp, url_prefix="/therapist")
    return app
