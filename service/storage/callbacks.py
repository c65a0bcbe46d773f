"""Callback requests: a caller asks to be called back while the support line is closed.

A number the caller keys travels in the call's action URLs until it is confirmed, sealed."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re

from flask import current_app
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..basics import phones
from ..basics.privacy import masked, pseudonym
from .db import db
from .models import CallbackRequest

log = logging.getLogger(__name__)
SEALED_PATTERN = re.compile(r"[0-9a-f]{2,30}")


def book(call_sid: str, caller: str, keyed: str | None, topic: str) -> str:
    """Store the request; return the prompt id that tells the caller what happened."""
    number = keyed if keyed is not None else caller
    if not phones.is_callback_number(number):
        return "callback_no_number" if keyed is None else "callback_invalid"
    try:
        with db.session() as session:
            session.add(CallbackRequest(phone=phones.e164(number), topic=topic or None,
                                        call_hash=pseudonym(call_sid), state="open"))
    except IntegrityError:
        return "callback_already"
    except SQLAlchemyError:
        log.exception("could not store a callback request for call %s (%s)", call_sid, masked(number))
        return "callback_failed"
    log.info("callback requested on call %s for %s", call_sid, masked(number))
    return "callback_booked"


def _pad(call_sid: str) -> bytes:
    token = current_app.config["TWILIO_AUTH_TOKEN"].encode()
    return hmac.new(token, b"callback number:" + call_sid.encode(), hashlib.sha256).digest()


def seal_number(number: str, call_sid: str) -> str:
    """A keyed callback number travels in the action URL, which platforms log: never in clear.

    XOR with an HMAC keystream unique to the call (a one-time pad per call); the URL is
    signed by Twilio, so it cannot be altered either."""
    return bytes(a ^ b for a, b in zip(number.encode(), _pad(call_sid), strict=False)).hex()


def open_number(sealed: str, call_sid: str) -> str:
    if not SEALED_PATTERN.fullmatch(sealed) or len(sealed) % 2:
        return ""
    number = bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), _pad(call_sid), strict=False))
    return number.decode("ascii", "replace") if number.isdigit() else ""
