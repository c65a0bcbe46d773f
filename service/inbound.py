"""Inbound MessageSids: Twilio may deliver a text twice, and a redelivery gets no second reply
or effect. Each is recorded in the same transaction as the text's effects."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .clock import now
from .db import insert_ignoring_duplicates
from .models import ProcessedMessage

# Twilio redelivers within hours; a month is plenty.
KEEP_FOR = dt.timedelta(days=30)


def first_delivery(session: Session, message_sid: str) -> bool:
    """Record an inbound MessageSid; False when it was already handled (a redelivery)."""
    return insert_ignoring_duplicates(session, ProcessedMessage,
                                       {"message_sid": message_sid, "received_at": now()}, "message_sid")


def purge_old(session: Session) -> int:
    """Delete MessageSids older than ``KEEP_FOR``; how many went."""
    return session.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < now() - KEEP_FOR)).rowcount
