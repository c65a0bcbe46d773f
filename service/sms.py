"""The SMS channel: Twilio's message webhook in, a TwiML reply out.

Order matters: the MessageSid is recorded first (a redelivery gets nothing),
then STOP is honoured before anything else, then an opted-out number gets no
reply to anything but START, then the menu engine answers.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from . import analytics, clock, delivery, menu, phones, subscriptions
from .db import db, insert_ignoring_duplicates
from .extensions import current_catalogue
from .inbound import first_delivery
from .models import SmsSession
from .privacy import masked, pseudonym
from .signatures import require_twilio_signature, valid_sid

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
bp.before_request(require_twilio_signature)
bp.after_request(analytics.flush)

# Twilio joins a long message into one Body of at most 1,600 characters.
MAX_BODY = 1600


def _reply(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


@bp.post("")
def incoming_text() -> Response:
    cat = current_catalogue()
    sid = request.form.get("MessageSid", "")
    sender = request.form.get("From", "")
    body = request.form.get("Body", "")[:MAX_BODY]
    phone = phones.e164(sender)
    if not valid_sid(sid) or phone is None:
        log.warning("text without a usable MessageSid or From (%s)", masked(sender))
        return _reply(cat.prompts["sms_error"].text)
    # With Advanced Opt-Out, Twilio has already answered STOP/START/HELP itself, and names
    # which (also for its own keywords, in other languages, that this line does not know).
    opt_out_type = request.form.get("OptOutType", "").strip().lower()
    twilio_answered = opt_out_type in ("stop", "start", "help")
    command = opt_out_type if twilio_answered else menu.sms_command(cat, body)
    abroad = not phones.in_countries(phone, current_app.config["ALLOWED_COUNTRY_CODES"])
    with db.session() as session:
        if not first_delivery(session, sid):
            log.info("message %s was delivered again: no second reply", sid)
            return _reply(None)
        if abroad:
            return _reply(_abroad(session, cat, phone, command))
        if command == "stop":
            subscriptions.opt_out(session, phone)
            log.info("message %s: %s opted out", sid, masked(sender))
            return _reply(None if twilio_answered else cat.prompts["sms_stop"].text)
        if command == "start":
            subscriptions.opt_in(session, phone)
            if twilio_answered and menu.sms_command(cat, body) == "yes":
                # Twilio counts YES as an opt-in word; after JOIN it is also the line's confirmation.
                return _reply(subscriptions.confirm(session, cat, phone))
            return _reply(None if twilio_answered else cat.prompts["sms_start"].text)
        if subscriptions.is_opted_out(session, phone):
            if command != "join":
                return _reply(None)
            # Asking for the series again is asking for texts again.
            subscriptions.opt_in(session, phone)
        number_hash = pseudonym(phone)
        saved = session.get(SmsSession, number_hash)
        turn = menu.sms_step(cat, saved.menu if saved else None, body, saved.topic if saved else None)
        reply = turn.reply
        if turn.action == "join":
            reply = subscriptions.join(session, cat, phone)
        elif turn.action == "yes":
            reply = subscriptions.confirm(session, cat, phone)
        elif command == "help" and twilio_answered:
            reply = None
        remember_menu(session, number_hash, turn.menu, turn.topic)
    analytics.record("sms", phone, sid, "reached" if turn.reached else (turn.action or command or "text"),
                     turn.reached)
    return _reply(reply)


def _abroad(session, cat, phone: str, command: str | None) -> str | None:
    """A number outside ALLOWED_COUNTRY_CODES: one short reply, ever, and nothing else (no series,
    no later texts): every reply costs the charity, and SMS pumping sends thousands."""
    if command == "stop":
        subscriptions.opt_out(session, phone)
        return None
    first = insert_ignoring_duplicates(session, SmsSession, {"number_hash": pseudonym(phone),
                                                             "menu": menu.MAIN_MENU, "updated_at": clock.now()},
                                       "number_hash")
    log.info("text from %s, outside the allowed countries: %s", masked(phone), "one reply" if first else "no reply")
    return cat.prompts["sms_abroad"].text if first else None


def remember_menu(session, number_hash: str, menu_id: str, topic: str | None = None) -> None:
    """Upsert: two first texts from one number at once must not collide."""
    values = {"menu": menu_id, "topic": topic, "updated_at": clock.now()}
    if not insert_ignoring_duplicates(session, SmsSession, {"number_hash": number_hash, **values}, "number_hash"):
        session.execute(update(SmsSession).where(SmsSession.number_hash == number_hash).values(**values))


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

    Except a STOP that the database could not store: an apology (a 200) would end Twilio's
    retries and lose the opt-out, so it gets a 503 and Twilio delivers it again (with the
    connection override in the README, ``#rc=3&rp=5xx,ct,rt``); the redelivery is honoured."""
    if not g.get("twilio_verified"):
        return Response(status=getattr(error, "code", 403))
    log.exception("text %s failed", request.form.get("MessageSid", "unknown")[:64])
    if request.path.endswith("/status"):
        return Response(status=204)
    if isinstance(error, SQLAlchemyError) and _is_stop():
        log.error("STOP from %s could not be stored: answered 503 so that Twilio delivers it again",
                  masked(request.form.get("From", "")))
        return Response(status=503, headers={"Retry-After": "30"})
    return _reply(current_catalogue().prompts["sms_error"].text)


def _is_stop() -> bool:
    if request.form.get("OptOutType", "").strip().lower() == "stop":
        return True
    return menu.sms_command(current_catalogue(), request.form.get("Body", "")[:MAX_BODY]) == "stop"
