"""Opt-out, opt-in and the weekly series, as state changes on a subscriber.

Each function runs inside the caller's transaction, so the state change and any
text it queues commit together or not at all.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..basics.clock import LONDON, now
from ..content import Catalogue
from . import outbox
from .db import insert_ignoring_duplicates
from .models import Subscriber

SERIES_INTERVAL = dt.timedelta(days=7)
# Numbers the line no longer needs: never joined, never said YES, or the series is over.
FORGOTTEN_STATES = ("none", "pending", "finished")


def same_time_next_week(moment: dt.datetime) -> dt.datetime:
    """Seven days on at the same London wall-clock time, across a clock change too."""
    local = moment.astimezone(LONDON).replace(tzinfo=None) + SERIES_INTERVAL
    return local.replace(tzinfo=LONDON).astimezone(dt.UTC)


def find(session: Session, phone: str, lock: bool = False) -> Subscriber | None:
    query = select(Subscriber).where(Subscriber.phone == phone)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _get_or_create(session: Session, phone: str) -> Subscriber:
    subscriber = find(session, phone, lock=True)
    if subscriber is None:
        insert_ignoring_duplicates(session, Subscriber, {
            "phone": phone, "state": "none", "series_position": 0,
            "created_at": now(), "updated_at": now()}, "phone")
        subscriber = find(session, phone, lock=True)
    return subscriber


def is_opted_out(session: Session, phone: str) -> bool:
    subscriber = find(session, phone)
    return subscriber is not None and subscriber.state == "opted_out"


def opt_out(session: Session, phone: str) -> None:
    """STOP: nothing more is sent, including texts already queued or claimed."""
    subscriber = _get_or_create(session, phone)
    if subscriber.state != "opted_out":
        subscriber.state = "opted_out"
        subscriber.opted_out_at = now()
        subscriber.next_send_at = None
    outbox.cancel_for_number(session, phone, "opted out")


def opt_in(session: Session, phone: str) -> None:
    """START: texts may be sent again; the series restarts only if asked for (JOIN)."""
    subscriber = _get_or_create(session, phone)
    if subscriber.state == "opted_out":
        subscriber.state = "none"
        subscriber.opted_out_at = None


def join(session: Session, cat: Catalogue, phone: str) -> str:
    """JOIN / SUBSCRIBE: ask for a YES first, unless the series is already running."""
    subscriber = _get_or_create(session, phone)
    if subscriber.state == "active":
        return cat.series_prompts["already"]
    subscriber.state = "pending"
    return cat.series_prompts["confirm"]


def confirm(session: Session, cat: Catalogue, phone: str) -> str:
    """YES after JOIN: the first series text is due at once (send-due keeps it to daytime)."""
    subscriber = _get_or_create(session, phone)
    if subscriber.state == "active":
        return cat.series_prompts["already"]
    if subscriber.state != "pending":
        return cat.series_prompts["not_pending"]
    started = now()
    subscriber.state = "active"
    subscriber.joined_at = started
    subscriber.series_position = 0
    subscriber.next_send_at = started
    queue_series_text(session, cat, subscriber, 0, started)
    return cat.series_prompts["joined"]


def queue_series_text(session: Session, cat: Catalogue, subscriber: Subscriber, position: int,
                      due_at: dt.datetime) -> bool:
    text = cat.series[position]
    run = int(subscriber.joined_at.timestamp())
    return outbox.enqueue(session, kind="series", dedupe_key=f"series:{subscriber.id}:{run}:{position}",
                          to_number=subscriber.phone, body=text.sms, due_at=due_at,
                          subscriber_id=subscriber.id, series_position=position)


def series_text_sent(session: Session, cat: Catalogue, subscriber: Subscriber, position: int,
                     sent_at: dt.datetime) -> None:
    """After text ``position`` went out: queue the next a week later, or finish the series."""
    if subscriber.state != "active":
        return
    subscriber.series_position = position + 1
    if position + 1 >= len(cat.series):
        subscriber.state = "finished"
        subscriber.next_send_at = None
        return
    subscriber.next_send_at = same_time_next_week(sent_at)
    queue_series_text(session, cat, subscriber, position + 1, subscriber.next_send_at)


def purge_inactive(session: Session, retention_days: int) -> tuple[int, int]:
    """Forget the numbers in ``FORGOTTEN_STATES`` unchanged for ``retention_days``; of an opted-out
    number keep only the number, its state and when (what honouring the STOP needs). How many of each."""
    cutoff = now() - dt.timedelta(days=retention_days)
    forgotten = session.execute(delete(Subscriber).where(Subscriber.state.in_(FORGOTTEN_STATES),
                                                         Subscriber.updated_at < cutoff)).rowcount
    trimmed = session.execute(
        update(Subscriber)
        .where(Subscriber.state == "opted_out", Subscriber.updated_at < cutoff,
               (Subscriber.joined_at.is_not(None)) | (Subscriber.series_position != 0))
        .values(joined_at=None, series_position=0, next_send_at=None)
        .execution_options(synchronize_session=False)).rowcount
    return forgotten, trimmed
