"""Returning callers: the in-memory index of who may have a consent (the database confirms)."""
from __future__ import annotations

import datetime as dt
import threading
import time

from service.storage.consent_index import OVERLAP, ConsentIndex

KEEP = dt.timedelta(days=30)
T0 = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)


class Store:
    """Consent rows as the database holds them, and every question the index asked."""

    def __init__(self, rows=()):
        self.rows = dict(rows)
        self.asked: list[dt.datetime | None] = []
        self.down = False
        self.hang = threading.Event()

    def load(self, since):
        self.asked.append(since)
        if self.hang.is_set():
            time.sleep(3)
        if self.down:
            raise OSError("database away")
        return [(h, at) for h, at in self.rows.items() if since is None or at >= since]


def index(store, now, **settings) -> ConsentIndex:
    settings.setdefault("refresh_seconds", 3600)
    return ConsentIndex(store.load, lambda: now[0], KEEP, **settings)


def test_only_callers_with_a_kept_consent_may_be_returning():
    now = [T0]
    store = Store({"a": T0 - dt.timedelta(days=29), "old": T0 - dt.timedelta(days=31)})
    consents = index(store, now)
    assert consents.might_have("a"), "the first call waits for the first load"
    assert not consents.might_have("old") and not consents.might_have("nobody")
    now[0] = T0 + dt.timedelta(days=2)
    assert not consents.might_have("a"), "past 30 days a consent is no longer used"


def test_later_looks_fetch_only_what_changed_since_with_an_overlap_and_reload_everything_now_and_then():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now)
    consents.refresh()
    now[0] = T0 + dt.timedelta(minutes=5)
    store.rows["b"] = T0 + dt.timedelta(minutes=4)
    consents.refresh()
    assert consents.might_have("b")
    assert store.asked == [None, T0 - OVERLAP]
    # A consent whose row landed late (timestamped before the overlap) is found at the next reload.
    store.rows["late"] = T0 - dt.timedelta(minutes=10)
    consents.refresh()
    assert not consents.might_have("late")
    consents.reload_seconds = 0
    consents._next_reload = 0.0
    consents.refresh()
    assert consents.might_have("late") and store.asked[-1] is None


def test_no_database_question_between_refreshes():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now)
    for _ in range(100):
        consents.might_have("a")
        consents.might_have("z")
    assert store.asked == [None]


def test_a_consent_stored_here_is_known_at_once():
    now = [T0]
    store = Store()
    consents = index(store, now)
    assert not consents.might_have("new")
    consents.note("new", T0)
    assert consents.might_have("new")


def test_a_database_fault_keeps_what_is_known():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now)
    assert consents.might_have("a")
    store.down = True
    consents.refresh()
    assert consents.might_have("a") and not consents.might_have("b")


def test_a_hanging_database_never_holds_a_call_up_for_long():
    now = [T0]
    store = Store({"a": T0})
    store.hang.set()
    consents = index(store, now, refresh_seconds=0.0, first_wait=0.2)
    assert not consents.might_have("a"), "the first load is not back: the usual welcome"
    for _ in range(20):
        consents.might_have("a")
    # Every call returned while the one load (in the background) was still waiting on the database.
    assert consents._loading.is_alive() and len(store.asked) == 1
