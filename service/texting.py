""""Text me this" from a call: queue a topic's SMS version to the caller's mobile."""
from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from . import outbox, phones, subscriptions
from .content import Catalogue
from .db import db
from .privacy import masked

log = logging.getLogger(__name__)


def text_topic(cat: Catalogue, call_sid: str, caller: str, topic_id: str) -> str:
    """Queue the text and return the prompt id that tells the caller what happened."""
    if not phones.is_uk_mobile(caller):
        return "text_not_possible"
    number = phones.e164(caller)
    body = cat.topic_sms(topic_id, in_reply=False)
    try:
        with db.session() as session:
            if subscriptions.is_opted_out(session, number):
                return "text_opted_out"
            queued = outbox.enqueue(session, kind="text_me", dedupe_key=f"textme:{call_sid}:{topic_id}",
                                    to_number=number, body=body)
    except SQLAlchemyError:
        log.exception("could not queue topic %s for call %s to %s", topic_id, call_sid, masked(caller))
        return "text_failed"
    return "text_sent" if queued else "text_already_sent"
