"""Returning callers: offered the topic they last heard, only if they asked for it.

Kept under a salted hash of the number, for 30 days; never the number itself. Almost no caller
has asked, so a new call asks the database only when this process's index of consents
(``consent_index``) says the caller may have one.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import Flask, current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from ..basics import phones
from ..basics.clock import now
from ..basics.privacy import pseudonym
from .consent_index import ConsentIndex
from .db import db
from .models import ReturningCaller

log = logging.getLogger(__name__)
KEEP_FOR = dt.timedelta(days=30)
KEY = "returning_consents"


def init_app(app: Flask) -> None:
    def load(since: dt.datetime | None) -> list[tuple[str, dt.datetime]]:
        query = select(ReturningCaller.caller_hash, ReturningCaller.remembered_at).where(
            ReturningCaller.remembered_at >= (since or now() - KEEP_FOR))
        with db.engine_for(app).connect() as connection:
            return [(caller_hash, at) for caller_hash, at in connection.execute(query)]

    app.extensions[KEY] = ConsentIndex(load, now, KEEP_FOR, app.config["RETURNING_REFRESH_SECONDS"])


def consents(app: Flask | None = None) -> ConsentIndex:
    return (app or current_app).extensions[KEY]


def caller_known(caller: str) -> bool:
    return phones.is_uk_number(caller)


def last_topic(caller: str) -> str | None:
    """The topic to offer, or None; a database fault simply means no offer."""
    if not consents().might_have(pseudonym(caller)) or not caller_known(caller):
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
            remembered_at = now()
            if found is None:
                session.add(ReturningCaller(caller_hash=key, topic=topic, remembered_at=remembered_at))
            else:
                found.topic, found.remembered_at = topic, remembered_at
    except SQLAlchemyError as error:
        log.error("could not remember a returning caller (%s)", type(error).__name__)
        return "remember_failed"
    consents().note(key, remembered_at)
    return "remember_done"


def purge_expired() -> int:
    """Delete consents older than 30 days (also done on look-up); for a scheduler."""
    with db.session() as session:
        return session.execute(delete(ReturningCaller).where(ReturningCaller.remembered_at < now() - KEEP_FOR)
                               ).rowcount
