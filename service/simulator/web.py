"""The web simulator: ``GET /simulator`` (a phone keypad, the transcript, the clips, an SMS thread)
and the JSON endpoints its page calls, which drive the real webhooks with signed requests.

These endpoints act with the auth token, so they are registered only when
``SIMULATOR_ENABLED`` is on (and refuse to answer if it is turned off later),
outside development (`make run`) they need an operator logged in to the console,
and they take only same-origin JSON POSTs carrying ``X-Simulator-Request``: a
page on another origin cannot send that header without a CORS preflight, which
this app never grants, so it cannot drive the line through a visitor's browser.

The web process keeps no call state: the page holds the call (its sid, number,
and the URL the line is waiting on) and sends it back with each key.
"""
from __future__ import annotations

import re
import urllib.parse

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from ..basics import phones
from ..web.security import page_headers
from .phone import DEFAULT_CALLER, KEYPAD, Call, CallStep, Line, Listening, SimulatorError, Texter

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

CSRF_HEADER = "X-Simulator-Request"
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
MAX_WORDS = 200
MAX_TEXT = 1600


class BadRequest(ValueError):
    """What the page sent cannot be used; the message is shown to the person."""


@bp.before_request
def only_when_enabled() -> Response | None:
    if not current_app.config.get("SIMULATOR_ENABLED"):
        abort(404)
    if not current_app.config.get("DEV_MODE") and not _operator_logged_in():
        # Outside `make run` the simulator is an operator tool: whoever uses it acts as Twilio.
        if request.method == "GET":
            return redirect(url_for("admin.login", next=url_for("simulator.page")))
        return _error("log in to the operator console first", 401)
    if request.method == "GET":
        return None
    if request.headers.get(CSRF_HEADER) != "1" or not request.is_json:
        return _error("the simulator only takes JSON from its own page", 403)
    origin = request.headers.get("Origin")
    # Behind a platform's router the app sees http://; the page's origin is the public https one
    # (the host the request names is trusted too: TRUSTED_HOSTS already limits it).
    own = {url.rstrip("/") for url in (current_app.config.get("PUBLIC_BASE_URL"), request.host_url) if url}
    if origin and origin.rstrip("/") not in own:
        return _error("the simulator only takes requests from its own page", 403)
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return _error("the simulator only takes requests from its own page", 403)
    return None


@bp.after_request
def simulator_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return page_headers(response)


@bp.get("")
def page() -> str:
    return render_template("simulator/index.html", default_caller=DEFAULT_CALLER, csrf_header=CSRF_HEADER)


@bp.post("/api/call")
def call() -> Response:
    line = _line()
    # A part at a time, so the page can try 6 (next part) and star twice (back) between them.
    placed = Call(line, _number(_body()), through_parts=False)
    return _call_json(line, placed, placed.dial_in())


@bp.post("/api/press")
def press() -> Response:
    """One or more keys; a number entry's keys arrive together, ended by its finish key."""
    body = _body()
    keys = body.get("keys")
    if not isinstance(keys, str) or not KEYPAD.fullmatch(keys):
        raise BadRequest("keys are 0 to 9, * and #")
    line = _line()
    ongoing = _ongoing(line, body)
    return _call_json(line, ongoing, *ongoing.type_keys(keys))


@bp.post("/api/say")
def say() -> Response:
    body = _body()
    words = body.get("words")
    if not isinstance(words, str) or not words.strip() or len(words) > MAX_WORDS:
        raise BadRequest(f"type the words to say (at most {MAX_WORDS} characters)")
    line = _line()
    ongoing = _ongoing(line, body)
    return _call_json(line, ongoing, ongoing.say(words))


@bp.post("/api/silence")
def silence() -> Response:
    line = _line()
    ongoing = _ongoing(line, _body())
    return _call_json(line, ongoing, ongoing.silence())


@bp.post("/api/transfer-ended")
def transfer_ended() -> Response:
    body = _body()
    line = _line()
    ongoing = _ongoing(line, body)
    return _call_json(line, ongoing, ongoing.transfer_ended(answered=body.get("answered") is True))


@bp.post("/api/text")
def text() -> Response:
    body = _body()
    message = body.get("body")
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_TEXT:
        raise BadRequest(f"type a message (at most {MAX_TEXT} characters)")
    texter = Texter(_line(), _number(body))
    replies = texter.send(message)
    return jsonify(sent=message, replies=replies, silent_because=None if replies else texter.why_silent())


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest) -> Response:
    return _error(str(error), 400)


@bp.errorhandler(SimulatorError)
def line_failed(error: SimulatorError) -> Response:
    current_app.logger.warning("simulator: %s", error)
    return _error(f"the line did not answer as Twilio expects: {error}", 502)


def _operator_logged_in() -> bool:
    from flask_login import current_user

    return bool(current_user and current_user.is_authenticated)


def _error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def _line() -> Line:
    return Line(current_app._get_current_object())


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


# Ofcom's drama range: numbers nobody has. Outside development the simulator pretends only these,
# so an operator (or a stolen session) can never join, STOP or text as a real person.
DRAMA_RANGE = re.compile(r"\+447700900\d{3}")


def _number(body: dict) -> str:
    number = body.get("from") or DEFAULT_CALLER
    if not isinstance(number, str) or len(number) > 32 or phones.e164(number) is None:
        raise BadRequest("the pretend phone number is not a phone number")
    number = phones.e164(number)
    if not current_app.config.get("DEV_MODE") and not DRAMA_RANGE.fullmatch(number):
        raise BadRequest("outside development the simulator uses only Ofcom's drama numbers, 07700 900000 to "
                         "07700 900999, which nobody has: a real number would act as a real person")
    return number


def _ongoing(line: Line, body: dict) -> Call:
    """The call the page holds, checked: it may only point at the line's own voice webhooks."""
    held = body.get("call")
    if not isinstance(held, dict) or not CALL_SID.fullmatch(str(held.get("sid", ""))):
        raise BadRequest("there is no call in progress: press Call first")
    listening = _listening(held.get("listen"))
    dial = held.get("dial")
    if dial is not None and not _is_path_of(dial, "voice.dial_done"):
        raise BadRequest("the call the page sent is not one this line made")
    try:
        ongoing = Call.resume(line, held["sid"], _number(held), listening, dial, through_parts=False)
    except SimulatorError as error:
        raise BadRequest("the call the page sent is not one this line made") from error
    if ongoing.ended:
        raise BadRequest("the call has ended: press Call to ring again")
    return ongoing


def _listening(held) -> Listening | None:
    if held is None:
        return None
    digits = held.get("digits") if isinstance(held, dict) else None
    if (not isinstance(held, dict) or not _is_path_of(held.get("url"), "voice.menu")
            or not (digits is None or (isinstance(digits, int) and 0 < digits <= 32))
            or held.get("finish") not in ("", "#", "*") or not isinstance(held.get("speech"), bool)):
        raise BadRequest("the call the page sent is not one this line made")
    return Listening(held["url"], digits, held["finish"], held["speech"], held.get("more") is True)


def _is_path_of(url, endpoint: str) -> bool:
    return isinstance(url, str) and urllib.parse.urlsplit(url).path == url_for(endpoint)


def _call_json(line: Line, ongoing: Call, *steps: CallStep) -> Response:
    """What the page shows: everything heard in these steps, and where the call now is."""
    last = steps[-1] if steps else CallStep(())
    return jsonify(
        call={"sid": ongoing.sid, "from": ongoing.caller,
              "listen": ongoing.listening.to_json() if ongoing.listening else None, "dial": ongoing.dial_url},
        heard=[dict(heard.to_json(), clip=_browser_url(line, heard.clip)) for step in steps for heard in step.heard],
        listening=last.listening is not None, transfer_to=last.transfer_to, ended=ongoing.ended, state=last.state,
    )


def _browser_url(line: Line, clip: str | None) -> str | None:
    """A clip on the line's own origin is fetched from this server; one on AUDIO_BASE_URL stays as is."""
    if clip and clip.startswith(line.base + "/"):
        return clip[len(line.base):]
    return clip
