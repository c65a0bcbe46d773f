"""'Did this help?': one anonymous answer per call that asked, kept per topic and London day.

Nothing ties an answer to a caller: no number, no call id, no time of day. A fault storing it is
logged and the caller is thanked anyway (an answer is never worth a broken call)."""
from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from .clock import LONDON, now
from .db import db
from .models import Feedback

log = logging.getLogger(__name__)


def record(channel: str, topic: str, helped: bool) -> bool:
    """Store one answer; False when it could not be stored."""
    try:
        with db.session() as session:
            session.add(Feedback(channel=channel, topic=topic, helped=helped, day=now().astimezone(LONDON).date()))
    except SQLAlchemyError as error:
        log.error("could not store an answer to 'did this help?' (%s)", type(error).__name__)
        return False
    return True
