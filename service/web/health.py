"""GET /healthz: is this process able to answer calls and texts? And GET /favicon.ico, which every
browser asks for on every page (the console, the simulator)."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..storage.db import db
from .extensions import loaded

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/favicon.ico")
def favicon() -> Response:
    icon = Path(current_app.static_folder) / "favicon.ico"
    response = Response(icon.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/healthz")
def healthz():
    cat = loaded().catalogue
    body = {"status": "ok", "database": "ok", "topics": len(cat.topics),
            "clips": loaded().clips.count}
    try:
        db.ping()
    except SQLAlchemyError as error:
        log.error("health check: database unreachable: %s", type(error).__name__)
        body.update(status="degraded", database="unreachable")
        return jsonify(body), 503
    return jsonify(body)
