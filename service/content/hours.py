"""Is the support line open? Opening hours are kept in Europe/London local time."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from . import DAYS, SupportLine


def is_open(line: SupportLine, at: dt.datetime) -> bool:
    local = at.astimezone(ZoneInfo(line.timezone))
    span = line.hours.get(DAYS[local.weekday()])
    if not span:
        return False
    opens, closes = span
    return opens <= local.time().replace(tzinfo=None) < closes
