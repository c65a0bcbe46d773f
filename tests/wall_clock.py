"""The wall clock the whole suite runs at: a pinned London time that moves on in real time.

No test reads the time of day from the machine. `make test` runs the suite with the wall pinned
at an hour when the support line is open (Monday 13:00 London), then again at an hour when it is
closed (Monday 03:00) for every test that does not set the application's clock itself, so a test
that silently depends on the hour fails at any hour, in the daytime and at night alike.

- In the pytest process, ``service.basics.clock`` reads the pinned wall (conftest.py installs it).
- In every process the tests start (the Procfile's web process, `send-due`, `flask content
  check`, ...), ``tests/wall_clock_site/sitecustomize.py`` installs the same wall, passed on
  through the environment (``LINE_TEST_WALL_TIME`` and ``LINE_TEST_WALL_EPOCH``): all processes
  agree on the time to within the clock's resolution.

Production has no such seam: nothing under ``service/`` reads these variables.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
# The two hours `make test` pins: the support line open (08:00-20:00 every day) and closed.
WALL_TIMES = {
    "open": dt.datetime(2026, 12, 7, 13, 0, tzinfo=LONDON),    # a Monday afternoon
    "closed": dt.datetime(2026, 12, 7, 3, 0, tzinfo=LONDON),   # the same Monday at 3am
}
DEFAULT_WALL = "open"
TIME_VARIABLE = "LINE_TEST_WALL_TIME"     # ISO 8601 with an offset: the wall at the epoch below
EPOCH_VARIABLE = "LINE_TEST_WALL_EPOCH"   # time.monotonic() when the wall read that (system-wide)
SITE_DIR = Path(__file__).resolve().parent / "wall_clock_site"


def parse_wall(value: str) -> dt.datetime:
    """``open``, ``closed`` or an ISO 8601 time with a UTC offset (a naive time is refused)."""
    if value in WALL_TIMES:
        return WALL_TIMES[value]
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--wall-time {value!r}: use open, closed or an ISO 8601 time such as "
                         "2026-12-07T13:00+00:00") from None
    if moment.tzinfo is None:
        raise ValueError(f"--wall-time {value!r} has no UTC offset: add one, such as +00:00")
    return moment


def source(at: dt.datetime, epoch: float) -> Callable[[], dt.datetime]:
    """A clock reading ``at`` when time.monotonic() was ``epoch``, moving on in real time from there."""
    start = at.astimezone(dt.UTC)

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - epoch)

    return now


def environment(at: dt.datetime, epoch: float) -> dict[str, str]:
    """What a child process needs to read the same wall (its sitecustomize installs it)."""
    path = os.environ.get("PYTHONPATH", "")
    parts = [str(SITE_DIR)] + [p for p in path.split(os.pathsep) if p and p != str(SITE_DIR)]
    return {TIME_VARIABLE: at.isoformat(), EPOCH_VARIABLE: repr(epoch), "PYTHONPATH": os.pathsep.join(parts)}


def from_environment() -> Callable[[], dt.datetime] | None:
    value = os.environ.get(TIME_VARIABLE)
    if not value:
        return None
    return source(dt.datetime.fromisoformat(value), float(os.environ[EPOCH_VARIABLE]))


def now() -> dt.datetime:
    """The pinned wall as the tests and their processes see it (for rows a test writes directly)."""
    wall = from_environment()
    if wall is None:
        raise RuntimeError(f"{TIME_VARIABLE} is not set: the wall clock is installed by tests/conftest.py")
    return wall()


def install(at: dt.datetime) -> Callable[[], dt.datetime]:
    """Pin the wall for this process and every process it starts; returns the clock to use."""
    epoch = time.monotonic()
    os.environ.update(environment(at, epoch))
    return source(at, epoch)
