"""Try the line without a phone: a pretend phone (``phone``) that drives the real, signed
webhooks in-process, used by `flask line call|text` and by the web simulator (``web``).

The web simulator acts with the auth token, so it exists only when
``SIMULATOR_ENABLED`` is set: ``init_simulator`` registers nothing otherwise.
"""
from __future__ import annotations

from flask import Flask


def init_simulator(app: Flask) -> None:
    """Register the web simulator at /simulator when ``SIMULATOR_ENABLED`` is on."""
    if not app.config.get("SIMULATOR_ENABLED"):
        return
    from .web import bp

    app.register_blueprint(bp)
