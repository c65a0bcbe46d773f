"""A texter's place in the SMS menus (and the topic MORE leads on from), kept under the salted
hash of their number, never the number."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from .clock import now
from .content import MAIN_MENU
from .db import insert_ignoring_duplicates
from .models import SmsSession
from .privacy import pseudonym


def recall(session: Session, phone: str) -> tuple[str | None, str | None]:
    """The texter's menu and last topic; (None, None) on first contact."""
    saved = session.get(SmsSession, pseudonym(phone))
    return (saved.menu, saved.topic) if saved else (None, None)


def keep(session: Session, phone: str, menu_id: str, topic: str | None = None) -> None:
    """Upsert: two first texts from one number at once must not collide."""
    number_hash = pseudonym(phone)
    values = {"menu": menu_id, "topic": topic, "updated_at": now()}
    if not insert_ignoring_duplicates(session, SmsSession, {"number_hash": number_hash, **values}, "number_hash"):
        session.execute(update(SmsSession).where(SmsSession.number_hash == number_hash).values(**values))


def first_contact(session: Session, phone: str) -> bool:
    """True only for a number's first text ever: its session row is made now (at the main menu),
    so two first texts at once still count as one."""
    return insert_ignoring_duplicates(session, SmsSession, {"number_hash": pseudonym(phone), "menu": MAIN_MENU,
                                                             "updated_at": now()}, "number_hash")
