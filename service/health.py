"""GET /healthz: is this process able to answer calls and texts?"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .content import current_catalogue
from .db import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    cat = current_catalogue()
    body = {"status": "ok", "database": "ok", "topics": len(cat.topics),
            "clips": current_app.extensions["line.clip_count"]}
    try:
        db.ping()
    except SQLAlchemyError as error:
        log.error("health check: database unreachable: %s", type(error).__name__)
        body.update(status="degraded", database="unreachable")
        return jsonify(body), 503
    return jsonify(body)
