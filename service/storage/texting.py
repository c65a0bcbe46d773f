""""Text me this" from a call: queue a topic's SMS version to the caller's mobile, within the caps.

A caller's number (``From``) can be faked, so each text costs the charity and may reach a stranger:
at most TEXTS_PER_CALL topic texts per call and TEXTS_PER_NUMBER_PER_DAY per number per London day.
The caps are slots (``text_allowances``, one unique key each) taken in the same transaction as
the outbox row, so concurrent calls cannot pass them; a text not queued gives its slots back.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..basics import clock, phones
from ..basics.privacy import masked, pseudonym
from ..content import Catalogue
from . import outbox, subscriptions
from .db import db, insert_ignoring_duplicates
from .models import OutboxMessage, TextAllowance

log = logging.getLogger(__name__)


class _NotQueued(Exception):
    """Leave the transaction without a trace (slots included), saying which prompt to play."""

    def __init__(self, prompt: str):
        self.prompt = prompt


def text_topic(cat: Catalogue, call_sid: str, caller: str, topic_id: str) -> str:
    """Queue the text and return the prompt id that tells the caller what happened."""
    if not phones.is_uk_mobile(caller):
        return "text_not_possible"
    number = phones.e164(caller)
    body = cat.topic_sms(topic_id, in_reply=False)
    dedupe_key = f"textme:{call_sid}:{topic_id}"
    try:
        with db.session() as session:
            if subscriptions.is_opted_out(session, number):
                return "text_opted_out"
            if session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first():
                return "text_already_sent"
            config = current_app.config
            if not _take_slot(session, f"call:{call_sid}", config["TEXTS_PER_CALL"]) or not _take_slot(
                    session, f"day:{pseudonym(number)[:40]}:{clock.london_today().isoformat()}",
                    config["TEXTS_PER_NUMBER_PER_DAY"]):
                raise _NotQueued("text_limit")
            if not outbox.enqueue(session, kind="text_me", dedupe_key=dedupe_key, to_number=number, body=body):
                raise _NotQueued("text_already_sent")
    except _NotQueued as refused:
        if refused.prompt == "text_limit":
            log.warning("call %s: no more topic texts to %s (the per-call or per-day cap)", call_sid,
                        masked(caller))
        return refused.prompt
    except SQLAlchemyError:
        log.exception("could not queue topic %s for call %s to %s", topic_id, call_sid, masked(caller))
        return "text_failed"
    return "text_sent"


def _take_slot(session: Session, prefix: str, cap: int) -> bool:
    """Take the first free slot of ``cap``; False when all are taken (a concurrent taker of the
    same slot waits for the other transaction, then tries the next one)."""
    for slot in range(1, cap + 1):
        if insert_ignoring_duplicates(session, TextAllowance, {"key": f"{prefix}:{slot}", "created_at": clock.now()},
                                      "key"):
            return True
    return False


def purge_slots(session: Session) -> int:
    """Slots older than two days can no longer count against any cap."""
    cutoff = clock.now() - dt.timedelta(days=2)
    return session.execute(delete(TextAllowance).where(TextAllowance.created_at < cutoff)).rowcount
