"""GET /healthz: is this process able to answer calls and texts?"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .db import db
from .extensions import loaded

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


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
