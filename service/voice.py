"""The voice channel: Twilio's call webhooks in, TwiML out.

Call state travels in the action URLs (node, slow, misses, silences), so any
worker on any machine can answer the next step.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, current_app, g, request

from . import analytics, callbacks, clock, hours, menu, returning, texting, twiml
from .extensions import current_catalogue, loaded
from .menu import BookCallback, CallState, Remember, TextTopic, Turn
from .privacy import masked
from .signatures import require_twilio_signature, valid_sid
from .urls import external_url

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)
bp.after_request(analytics.flush)

NODE_PATTERN = re.compile(r"[a-z_]{1,32}")


def _small_int(name: str, limit: int) -> int:
    value = request.args.get(name, "0")
    return min(int(value), limit) if value.isdigit() and len(value) < 4 else 0


def _state() -> CallState:
    node = request.args.get("node", menu.MAIN_MENU)
    topic = request.args.get("topic", "")
    number = callbacks.open_number(request.args.get("number", ""), _call_sid())
    return CallState(
        node=node if NODE_PATTERN.fullmatch(node) else menu.MAIN_MENU,
        slow=request.args.get("slow") == "1",
        misses=_small_int("misses", menu.MAX_WRONG),
        silences=_small_int("silences", menu.MAX_SILENCES),
        topic=topic if NODE_PATTERN.fullmatch(topic) else "",
        number=number,
    )


def _state_args(state: CallState) -> dict:
    args = {"node": state.node, "slow": int(state.slow), "misses": state.misses, "silences": state.silences}
    if state.topic:
        args["topic"] = state.topic
    if state.number:
        args["number"] = callbacks.seal_number(state.number, _call_sid())
    return args


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    return sid if valid_sid(sid) else "unknown"


def _answer(turn: Turn, record: bool = True) -> Response:
    app, parts = current_app, loaded()
    state_args = _state_args(turn.state)
    response = twiml.render(
        turn, parts.speaker,
        action_url=external_url("voice.menu", **state_args),
        dial_action_url=external_url("voice.dial_done", **state_args),
        hints=parts.hints, timeout=app.config["GATHER_TIMEOUT_SECONDS"],
        dial_timeout=app.config["DIAL_TIMEOUT_SECONDS"],
    )
    if record and turn.reached:
        analytics.record("voice", request.form.get("From", ""), _call_sid(), "reached", turn.reached,
                         "slow" if turn.state.slow else None)
    if record and turn.hangup:
        analytics.record("voice", request.form.get("From", ""), _call_sid(), "ended", turn.state.node)
    return Response(str(response), mimetype="text/xml")


@bp.post("")
def incoming_call() -> Response:
    log.info("call %s from %s", _call_sid(), masked(request.form.get("From", "")))
    caller = request.form.get("From", "")
    return _answer(menu.start(current_catalogue(), returning_topic=returning.last_topic(caller)))


@bp.post("/menu", endpoint="menu")
def menu_choice() -> Response:
    cat = current_catalogue()
    state = _state()
    digits = request.form.get("Digits", "")
    speech = request.form.get("SpeechResult", "")[:200]
    if digits:
        kind, value = "key", digits
    elif speech.strip():
        kind, value = "speech", speech
    else:
        kind, value = "silence", ""
    support_open = hours.is_open(cat.support_line, clock.now())
    caller = request.form.get("From", "")
    turn = menu.step(cat, state, kind, value, support_open=support_open,
                     caller_known=returning.caller_known(caller))
    analytics.record("voice", request.form.get("From", ""), _call_sid(), kind,
                     menu.valid_state(cat, state).node, value[:1] if kind == "key" else None)
    if isinstance(turn.effect, TextTopic):
        outcome = texting.text_topic(cat, _call_sid(), request.form.get("From", ""), turn.effect.topic_id)
        turn = menu.after_text(cat, turn.state, outcome)
    elif isinstance(turn.effect, Remember):
        turn = menu.after_remember(cat, turn.state, returning.remember(caller, turn.effect.topic))
    elif isinstance(turn.effect, BookCallback):
        outcome = callbacks.book(_call_sid(), request.form.get("From", ""), turn.effect.number, turn.effect.topic)
        turn = menu.after_callback(cat, turn.state, outcome)
    return _answer(turn)


@bp.post("/dial-done")
def dial_done() -> Response:
    answered = request.form.get("DialCallStatus") == "completed"
    return _answer(menu.after_dial(current_catalogue(), _state(), answered))


@bp.errorhandler(Exception)
def apologise(error: Exception) -> Response:
    """Any fault inside a call still answers valid TwiML: sorry, the help numbers, the main menu."""
    if not g.get("twilio_verified"):
        return Response(status=getattr(error, "code", 403))
    log.exception("voice request failed for call %s", _call_sid())
    return _answer(menu.apology(current_catalogue(), slow=request.args.get("slow") == "1"), record=False)
