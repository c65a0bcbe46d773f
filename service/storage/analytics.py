"""Anonymous usage events. A caller is a salted hash (``privacy.pseudonym``), never a number.

Recording never costs a caller anything: an event goes into this process's memory and a
background writer stores the events in batches (``event_buffer``), so no webhook waits on the
database for them, and a database fault is the writer's problem, not the caller's. The bound:
a killed process loses at most the last second of events; a clean exit loses none.
"""
from __future__ import annotations

from flask import Flask, current_app

from ..basics.clock import now
from ..basics.privacy import pseudonym
from .db import db
from .event_buffer import EventBuffer
from .models import UsageEvent

KEY = "usage_events"


def init_app(app: Flask) -> None:
    app.extensions[KEY] = EventBuffer(lambda: db.engine_for(app), UsageEvent.__table__,
                                      interval=app.config["USAGE_EVENTS_INTERVAL_SECONDS"])


def events(app: Flask | None = None) -> EventBuffer:
    """This app's (or the current app's) queue of usage events."""
    return (app or current_app).extensions[KEY]


def record(channel: str, who: str, session_id: str, event: str, node: str | None = None,
           detail: str | None = None) -> None:
    """Note an event; the writer stores it within the second."""
    events().add({"channel": channel, "caller_hash": pseudonym(who or "unknown"),
                  "session_hash": pseudonym(session_id or "unknown"), "event": event, "node": node,
                  "detail": (detail or None) and detail[:32], "occurred_at": now()})
