"""Returning callers: offered the topic they last heard, only if they asked for it.

Kept under a salted hash of the number, for 30 days; never the number itself.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from . import phones
from .clock import now
from .db import db
from .models import ReturningCaller
from .privacy import pseudonym

log = logging.getLogger(__name__)
KEEP_FOR = dt.timedelta(days=30)


def caller_known(caller: str) -> bool:
    return phones.is_uk_number(caller)


def last_topic(caller: str) -> str | None:
    """The topic to offer, or None; a database fault simply means no offer."""
    if not caller_known(caller):
        return None
    try:
        with db.session() as session:
            found = session.get(ReturningCaller, pseudonym(caller))
            if found is None:
                return None
            if found.remembered_at < now() - KEEP_FOR:
                session.delete(found)
                return None
            return found.topic
    except SQLAlchemyError as error:
        log.error("returning caller look-up failed (%s): no offer", type(error).__name__)
        return None


def remember(caller: str, topic: str) -> str:
    """Store the caller's consent and topic; return the prompt id to say."""
    try:
        with db.session() as session:
            key = pseudonym(caller)
            found = session.get(ReturningCaller, key, with_for_update=True)
            if found is None:
                session.add(ReturningCaller(caller_hash=key, topic=topic, remembered_at=now()))
            else:
                found.topic, found.remembered_at = topic, now()
    except SQLAlchemyError as error:
        log.error("could not remember a returning caller (%s)", type(error).__name__)
        return "remember_failed"
    return "remember_done"


def purge_expired() -> int:
    """Delete consents older than 30 days (also done on look-up); for a scheduler."""
    with db.session() as session:
        return session.execute(delete(ReturningCaller).where(ReturningCaller.remembered_at < now() - KEEP_FOR)
                               ).rowcount
