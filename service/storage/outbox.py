"""The outbox: every text sent after the webhook reply is a row here first.

A row is written in the same transaction as the change that caused it, under a
unique key, so a retried webhook or a crash can neither lose nor double it.
Only ``flask sms send-due`` (see sender.py) takes rows out and sends them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, update
from sqlalchemy.orm import Session

from ..basics.clock import now
from .db import insert_ignoring_duplicates
from .models import OutboxMessage

OPEN_STATES = ("queued", "failed", "sending")


def enqueue(session: Session, *, kind: str, dedupe_key: str, to_number: str, body: str,
            due_at: dt.datetime | None = None, subscriber_id: int | None = None,
            series_position: int | None = None) -> bool:
    """Queue a text; False (and nothing written) if this cause already queued one."""
    values = {
        "kind": kind, "dedupe_key": dedupe_key, "to_number": to_number, "body": body,
        "due_at": due_at or now(), "subscriber_id": subscriber_id, "series_position": series_position,
        "state": "queued", "attempts": 0, "created_at": now(),
    }
    return insert_ignoring_duplicates(session, OutboxMessage, values, "dedupe_key")


def cancel_for_number(session: Session, to_number: str, reason: str) -> int:
    """Cancel every unsent text to a number (after STOP), including one a worker has claimed."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to_number == to_number, OutboxMessage.state.in_(OPEN_STATES))
        .values(state="cancelled", last_error=reason)
    )
    return result.rowcount


def purge_finished(session: Session, retention_days: int) -> int:
    """Delete texts sent, cancelled or parked more than ``retention_days`` ago (with the numbers
    and words in them); how many went."""
    cutoff = now() - dt.timedelta(days=retention_days)
    return session.execute(delete(OutboxMessage).where(
        OutboxMessage.state.in_(("sent", "cancelled", "parked")),
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff)).rowcount
