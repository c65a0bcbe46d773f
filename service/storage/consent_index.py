"""Which callers may have asked to be offered their last topic: known in memory, so a new call
does not wait on the database to learn that (almost always) the answer is no.

Each process keeps the salted hashes of the callers with a consent younger than ``keep_for``.
It loads them all once, then every ``refresh_seconds`` fetches the consents made or renewed since
its last look (from a minute before it), and every ``reload_seconds`` loads them all again (a
consent whose row landed late, or a clock a minute off, is still found then). Loading happens on
a thread of its own: a call never waits on it, except the first call of a process, for at most
``first_wait`` seconds. The index only says "maybe": a hit is confirmed against the database
(which also knows the topic). A consent given on another process reaches this one within
``refresh_seconds``; a caller who rings back sooner hears the usual welcome.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
RELOAD_SECONDS = 600.0
FIRST_WAIT_SECONDS = 0.5
# After a failed load (the database is away), wait this long before the next try.
RETRY_AFTER_FAULT_SECONDS = 30.0
LOG_EVERY_SECONDS = 60.0
# Consents renewed on another process are fetched from a little before the last look, so that
# clocks a few seconds apart and commits that land late are not missed.
OVERLAP = dt.timedelta(seconds=60)

# since (None: everything still kept) -> (caller hash, remembered at)
Loader = Callable[[dt.datetime | None], Iterable[tuple[str, dt.datetime]]]


class ConsentIndex:
    def __init__(self, load: Loader, now: Callable[[], dt.datetime], keep_for: dt.timedelta,
                 refresh_seconds: float = REFRESH_SECONDS, *, reload_seconds: float = RELOAD_SECONDS,
                 first_wait: float = FIRST_WAIT_SECONDS):
        self._load = load
        self._now = now
        self.keep_for = keep_for
        self.refresh_seconds = refresh_seconds
        self.reload_seconds = reload_seconds
        self.first_wait = first_wait
        self._lock = threading.Lock()
        self._remembered: dict[str, dt.datetime] = {}
        self._looked_at: dt.datetime | None = None
        self._next_look = 0.0
        self._next_reload = 0.0
        self._next_log = 0.0
        self._loading: threading.Thread | None = None

    def might_have(self, caller_hash: str) -> bool:
        """True if this caller may have a consent still kept (confirm it against the database)."""
        self._refresh_if_due()
        remembered = self._remembered.get(caller_hash)
        return remembered is not None and remembered >= self._now() - self.keep_for

    def note(self, caller_hash: str, remembered_at: dt.datetime) -> None:
        """A consent this process has just stored."""
        with self._lock:
            self._remembered[caller_hash] = max(remembered_at, self._remembered.get(caller_hash, remembered_at))

    def refresh(self) -> None:
        """Look now, on this thread (the loading thread's work; tests call it directly)."""
        whole = self._looked_at is None or time.monotonic() >= self._next_reload
        looked_at = self._now()
        since = None if whole else self._looked_at - OVERLAP
        try:
            found = list(self._load(since))
        except Exception as error:  # the database is away: keep what is known, try again later
            self._next_look = time.monotonic() + RETRY_AFTER_FAULT_SECONDS
            if time.monotonic() >= self._next_log:
                self._next_log = time.monotonic() + LOG_EVERY_SECONDS
                log.error("returning callers: the consent index could not be loaded (%s); calls hear the usual "
                          "welcome meanwhile", type(error).__name__)
            return
        with self._lock:
            if whole:
                self._remembered = dict(found)
                self._next_reload = time.monotonic() + self.reload_seconds
            else:
                for caller_hash, remembered_at in found:
                    known = self._remembered.get(caller_hash)
                    if known is None or remembered_at > known:
                        self._remembered[caller_hash] = remembered_at
            self._looked_at = looked_at
            self._next_look = time.monotonic() + self.refresh_seconds

    def _refresh_if_due(self) -> None:
        if time.monotonic() < self._next_look:
            return
        with self._lock:
            if time.monotonic() < self._next_look or (self._loading and self._loading.is_alive()):
                return
            # One look at a time; until it is done, calls answer from what is known.
            self._next_look = time.monotonic() + self.refresh_seconds
            first = self._loading is None
            loading = self._loading = threading.Thread(target=self.refresh, name="consent-index", daemon=True)
            loading.start()
        if first:
            # A process's first call gives the first load a moment, so a returning caller who
            # rings just after a restart is still offered their topic.
            loading.join(self.first_wait)

    def __len__(self) -> int:
        return len(self._remembered)
