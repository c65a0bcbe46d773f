"""'Did this help?': one anonymous answer per call (or texted reply) that asked, kept per topic and
London day.

Nothing ties an answer to a caller or texter: no number, no call or message id, no time of day. A
fault storing a caller's answer is logged and the caller is thanked anyway (an answer is never
worth a broken call); a texter's is stored in the transaction of their text."""
from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..basics.clock import london_today
from .db import db
from .models import Feedback

log = logging.getLogger(__name__)


def add(session: Session, channel: str, topic: str, helped: bool) -> None:
    """One answer, in the caller's transaction (a texter's answer is stored with the rest of their text)."""
    session.add(Feedback(channel=channel, topic=topic, helped=helped, day=london_today()))


def record(channel: str, topic: str, helped: bool) -> bool:
    """Store one answer; False when it could not be stored."""
    try:
        with db.session() as session:
            add(session, channel, topic, helped)
    except SQLAlchemyError as error:
        log.error("could not store an answer to 'did this help?' (%s)", type(error).__name__)
        return False
    return True
