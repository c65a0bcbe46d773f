"""Inbound texts: Twilio may deliver a text twice, and a redelivery gets no second reply or
effect. Each MessageSid is recorded in the same transaction as the text's effects.

``arrive`` records it and, in the same round trip on PostgreSQL (a data-modifying CTE), reads
what the engine will ask about the texter: their menu, their last topic and whether they opted
out. A text is answered with two statements (this one, and keeping the menu) and a commit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ..basics.clock import now
from ..basics.privacy import pseudonym
from .db import insert_ignoring
from .models import ProcessedMessage, SmsSession, Subscriber

# Twilio redelivers within hours; a month is plenty.
KEEP_FOR = dt.timedelta(days=30)


@dataclass(frozen=True)
class Arrival:
    first: bool                 # False: this MessageSid was handled before (a redelivery)
    opted_out: bool
    menu: str | None            # None on a number's first text
    topic: str | None
    asking: bool = False        # the last reply asked "did this help?" about ``topic``
    asked_on: dt.date | None = None  # the London day it was last asked


_TEXTER = (
    select(SmsSession.menu).where(SmsSession.number_hash == bindparam("number_hash")).scalar_subquery(),
    select(SmsSession.topic).where(SmsSession.number_hash == bindparam("number_hash")).scalar_subquery(),
    select(SmsSession.asking).where(SmsSession.number_hash == bindparam("number_hash")).scalar_subquery(),
    select(SmsSession.asked_on).where(SmsSession.number_hash == bindparam("number_hash")).scalar_subquery(),
    select(Subscriber.state).where(Subscriber.phone == bindparam("phone")).scalar_subquery(),
)
_RECALL = select(*_TEXTER)
_RECORD = ("message_sid", "received_at")
_FRESH = insert_ignoring("postgresql", ProcessedMessage, "message_sid", _RECORD).cte("fresh")
_ARRIVE_POSTGRESQL = select(select(_FRESH.c.message_sid).exists(), *_TEXTER)


def arrive(session: Session, message_sid: str, phone: str) -> Arrival:
    """Record an inbound MessageSid and read the texter (see the module's note)."""
    record = {"message_sid": message_sid, "received_at": now()}
    texter = {"number_hash": pseudonym(phone), "phone": phone}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        first, menu, topic, asking, asked_on, state = connection.execute(_ARRIVE_POSTGRESQL, record | texter).one()
    else:
        # On the connection: nothing in this new transaction for the session to flush first.
        first = connection.execute(insert_ignoring(connection.dialect.name, ProcessedMessage, "message_sid", _RECORD),
                                   record).first() is not None
        menu, topic, asking, asked_on, state = connection.execute(_RECALL, texter).one()
    return Arrival(bool(first), state == "opted_out", menu, topic, bool(asking), asked_on)


def purge_old(session: Session) -> int:
    """Delete MessageSids older than ``KEEP_FOR``; how many went."""
    return session.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < now() - KEEP_FOR)).rowcount
