"""Try the line without a phone: a pretend phone (``phone``) that drives the real, signed
webhooks in-process, used by `flask line call|text` (``cli``) and by the web simulator (``web``).

The web simulator acts with the auth token, so it exists only when
``SIMULATOR_ENABLED`` is set: ``init_simulator`` registers nothing otherwise.

May import web, storage, engine, content, basics and config (docs/architecture.md).
"""
from __future__ import annotations

from flask import Flask


def init_simulator(app: Flask) -> None:
    """Register the web simulator at /simulator when ``SIMULATOR_ENABLED`` is on."""
    if not app.config.get("SIMULATOR_ENABLED"):
        return
    if not app.config.get("DEV_MODE") and "admin" not in app.blueprints:
        from ..config import ConfigError

        raise ConfigError(
            "The ALL line cannot start:\n  - SIMULATOR_ENABLED=1 outside development needs the operator "
            "console, so that only a logged-in operator can use it (it acts with the auth token): set "
            "SECRET_KEY, or unset SIMULATOR_ENABLED.")
    from .web import bp

    app.register_blueprint(bp)
