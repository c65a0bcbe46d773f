"""Slowing down password guessing at the console login.

Only failed logins count, each under several keys: the address it came from, and the account
name (from a browser that has never logged in as that name) or that name on a browser that has
(its signed "known browser" cookie). After ``FREE_FAILURES`` a key must wait before its next
attempt, 1 s then twice as long after each further failure (at most ``MAX_WAIT``); at its limit
("20 per hour") a key is refused until its window ends. Guesses spread over many addresses slow
every unknown browser down, but the operator's own browser is counted apart, so they cannot lock
the real operator out. Counts live in Redis when ``REDIS_URL`` is set (one count for every worker
and machine), else in this process.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..basics import clock
from ..config import Limit, parse_limit

log = logging.getLogger(__name__)

FREE_FAILURES = 3
FIRST_WAIT = 1.0
MAX_WAIT = 15 * 60.0
KNOWN_BROWSER_COOKIE = "all_line_known_browser"
KNOWN_BROWSER_DAYS = 90


@dataclass(frozen=True)
class Count:
    failures: int = 0
    first: float = 0.0   # epoch seconds of the window's first failure
    last: float = 0.0    # epoch seconds of the latest failure


class MemoryCounts:
    """Counts in this process (each worker counts alone: set REDIS_URL to share them)."""

    def __init__(self) -> None:
        self._counts: dict[str, Count] = {}
        self._lock = threading.Lock()

    def get(self, key: str, window: float, now: float) -> Count:
        with self._lock:
            found = self._counts.get(key)
            if found is not None and now - found.first >= window:
                del self._counts[key]
                found = None
            return found or Count()

    def fail(self, key: str, window: float, now: float) -> None:
        with self._lock:
            found = self._counts.get(key)
            if found is None or now - found.first >= window:
                found = Count(0, now, now)
            self._counts[key] = Count(found.failures + 1, found.first, now)
            if len(self._counts) > 100_000:  # a flood of made-up names cannot fill the memory
                self._counts = {k: c for k, c in self._counts.items() if now - c.last < MAX_WAIT}

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class RedisCounts:
    """Counts in Redis: one hash per key (failures, first, last), expiring with its window."""

    PREFIX = "all-line:login-failures:"

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors = redis.exceptions.RedisError
        # While Redis cannot be reached, this process counts alone (logged): never no count, never a 500.
        self.fallback = MemoryCounts()

    def _or_fallback(self, method: str, *args):
        try:
            return getattr(self, "_" + method)(*args)
        except self._errors as error:
            log.error("console login counts: Redis failed (%s); counting in this process", type(error).__name__)
            return getattr(self.fallback, method)(*args)

    def get(self, key: str, window: float, now: float) -> Count:
        return self._or_fallback("get", key, window, now)

    def fail(self, key: str, window: float, now: float) -> None:
        self._or_fallback("fail", key, window, now)

    def clear(self, key: str) -> None:
        self._or_fallback("clear", key)

    def _get(self, key: str, window: float, now: float) -> Count:
        raw = self._redis.hgetall(self.PREFIX + key)
        if not raw:
            return Count()
        found = Count(int(raw.get(b"failures", 0)), float(raw.get(b"first", now)), float(raw.get(b"last", now)))
        return Count() if now - found.first >= window else found

    def _fail(self, key: str, window: float, now: float) -> None:
        name = self.PREFIX + key
        first = self._redis.hget(name, "first")
        pipe = self._redis.pipeline(transaction=True)
        if first is not None and now - float(first) >= window:
            pipe.delete(name)
        pipe.hincrby(name, "failures", 1)
        pipe.hsetnx(name, "first", repr(now))
        pipe.hset(name, "last", repr(now))
        pipe.expire(name, math.ceil(window + MAX_WAIT))
        pipe.execute()

    def _clear(self, key: str) -> None:
        self._redis.delete(self.PREFIX + key)


def wait_after(failures: int) -> float:
    """Seconds a key waits after its latest failure before it may try again."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), MAX_WAIT)


class Lockout:
    """The login's guard: ``refusal(keys)`` before checking a password, ``failed`` or ``succeeded`` after."""

    def __init__(self, counts: MemoryCounts | RedisCounts, address_limit: str, name_limit: str) -> None:
        self.counts = counts
        self.address_limit = address_limit
        self.name_limit = name_limit

    def _limit(self, key: str) -> Limit:
        return parse_limit(self.address_limit if key.startswith("address:") else self.name_limit)

    def refusal(self, keys: list[str]) -> float:
        """Seconds to wait before this attempt may be checked (0: check it now)."""
        now = clock.now().timestamp()
        longest = 0.0
        for key in keys:
            limit = self._limit(key)
            count = self.counts.get(key, limit.window, now)
            if count.failures >= limit.failures:
                until = count.first + limit.window
            else:
                until = count.last + wait_after(count.failures)
            longest = max(longest, until - now)
        return longest

    def failed(self, keys: list[str]) -> None:
        now = clock.now().timestamp()
        for key in keys:
            self.counts.fail(key, self._limit(key).window, now)

    def succeeded(self, keys: list[str]) -> None:
        """A right password clears the address and this browser's count, never the name's: a guesser
        elsewhere stays slowed down while the operator works."""
        for key in keys:
            if not key.startswith("name:"):
                self.counts.clear(key)


def client_address() -> str:
    """The address failed logins are counted under: the caller's, seen through ``ADMIN_PROXY_HOPS``
    trusted proxies.

    Only the entry the nearest trusted proxy wrote is believed; a chain shorter than the
    configured hops means the setting is wrong, and then the connection's own address is used
    (everyone behind that proxy shares one count: stricter, never looser)."""
    hops = current_app.config["ADMIN_PROXY_HOPS"]
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or "unknown"


def keys_for(address: str, name: str, browser_name: str | None) -> list[str]:
    """The keys one attempt counts under: its address, and its name as seen from this browser."""
    if browser_name is not None and browser_name[0] == name:
        return [f"address:{address}", f"browser:{browser_name[1]}:{name}"]
    return [f"address:{address}", f"name:{name}"]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="all-line known browser")


def known_browser(secret_key: str, cookie: str | None) -> tuple[str, str] | None:
    """(name, browser id) from a valid known-browser cookie, else None."""
    if not cookie:
        return None
    try:
        name, browser = _serializer(secret_key).loads(cookie, max_age=KNOWN_BROWSER_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return (str(name), str(browser))


def known_browser_cookie(secret_key: str, name: str, browser: str) -> str:
    return _serializer(secret_key).dumps([name, browser])
