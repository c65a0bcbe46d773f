"""Callback requests: a caller asks to be called back while the support line is closed."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import analytics, phones
from .analytics import masked
from .db import db
from .models import CallbackRequest

log = logging.getLogger(__name__)


def book(call_sid: str, caller: str, keyed: str | None, topic: str) -> str:
    """Store the request; return the prompt id that tells the caller what happened."""
    number = keyed if keyed is not None else caller
    if not phones.is_callback_number(number):
        return "callback_no_number" if keyed is None else "callback_invalid"
    try:
        with db.session() as session:
            session.add(CallbackRequest(phone=phones.e164(number), topic=topic or None,
                                        call_hash=analytics.pseudonym(call_sid), state="open"))
    except IntegrityError:
        return "callback_already"
    except SQLAlchemyError:
        log.exception("could not store a callback request for call %s (%s)", call_sid, masked(number))
        return "callback_failed"
    log.info("callback requested on call %s for %s", call_sid, masked(number))
    return "callback_booked"
