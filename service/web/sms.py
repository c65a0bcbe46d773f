"""The SMS channel: Twilio's message webhook in, the engine's reply out as TwiML.

The MessageSid is recorded first (a redelivery gets nothing, and reaches no engine); then the
engine decides everything else (STOP first, then START, then an opted-out number, then the
menus), and each effect it asks for goes to the module that owns its storage, in the same
transaction as the MessageSid.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from .. import engine
from ..basics import phones
from ..basics.privacy import masked
from ..content import Catalogue
from ..engine import Message, TextTurn
from ..engine.effects import (
    AbroadGreeted,
    ConfirmSeries,
    GreetAbroad,
    JoinSeries,
    KeepMenu,
    OptIn,
    OptOut,
    RecallTexter,
    SeriesAnswered,
    TextEffect,
    TexterRecalled,
    TextFeedback,
    TextOutcome,
)
from ..storage import analytics, delivery, feedback, inbound, sms_sessions, stop_spool, subscriptions
from ..storage.db import db
from .extensions import current_catalogue
from .signatures import require_twilio_signature, valid_sid

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
bp.before_request(require_twilio_signature)

# Twilio joins a long message into one Body of at most 1,600 characters.
MAX_BODY = 1600


def _reply(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


def _message(abroad: bool = False) -> Message:
    """The text as the engine reads it."""
    return Message(request.form.get("Body", "")[:MAX_BODY], request.form.get("OptOutType", "").strip().lower(), abroad)


@bp.post("")
def incoming_text() -> Response:
    cat = current_catalogue()
    sid = request.form.get("MessageSid", "")
    sender = request.form.get("From", "")
    phone = phones.e164(sender)
    if not valid_sid(sid) or phone is None:
        log.warning("text without a usable MessageSid or From (%s)", masked(sender))
        return _reply(engine.text_apology(cat))
    message = _message(abroad=not phones.in_countries(phone, current_app.config["ALLOWED_COUNTRY_CODES"]))
    try:
        turn = _take(cat, sid, phone, message)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The server dropped a pooled connection (a restart): nothing was kept, and the pool
        # now has fresh ones. Once more, so the texter is answered and a STOP is honoured.
        log.warning("text %s: the database connection was lost; trying once more", sid)
        turn = _take(cat, sid, phone, message)
    if turn is None:
        log.info("message %s was delivered again: no second reply", sid)
        return _reply(None)
    if turn.event:
        analytics.record("sms", phone, sid, turn.event, turn.reached)
    return _reply(turn.reply)


def _take(cat: Catalogue, sid: str, phone: str, message: Message) -> TextTurn | None:
    """The text's whole effect, in one transaction; None for a redelivery."""
    with db.session() as session:
        arrival = inbound.arrive(session, sid, phone)
        if not arrival.first:
            return None
        return _converse(session, cat, sid, phone, arrival, engine.receive(cat, message))


def _converse(session: Session, cat: Catalogue, sid: str, phone: str, arrival: inbound.Arrival,
              turn: TextTurn) -> TextTurn:
    """Carry out each turn's effects in order; the answer to a question resumes the engine."""
    while True:
        answer = None
        for effect in turn.effects:
            answer = _carry_out(session, cat, sid, phone, arrival, effect)
        if answer is None:
            return turn
        turn = engine.resume(cat, turn.state, answer)


def _carry_out(session: Session, cat: Catalogue, sid: str, phone: str, arrival: inbound.Arrival,
               effect: TextEffect) -> TextOutcome | None:
    """Hand one effect to the module that owns its storage; a question returns its answer. The
    texter was read as the text arrived (nothing before this question changes them)."""
    if isinstance(effect, OptOut):
        subscriptions.opt_out(session, phone)
        log.info("message %s: %s opted out", sid, masked(phone))
        return None
    if isinstance(effect, OptIn):
        subscriptions.opt_in(session, phone)
        return None
    if isinstance(effect, KeepMenu):
        # Read as the text arrived: a place already stored needs no write.
        if (effect.menu, effect.topic, effect.asking) != (arrival.menu, arrival.topic, arrival.asking):
            sms_sessions.keep(session, phone, effect.menu, effect.topic, effect.asking)
        return None
    if isinstance(effect, TextFeedback):
        feedback.add(session, "sms", effect.topic, effect.helped)
        return None
    if isinstance(effect, GreetAbroad):
        first = sms_sessions.first_contact(session, phone)
        log.info("text from %s, outside the allowed countries: %s", masked(phone), "one reply" if first else "no reply")
        return AbroadGreeted(first)
    if isinstance(effect, RecallTexter):
        return TexterRecalled(arrival.opted_out, arrival.menu, arrival.topic, arrival.asking,
                              sms_sessions.may_ask(arrival.asked_on))
    if isinstance(effect, JoinSeries):
        return SeriesAnswered(subscriptions.join(session, cat, phone))
    if isinstance(effect, ConfirmSeries):
        return SeriesAnswered(subscriptions.confirm(session, cat, phone))
    raise TypeError(f"no handler for {effect!r}")


@bp.post("/status")
def delivery_status() -> Response:
    """Twilio's StatusCallback for texts sent from the outbox."""
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    if status in delivery.DELIVERY_STATES and valid_sid(sid):
        with db.session() as session:
            delivery.record_status(session, sid, status, request.form.get("ErrorCode", ""))
    return Response(status=204)


@bp.errorhandler(Exception)
def apologise(error: Exception) -> Response:
    """A fault never becomes a 500: the texter gets a short apology with the help numbers.

    Except a STOP that the database could not store: it is spooled to disk (stop_spool) and
    confirmed, and replayed when the database is back; only if even the spool fails does it get a
    503, so that Twilio delivers it again (``#rc=3&rp=5xx,ct,rt``, see docs/configuration.md)."""
    if not g.get("twilio_verified"):
        return Response(status=getattr(error, "code", 403))
    log.exception("text %s failed", request.form.get("MessageSid", "unknown")[:64])
    if request.path.endswith("/status"):
        return Response(status=204)
    if isinstance(error, SQLAlchemyError) and engine.wants_stop(current_catalogue(), _message()):
        phone = phones.e164(request.form.get("From", ""))
        try:
            stop_spool.write(current_app._get_current_object(), phone, request.form.get("MessageSid", ""))
        except OSError:
            log.exception("STOP from %s could neither be stored nor spooled: answered 503 so that Twilio delivers "
                          "it again", masked(request.form.get("From", "")))
            return Response(status=503, headers={"Retry-After": "30"})
        return _reply(current_catalogue().prompts["sms_stop"].text)
    return _reply(engine.text_apology(current_catalogue()))
