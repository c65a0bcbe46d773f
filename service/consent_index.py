"""Which callers may have asked to be offered their last topic: known in memory, so a new call
does not wait on the database to learn that (almost always) the answer is no.

Each process keeps the salted hashes of the callers with a consent younger than ``keep_for``,
loaded once and then brought up to date at most every ``refresh_seconds`` by fetching only the
consents made or renewed since the last look. The index only says "maybe": a hit is confirmed
against the database (which also knows the topic). A consent given on another process reaches
this one within ``refresh_seconds``; a caller who rings back sooner hears the usual welcome.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
PRUNE_SECONDS = 600.0
# Consents renewed on another process are fetched from a little before the last look, so that
# clocks a few seconds apart and commits that land late are not missed.
OVERLAP = dt.timedelta(seconds=60)

# since (None: everything still kept) -> (caller hash, remembered at)
Loader = Callable[[dt.datetime | None], Iterable[tuple[str, dt.datetime]]]


class ConsentIndex:
    def __init__(self, load: Loader, now: Callable[[], dt.datetime], keep_for: dt.timedelta,
                 refresh_seconds: float = REFRESH_SECONDS):
        self._load = load
        self._now = now
        self.keep_for = keep_for
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._remembered: dict[str, dt.datetime] = {}
        self._looked_at: dt.datetime | None = None
        self._next_look = 0.0
        self._next_prune = 0.0

    def might_have(self, caller_hash: str) -> bool:
        """True if this caller may have a consent still kept (confirm it against the database)."""
        self._refresh_if_due()
        remembered = self._remembered.get(caller_hash)
        return remembered is not None and remembered >= self._now() - self.keep_for

    def note(self, caller_hash: str, remembered_at: dt.datetime) -> None:
        """A consent this process has just stored."""
        with self._lock:
            self._remembered[caller_hash] = max(remembered_at, self._remembered.get(caller_hash, remembered_at))

    def _refresh_if_due(self) -> None:
        if time.monotonic() < self._next_look:
            return
        with self._lock:
            if time.monotonic() < self._next_look:
                return
            self._next_look = time.monotonic() + self.refresh_seconds
            looked_at = self._now()
            since = self._looked_at - OVERLAP if self._looked_at else None
            try:
                found = list(self._load(since))
            except Exception as error:  # the database is down: keep what is known, try at the next refresh
                log.error("returning callers: could not refresh the consent index (%s)", type(error).__name__)
                return
            for caller_hash, remembered_at in found:
                known = self._remembered.get(caller_hash)
                if known is None or remembered_at > known:
                    self._remembered[caller_hash] = remembered_at
            self._looked_at = looked_at
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_SECONDS
                oldest = looked_at - self.keep_for
                self._remembered = {h: at for h, at in self._remembered.items() if at >= oldest}

    def __len__(self) -> int:
        return len(self._remembered)
