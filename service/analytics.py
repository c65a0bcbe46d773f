"""Anonymous usage events. A caller is a salted hash (``privacy.pseudonym``), never a number.

Recording must never cost a caller their answer: a database fault is logged
and the call carries on.
"""
from __future__ import annotations

import logging
import time

from flask import g
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .clock import now
from .db import db
from .models import UsageEvent
from .privacy import pseudonym

log = logging.getLogger(__name__)


# After a database fault, stop trying for a while: a caller must not wait on a
# dead database for every event (this process only; it holds no call state).
PAUSE_AFTER_FAULT_SECONDS = 30.0
_paused_until = 0.0


def record(channel: str, who: str, session_id: str, event: str, node: str | None = None,
           detail: str | None = None) -> None:
    """Note an event; it is written with the others of this request, in one transaction."""
    pending = g.setdefault("usage_events", [])
    pending.append(UsageEvent(channel=channel, caller_hash=pseudonym(who or "unknown"),
                              session_hash=pseudonym(session_id or "unknown"), event=event,
                              node=node, detail=(detail or None) and detail[:32], occurred_at=now()))


def flush(response):
    """An ``after_request`` hook: write this request's events. Never costs the caller the answer."""
    global _paused_until
    pending = g.pop("usage_events", None)
    if not pending or time.monotonic() < _paused_until:
        return response
    try:
        with db.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Usage counts may lose their last instant in a server crash; a caller must not
                # wait for a disk flush for them.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            session.add_all(pending)
    except SQLAlchemyError as error:
        _paused_until = time.monotonic() + PAUSE_AFTER_FAULT_SECONDS
        log.error("usage events paused for %.0f s: %d not recorded (%s)", PAUSE_AFTER_FAULT_SECONDS,
                  len(pending), type(error).__name__)
    return response

