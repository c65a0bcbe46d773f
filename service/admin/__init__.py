"""The operator console (``/admin``): usage, callback requests, subscribers and content,
behind a login. ``init_app(app)`` registers it with its extensions and commands.

Only the console uses sessions, forms and the login's lockout: CSRF is checked per
form (Flask-WTF's ``FlaskForm``), not app-wide, so Twilio's webhooks are untouched.

May import web, audio, storage, content, basics and config (docs/architecture.md).
"""
from __future__ import annotations

import logging

from flask import Flask

from . import setup

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the console, unless ``ADMIN_CONSOLE=off`` (then /admin does not exist at all)."""
    if not setup.console_enabled(app):
        log.info("operator console is off (ADMIN_CONSOLE=off): /admin is not served")
        return
    setup.configure_console(app)

    from . import lockout
    from .auth import login_manager
    from .cli import admin_cli
    from .views import bp

    login_manager.init_app(app)
    redis_url = app.config.get("REDIS_URL") or ""
    counts = lockout.RedisCounts(redis_url) if redis_url else lockout.MemoryCounts()
    if not redis_url and not (app.config.get("TESTING") or app.config.get("DEV_MODE")):
        log.warning("REDIS_URL is not set: each worker process counts failed console logins alone")
    app.extensions["admin_lockout"] = lockout.Lockout(counts, app.config["ADMIN_LOGIN_RATE_LIMIT"],
                                                      app.config["ADMIN_LOGIN_NAME_RATE_LIMIT"])
    app.register_blueprint(bp)
    app.cli.add_command(admin_cli)
