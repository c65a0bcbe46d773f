"""The outbox: every text sent after the webhook reply is a row here first.

A row is written in the same transaction as the change that caused it, under a
unique key, so a retried webhook or a crash can neither lose nor double it.
Only ``flask sms send-due`` (see sender.py) takes rows out and sends them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .clock import now
from .models import OutboxMessage, ProcessedMessage

OPEN_STATES = ("queued", "failed", "sending")


def insert_ignoring_duplicates(session: Session, model, values: dict, key: str) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row is new."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = insert(model).values(**values)
    # rowcount is not reliable for INSERT on every driver; a returned row is.
    column = getattr(model, key)
    return session.execute(statement.returning(column)).first() is not None


def first_delivery(session: Session, message_sid: str) -> bool:
    """Record an inbound MessageSid; False when it was already handled (a redelivery)."""
    return insert_ignoring_duplicates(session, ProcessedMessage,
                                       {"message_sid": message_sid, "received_at": now()}, "message_sid")


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
