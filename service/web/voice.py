"""The voice channel: Twilio's call webhooks in, the engine's turns out as TwiML.

Call state travels in the action URLs (node, slow, misses, silences), so any
worker on any machine can answer the next step. An effect goes to the module that
owns it (texting, returning, callbacks); its outcome resumes the engine.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, g, request
from werkzeug.exceptions import HTTPException

from .. import engine
from ..basics import clock
from ..basics.privacy import masked
from ..content import hours
from ..content.model import MAX_PARTS
from ..engine import CallState, Turn
from ..engine.effects import (
    BookCallback,
    CallbackBooked,
    CallEffect,
    CallOutcome,
    DialEnded,
    FeedbackGiven,
    GiveFeedback,
    Remember,
    Remembered,
    Texted,
    TextTopic,
    Transfer,
)
from ..storage import analytics, callbacks, feedback, returning, texting
from .extensions import current_catalogue, loaded
from .signatures import require_twilio_signature, valid_sid
from .urls import external_url, public_url

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)


@bp.before_request
def refuse_replays() -> None:
    g.call_began = _call_began()

NODE_PATTERN = re.compile(r"[a-z_]{1,32}")
VERIFIED_CALLER_ID = "TN-Validation-Passed-A"
# Every action URL carries the time its call began (signed with it by Twilio). A step older than
# this is a replay, refused: no call lasts 6 hours (a transfer's Dial ends at 4 by default).
STEP_MAX_AGE = 6 * 3600


def _call_began() -> int:
    """When this call began (epoch seconds, from its URL): now for its first webhook, and for a URL
    made before the line carried it (a call in flight across a deploy)."""
    now = int(clock.now().timestamp())
    value = request.args.get("at", "")
    if not (value.isdigit() and len(value) <= 12):
        return now
    began = int(value)
    if now - began > STEP_MAX_AGE:
        log.warning("refused %s for call %s: a step from %d s ago (a replay)", request.path, _call_sid(), now - began)
        abort(Response("Refused: this call step is older than any call lasts (a replayed request).\n",
                       status=403, mimetype="text/plain"))
    return began


def _small_int(name: str, limit: int) -> int:
    value = request.args.get(name, "0")
    return min(int(value), limit) if value.isdigit() and len(value) < 4 else 0


def _state() -> CallState:
    node = request.args.get("node", engine.MAIN_MENU)
    topic = request.args.get("topic", "")
    number = callbacks.open_number(request.args.get("number", ""), _call_sid())
    return CallState(
        node=node if NODE_PATTERN.fullmatch(node) else engine.MAIN_MENU,
        slow=request.args.get("slow") == "1",
        misses=_small_int("misses", engine.MAX_WRONG),
        silences=_small_int("silences", engine.MAX_SILENCES),
        topic=topic if NODE_PATTERN.fullmatch(topic) else "",
        number=number,
        verified=request.args.get("verified") == "1",
        part=_small_int("part", MAX_PARTS - 1),
        again=request.args.get("again") == "1",
        held=request.args.get("held") == "1",
        told=request.args.get("told") == "1",
    )


def _state_args(state: CallState) -> dict:
    args = {"node": state.node, "slow": int(state.slow), "misses": state.misses, "silences": state.silences}
    if state.topic:
        args["topic"] = state.topic
    if state.number:
        args["number"] = callbacks.seal_number(state.number, _call_sid())
    if state.verified:
        args["verified"] = 1
    for flag in ("part", "again", "held", "told"):
        if getattr(state, flag):
            args[flag] = int(getattr(state, flag))
    args["at"] = g.get("call_began") or int(clock.now().timestamp())
    return args


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    return sid if valid_sid(sid) else "unknown"


def _answer(turn: Turn, record: bool = True) -> Response:
    state_args = _state_args(turn.state)
    response = loaded().templates.xml(turn, action_url=external_url("voice.menu", **state_args),
                                      dial_action_url=external_url("voice.dial_done", **state_args),
                                      origin=public_url(""))
    if record and turn.reached:
        analytics.record("voice", request.form.get("From", ""), _call_sid(), "reached", turn.reached,
                         "slow" if turn.state.slow else None)
    if record and isinstance(turn.effect, Transfer):
        # Where a call is left while it rings the support line: a hang-up now is "during a transfer".
        analytics.record("voice", request.form.get("From", ""), _call_sid(), "transfer", "transfer")
    if record and turn.hangup:
        analytics.record("voice", request.form.get("From", ""), _call_sid(), "ended", turn.state.node)
    return Response(response, mimetype="text/xml")


@bp.post("")
def incoming_call() -> Response:
    log.info("call %s from %s", _call_sid(), masked(request.form.get("From", "")))
    caller = request.form.get("From", "")
    # Twilio's STIR/SHAKEN attestation: "A" means the carrier vouches that the caller owns the number.
    verified = request.form.get("StirVerstat", "") == VERIFIED_CALLER_ID
    return _answer(engine.start(current_catalogue(), returning_topic=returning.last_topic(caller), verified=verified))


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
    turn = engine.step(cat, state, kind, value, support_open=support_open,
                       caller_known=returning.caller_known(caller))
    analytics.record("voice", request.form.get("From", ""), _call_sid(), kind,
                     engine.valid_state(cat, state).node, value[:1] if kind == "key" else None)
    if turn.effect is not None and not isinstance(turn.effect, Transfer):
        # A transfer is answered by Twilio's dial action (dial_done); every other effect now.
        turn = engine.resume(cat, turn.state, _carry_out(cat, turn.effect))
    return _answer(turn)


def _carry_out(cat, effect: CallEffect) -> CallOutcome:
    """Hand an effect to the module that owns it; how it went resumes the engine."""
    caller = request.form.get("From", "")
    if isinstance(effect, TextTopic):
        return Texted(texting.text_topic(cat, _call_sid(), caller, effect.topic_id))
    if isinstance(effect, Remember):
        return Remembered(returning.remember(caller, effect.topic))
    if isinstance(effect, GiveFeedback):
        feedback.record("voice", effect.topic, effect.helped)
        return FeedbackGiven(effect.offer_remember)
    if isinstance(effect, BookCallback):
        return CallbackBooked(callbacks.book(_call_sid(), caller, effect.number, effect.topic))
    raise TypeError(f"no handler for {effect!r}")


@bp.post("/dial-done")
def dial_done() -> Response:
    answered = request.form.get("DialCallStatus") == "completed"
    return _answer(engine.resume(current_catalogue(), _state(), DialEnded(answered)))


@bp.errorhandler(Exception)
def apologise(error: Exception) -> Response:
    """Any fault inside a call still answers valid TwiML: sorry, the help numbers, the main menu."""
    if isinstance(error, HTTPException) and error.response is not None:
        return error.response      # a refusal with its own answer (a bad signature, a replay)
    if not g.get("twilio_verified"):
        return Response(status=getattr(error, "code", 403))
    log.exception("voice request failed for call %s", _call_sid())
    return _answer(engine.apology(current_catalogue(), slow=request.args.get("slow") == "1"), record=False)
