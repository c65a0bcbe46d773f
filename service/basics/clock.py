"""The one clock of the application, and the line's own time zone. Tests move time with
``set_clock``; nothing asks the database server for ``now()``."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

UTC = dt.UTC
# The line's local time: when series texts may go out, and the console's days and weeks.
LONDON = ZoneInfo("Europe/London")


def _system_now() -> dt.datetime:
    return dt.datetime.now(UTC)


_source: Callable[[], dt.datetime] = _system_now


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    value = _source()
    if value.tzinfo is None:
        raise ValueError("the clock must return an aware datetime")
    return value.astimezone(UTC)


def set_clock(source: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (tests); None restores the system clock."""
    global _source
    _source = source or _system_now


def london_today() -> dt.date:
    """Today's date in London: the line's day (per-day caps, the console's days)."""
    return now().astimezone(LONDON).date()
