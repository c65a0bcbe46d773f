"""A pretend phone: drive the line's real webhooks in-process, signed exactly as Twilio signs them.

There is no second copy of the menu here. A call posts to ``/voice``, reads the
TwiML that comes back and follows it as Twilio would: the ``<Gather>`` action
with the caller's key or words, a ``<Redirect>``, the ``<Dial>`` action when a
transfer ends. A text posts to ``/sms`` and reads the ``<Message>`` replies.
Both the terminal (`flask line`) and the web simulator use this module.

What a caller hears is mapped back to prompt ids and their written words: a
``<Play>`` by its clip's file name (``<prompt id>-<normal|slow>-<hash>.mp3``),
a ``<Say>`` by its exact spoken words.
"""
from __future__ import annotations

import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from flask import Flask
from twilio.request_validator import RequestValidator

from ..content.model import MAX_PARTS
from ..web.extensions import loaded
from ..web.twiml import PART_PAUSE_SECONDS

# Ofcom's range for drama (07700 900000-900999): never a real person, and not a
# mobile the line will text, so "text me this" queues nothing by default.
DEFAULT_CALLER = "+447700900123"
# Twilio follows at most a few redirects in a row; a loop here is a bug in the line.
MAX_REDIRECTS = 5
CLIP_SPEEDS = ("normal", "slow")
KEYPAD = re.compile(r"[0-9*#]{1,32}")


class SimulatorError(RuntimeError):
    """The line did not answer as Twilio expects; the message says what came back."""


@dataclass(frozen=True)
class Heard:
    """One prompt the caller hears: its id, its written words, and the clip played (None when spoken live)."""

    prompt_id: str | None
    text: str
    clip: str | None = None
    slow: bool = False

    def to_json(self) -> dict:
        return {"id": self.prompt_id, "text": self.text, "clip": self.clip, "slow": self.slow}


@dataclass(frozen=True)
class Listening:
    """An open ``<Gather>``: where the answer goes and what ends the caller's input."""

    url: str
    num_digits: int | None = 1  # None: any number of keys, until the finish key or a pause
    finish_on_key: str = ""
    speech: bool = True
    # A part of a topic with more to follow: the line waits only a moment before the next part.
    more_follows: bool = False

    def to_json(self) -> dict:
        return {"url": self.url, "digits": self.num_digits, "finish": self.finish_on_key, "speech": self.speech,
                "more": self.more_follows}


@dataclass(frozen=True)
class CallStep:
    """What one webhook answer did to the call."""

    heard: tuple[Heard, ...]
    listening: Listening | None = None
    transfer_to: str | None = None
    ended: bool = False
    state: dict[str, str] = field(default_factory=dict)


class Line:
    """The app as Twilio sees it: signed, form-encoded POSTs to its public URLs."""

    def __init__(self, app: Flask):
        self.catalogue = loaded(app).catalogue
        # Without PUBLIC_BASE_URL the app signs against the request's own host, which
        # in-process is the test client's default origin.
        self.base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
        self.client = app.test_client()
        self.account_sid = app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
        self.line_number = app.config.get("TWILIO_PHONE_NUMBER") or "+441632960000"
        self._prompt_by_words = {prompt.say.strip(): pid for pid, prompt in self.catalogue.voice_prompts().items()}

    def path_of(self, url: str) -> str:
        """The path and query of a URL on the line's own origin; anything else is refused."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme or parts.netloc:
            base = urllib.parse.urlsplit(self.base)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise SimulatorError(f"the line asked for a URL on another origin: {url}")
        if not parts.path.startswith("/"):
            raise SimulatorError(f"not a path on the line: {url!r}")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def post(self, url: str, params: dict[str, str]) -> ET.Element:
        """POST as Twilio does and return the parsed ``<Response>``."""
        path = self.path_of(url)
        signature = self.validator.compute_signature(self.base + path, params)
        response = self.client.post(path, base_url=self.base, data=params,
                                    headers={"X-Twilio-Signature": signature})
        if response.status_code != 200 or response.mimetype != "text/xml":
            raise SimulatorError(f"POST {path} answered HTTP {response.status_code} "
                                 f"({response.mimetype or 'no content type'}), not TwiML")
        try:
            root = ET.fromstring(response.get_data())  # noqa: S314 - the app's own TwiML
        except ET.ParseError as error:
            raise SimulatorError(f"POST {path} answered XML that does not parse: {error}") from error
        if root.tag != "Response":
            raise SimulatorError(f"POST {path} answered <{root.tag}>, not <Response>")
        return root

    def heard(self, element: ET.Element) -> Heard | None:
        """A ``<Play>`` or ``<Say>`` as the caller hears it; None for any other verb."""
        if element.tag == "Play":
            url = (element.text or "").strip()
            prompt_id, slow = self._clip_prompt(url)
            prompt = self._prompt(prompt_id)
            return Heard(prompt_id if prompt else None, prompt.text if prompt else url, url, slow)
        if element.tag == "Say":
            words = "".join(element.itertext()).strip()
            prompt_id = self._prompt_by_words.get(words)
            prompt = self._prompt(prompt_id)
            return Heard(prompt_id, prompt.text if prompt else words, None, element.find("prosody") is not None)
        return None

    def _clip_prompt(self, url: str) -> tuple[str | None, bool]:
        name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
        parts = name.removesuffix(".mp3").rsplit("-", 2)
        if len(parts) == 3 and parts[1] in CLIP_SPEEDS:
            return parts[0], parts[1] == "slow"
        return None, False

    def _prompt(self, prompt_id: str | None):
        if prompt_id is None:
            return None
        try:
            return self.catalogue.prompt(prompt_id)
        except KeyError:
            return None


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_message_sid() -> str:
    return "SM" + uuid.uuid4().hex


class Call:
    """One pretend call. Its whole state is ``sid``, ``caller``, ``listening`` and ``dial_url``,
    so a stateless web process can carry it between requests (see ``resume``)."""

    def __init__(self, line: Line, caller: str = DEFAULT_CALLER, sid: str | None = None,
                 through_parts: bool = True):
        self.line = line
        # A caller who just listens hears every part of a topic in one step, as on a phone; False
        # stops after each part (the web simulator), so 6 and star twice can be tried between them.
        self.through_parts = through_parts
        self.caller = caller
        self.sid = sid or new_call_sid()
        self.listening: Listening | None = None
        self.dial_url: str | None = None
        # The last TwiML document the line answered with (what a test inspects).
        self.document: ET.Element | None = None
        # More of Twilio's call parameters on every request, such as StirVerstat.
        self.extra: dict[str, str] = {}

    @property
    def ended(self) -> bool:
        return not (self.listening or self.dial_url)

    @classmethod
    def resume(cls, line: Line, sid: str, caller: str, listening: Listening | None, dial_url: str | None,
               through_parts: bool = True) -> Call:
        call = cls(line, caller, sid, through_parts)
        if listening:
            call.listening = Listening(line.path_of(listening.url), listening.num_digits,
                                       listening.finish_on_key, listening.speech, listening.more_follows)
        call.dial_url = dial_url and line.path_of(dial_url)
        return call

    def params(self, **extra: str) -> dict[str, str]:
        """The parameters Twilio posts on this call, with ``extra`` (Digits, SpeechResult ...)."""
        return {"CallSid": self.sid, "AccountSid": self.line.account_sid, "From": self.caller,
                "To": self.line.line_number, "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01", **self.extra, **extra}

    # -- what the caller does ---------------------------------------------------
    def dial_in(self) -> CallStep:
        return self._follow("/voice", self.params(CallStatus="ringing"))

    def press(self, digits: str) -> CallStep:
        """Answer the open ``<Gather>`` with ``digits`` as Twilio reports them (the finish key left off)."""
        if not KEYPAD.fullmatch(digits):
            raise ValueError(f"phone keys are 0-9, * and #, not {digits!r}")
        return self.answer(Digits=digits)

    def type_keys(self, keys: str) -> list[CallStep]:
        """Keys pressed one after another, split among the ``<Gather>``s as Twilio would: a menu
        takes one key, a number entry takes keys up to its finish key."""
        if not KEYPAD.fullmatch(keys):
            raise ValueError(f"phone keys are 0-9, * and #, not {keys!r}")
        steps = []
        while keys and self.listening:
            take = self.listening.num_digits or len(keys)
            finish = self.listening.finish_on_key
            chunk = keys[:take]
            if finish and finish in chunk:
                digits, keys = chunk[:chunk.index(finish)], keys[chunk.index(finish) + 1:]
            else:
                digits, keys = chunk, keys[take:]
            steps.append(self.press(digits) if digits else self.silence())
        return steps

    def say(self, words: str) -> CallStep:
        """Speak; where the line listens for keys only, the words go unheard, as on a real call."""
        if self.listening and not self.listening.speech:
            return self.silence()
        # Twilio reports what it recognised and how sure it is; the simulator is sure.
        return self.answer(SpeechResult=words.strip(), Confidence="0.9")

    def silence(self) -> CallStep:
        return self.answer()

    def transfer_ended(self, answered: bool) -> CallStep:
        """The support line answered and the conversation ended, or nobody answered."""
        if not self.dial_url:
            raise SimulatorError("the call is not being transferred")
        url, self.dial_url = self.dial_url, None
        return self._follow(url, self.params(DialCallStatus="completed" if answered else "no-answer",
                                               DialCallDuration="60" if answered else "0"))

    def hang_up(self) -> None:
        """The caller puts the phone down: nothing more is posted (the line keeps no call state)."""
        self.listening = None
        self.dial_url = None

    def answer(self, **extra: str) -> CallStep:
        """Answer the open ``<Gather>`` with these parameters, as Twilio reports them (none: silence)."""
        if not self.listening:
            raise SimulatorError("the line is not waiting for a key or words")
        url, self.listening = self.listening.url, None
        return self._follow(url, self.params(**extra))

    # -- following the TwiML -----------------------------------------------------
    def _follow(self, url: str, params: dict[str, str]) -> CallStep:
        heard: list[Heard] = []
        for _ in range(MAX_REDIRECTS + MAX_PARTS + 1):
            root = self.document = self.line.post(url, params)
            step = self._read(root, heard)
            if step is not None and self.through_parts and step.listening and step.listening.more_follows:
                url, self.listening, params = step.listening.url, None, self.params()   # the next part
                continue
            if step is not None:
                return step
            redirect = root.find("Redirect")
            url = (redirect.text or "").strip()
            params = self.params()
        raise SimulatorError(f"the line redirected more than {MAX_REDIRECTS} times in a row")

    def _read(self, root: ET.Element, heard: list[Heard]) -> CallStep | None:
        """Add what is heard; return the step, or None when Twilio would follow a ``<Redirect>``."""
        for verb in root:
            if verb.tag == "Gather":
                heard.extend(h for h in map(self.line.heard, verb) if h)
                self.listening = _listening(self.line.path_of(verb.get("action", "")), verb)
                return CallStep(tuple(heard), listening=self.listening, state=_query(self.listening.url))
            if verb.tag == "Dial":
                number = "".join(verb.itertext()).strip()
                self.dial_url = self.line.path_of(verb.get("action", ""))
                return CallStep(tuple(heard), transfer_to=number, state=_query(self.dial_url))
            if verb.tag == "Redirect":
                return None
            if verb.tag == "Hangup":
                break
            sound = self.line.heard(verb)
            if sound:
                heard.append(sound)
        # A <Hangup>, or the end of the document: either way Twilio ends the call.
        self.hang_up()
        return CallStep(tuple(heard), ended=True)


def _listening(url: str, gather: ET.Element) -> Listening:
    """Twilio's defaults: ``finishOnKey`` "#", ``numDigits`` unlimited, ``input`` "dtmf"."""
    num_digits = gather.get("numDigits")
    return Listening(
        url=url,
        num_digits=int(num_digits) if num_digits and num_digits.isdigit() and int(num_digits) > 0 else None,
        finish_on_key=gather.get("finishOnKey", "#"),
        speech="speech" in gather.get("input", "dtmf").split(),
        more_follows=gather.get("timeout") == str(PART_PAUSE_SECONDS),
    )


def _query(path: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


class Texter:
    """Someone texting the line from one number; the line keeps their menu, not this object."""

    def __init__(self, line: Line, number: str = DEFAULT_CALLER):
        self.line = line
        self.number = number

    def send(self, body: str, sid: str | None = None, **extra: str) -> list[str]:
        """Send one text (``sid``: its MessageSid, to deliver one again; ``extra``: more of Twilio's
        parameters, such as OptOutType); the replies (none, for example after STOP)."""
        sid = sid or new_message_sid()
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.line.account_sid,
                  "From": self.number, "To": self.line.line_number, "Body": body, "NumMedia": "0",
                  "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01", **extra}
        root = self.line.post("/sms", params)
        return ["".join(message.itertext()).strip() for message in root.iter("Message")]

    def why_silent(self) -> str:
        """Why the line sent no reply, in words a person trying the line understands."""
        from ..storage import subscriptions
        from ..storage.db import db

        with db.session() as session:
            opted_out = subscriptions.is_opted_out(session, self.number)
        if opted_out:
            return (f"No reply: {self.number} has sent STOP, so the line answers nothing but START. "
                    "Text START to get replies again.")
        return "No reply: the line sent nothing back for this text (a text it has already answered gets none)."
