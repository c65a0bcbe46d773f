"""The operator console (``/admin``): usage, callback requests, subscribers and content,
behind a login. ``init_app(app)`` registers it with its extensions and commands.

Only the console uses sessions, forms and the rate limiter: CSRF is checked per
form (Flask-WTF's ``FlaskForm``), not app-wide, so Twilio's webhooks are untouched.
"""
from __future__ import annotations

import logging

from flask import Flask, request
from flask_limiter import Limiter

from .. import config

log = logging.getLogger(__name__)


def client_address() -> str:
    """The address to rate-limit: the caller's, seen through ``ADMIN_PROXY_HOPS`` trusted proxies.

    Only the entry the nearest trusted proxy wrote is believed; a chain shorter than the
    configured hops means the setting is wrong, and then the connection's own address is used
    (everyone behind that proxy shares one count: stricter, never looser)."""
    from flask import current_app

    hops = current_app.config["ADMIN_PROXY_HOPS"]
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or "unknown"


def login_name() -> str:
    """The account a login attempt is for: counted whatever address it comes from, so a wrong
    ADMIN_PROXY_HOPS (spoofable addresses) still cannot buy unlimited guesses at one password."""
    from .auth import normalise_name

    return "name:" + normalise_name(request.form.get("name", ""))[:64]


def init_app(app: Flask) -> None:
    """Register the console, unless ``ADMIN_CONSOLE=off`` (then /admin does not exist at all)."""
    if not config.console_enabled(app):
        log.info("operator console is off (ADMIN_CONSOLE=off): /admin is not served")
        return
    config.configure_console(app)

    from .auth import login_manager
    from .cli import admin_cli
    from .views import bp

    login_manager.init_app(app)
    # One limiter per app: its counters (and the storage behind them) belong to this app alone.
    limiter = Limiter(key_func=client_address, storage_uri=app.config["RATELIMIT_STORAGE_URI"],
                      strategy="fixed-window", key_prefix="all-line-admin")
    # Checked before the view runs; only attempts to log in count.
    def not_a_login() -> bool:
        return request.endpoint != "admin.login"

    limiter.limit(lambda: app.config["ADMIN_LOGIN_RATE_LIMIT"], methods=["POST"], exempt_when=not_a_login)(bp)
    limiter.limit(lambda: app.config["ADMIN_LOGIN_NAME_RATE_LIMIT"], key_func=login_name, methods=["POST"],
                  exempt_when=not_a_login)(bp)
    # Only the console's own pages are limited: a webhook never pays for the limiter's look-up.
    limiter.request_filter(lambda: request.blueprint != bp.name)
    limiter.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(admin_cli)
