"""Returning callers: the in-memory index of who may have a consent (the database confirms)."""
from __future__ import annotations

import datetime as dt

from service.consent_index import OVERLAP, ConsentIndex

KEEP = dt.timedelta(days=30)
T0 = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)


class Store:
    """Consent rows as the database holds them, and every question the index asked."""

    def __init__(self, rows=()):
        self.rows = dict(rows)
        self.asked: list[dt.datetime | None] = []
        self.down = False

    def load(self, since):
        self.asked.append(since)
        if self.down:
            raise OSError("database away")
        return [(h, at) for h, at in self.rows.items() if since is None or at >= since]


def index(store, now, refresh=0.0) -> ConsentIndex:
    return ConsentIndex(store.load, lambda: now[0], KEEP, refresh_seconds=refresh)


def test_only_callers_with_a_kept_consent_may_be_returning():
    now = [T0]
    store = Store({"a": T0 - dt.timedelta(days=29), "old": T0 - dt.timedelta(days=31)})
    consents = index(store, now)
    assert consents.might_have("a")
    assert not consents.might_have("old") and not consents.might_have("nobody")
    now[0] = T0 + dt.timedelta(days=2)
    assert not consents.might_have("a"), "past 30 days a consent is no longer used"


def test_later_looks_fetch_only_what_changed_since_with_an_overlap():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now)
    consents.might_have("a")
    now[0] = T0 + dt.timedelta(minutes=5)
    store.rows["b"] = T0 + dt.timedelta(minutes=4)
    assert consents.might_have("b")
    assert store.asked == [None, T0 - OVERLAP]


def test_no_database_question_between_refreshes():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now, refresh=3600)
    for _ in range(100):
        consents.might_have("a")
        consents.might_have("z")
    assert store.asked == [None]


def test_a_consent_stored_here_is_known_at_once():
    now = [T0]
    store = Store()
    consents = index(store, now, refresh=3600)
    assert not consents.might_have("new")
    consents.note("new", T0)
    assert consents.might_have("new")


def test_a_database_fault_keeps_what_is_known():
    now = [T0]
    store = Store({"a": T0})
    consents = index(store, now)
    assert consents.might_have("a")
    store.down = True
    assert consents.might_have("a") and not consents.might_have("b")
