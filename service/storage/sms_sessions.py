"""A texter's place in the SMS menus (and the topic MORE leads on from), kept under the salted
hash of their number, never the number."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, delete, func
from sqlalchemy.orm import Session

from ..basics.clock import london_today, now
from ..basics.privacy import pseudonym
from ..content import MAIN_MENU
from .db import CONFLICT_INSERTS, insert_ignoring_duplicates
from .models import SmsSession

# A texter whose place has not changed for this long starts again at the first text's greeting
# (with its urgent advice). A text that leaves the place as it was writes nothing, so this counts
# from the last change.
KEEP_FOR = dt.timedelta(days=30)


def _upsert(insert):
    statement = insert(SmsSession).values(number_hash=bindparam("number_hash"), menu=bindparam("menu"),
                                          topic=bindparam("topic"), asking=bindparam("asking"),
                                          asked_on=bindparam("asked_on"), updated_at=bindparam("updated_at"))
    kept = statement.excluded
    # A reply that does not ask keeps the day the number was last asked.
    return statement.on_conflict_do_update(index_elements=["number_hash"], set_={
        "menu": kept.menu, "topic": kept.topic, "asking": kept.asking,
        "asked_on": func.coalesce(kept.asked_on, SmsSession.asked_on), "updated_at": kept.updated_at})


_KEEP = {dialect: _upsert(conflict_insert) for dialect, conflict_insert in CONFLICT_INSERTS.items()}


def keep(session: Session, phone: str, menu_id: str, topic: str | None = None, asking: bool = False) -> None:
    """One upsert (INSERT ... ON CONFLICT DO UPDATE): two first texts from one number at once
    must not collide. ``asking``: this reply asks "did this help?" (today is remembered)."""
    connection = session.connection()
    connection.execute(_KEEP[connection.dialect.name], {
        "number_hash": pseudonym(phone), "menu": menu_id, "topic": topic, "asking": asking,
        "asked_on": london_today() if asking else None, "updated_at": now()})


# A number is asked "did this help?" at most once in this many days.
ASK_EVERY = dt.timedelta(days=7)


def may_ask(asked_on: dt.date | None) -> bool:
    """May a texter last asked on ``asked_on`` (a London day) be asked again today?"""
    return asked_on is None or london_today() - asked_on >= ASK_EVERY


def first_contact(session: Session, phone: str) -> bool:
    """True only for a number's first text ever: its session row is made now (at the main menu),
    so two first texts at once still count as one."""
    return insert_ignoring_duplicates(session, SmsSession, {"number_hash": pseudonym(phone), "menu": MAIN_MENU,
                                                             "updated_at": now()}, "number_hash")


def purge_old(session: Session) -> int:
    """Forget the places unchanged for ``KEEP_FOR``; how many went."""
    return session.execute(delete(SmsSession).where(SmsSession.updated_at < now() - KEEP_FOR)).rowcount
