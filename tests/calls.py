"""A simulated caller: follows the TwiML the app returns, as Twilio would."""
from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET

from .conftest import CALLER, LINE_NUMBER, PUBLIC, Twilio, parse


class Call:
    def __init__(self, app, caller: str = CALLER, call_sid: str = "CA" + "a" * 32):
        self.twilio = Twilio(app)
        self.cat = app.extensions["line.catalogue"]
        self.params = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": caller,
                       "To": LINE_NUMBER, "CallStatus": "in-progress", "Direction": "inbound"}
        self._by_words = {}
        for pid, prompt in self.cat.voice_prompts().items():
            self._by_words[prompt.say] = pid
        self.root: ET.Element | None = None

    # -- actions --------------------------------------------------------
    def dial_in(self) -> list[str]:
        self.root = parse(self.twilio.post(PUBLIC + "/voice", dict(self.params, CallStatus="ringing")))
        return self.heard()

    def press(self, key: str) -> list[str]:
        return self._gather_answer({"Digits": key})

    def say(self, words: str) -> list[str]:
        return self._gather_answer({"SpeechResult": words, "Confidence": "0.9"})

    def silence(self) -> list[str]:
        return self._gather_answer({})

    def dial_ends(self, status: str) -> list[str]:
        dial = self.root.find("Dial")
        assert dial is not None, "no <Dial> to end"
        self.root = parse(self.twilio.post(dial.get("action"), dict(self.params, DialCallStatus=status)))
        return self.heard()

    def _gather_answer(self, extra: dict) -> list[str]:
        gather = self.gather
        assert gather is not None, f"the call is not waiting for input: {ET.tostring(self.root)!r}"
        self.root = parse(self.twilio.post(gather.get("action"), dict(self.params, **extra)))
        return self.heard()

    # -- what the caller gets ------------------------------------------------
    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def state(self) -> dict:
        gather = self.gather
        query = urllib.parse.urlsplit(gather.get("action")).query
        return dict(urllib.parse.parse_qsl(query))

    def heard(self) -> list[str]:
        """Prompt ids in the order played, inside and outside the Gather."""
        ids = []
        for element in self.root.iter():
            if element.tag == "Play":
                name = element.text.rsplit("/", 1)[-1]
                ids.append(name.rsplit("-", 2)[0])
            elif element.tag == "Say":
                words = "".join(element.itertext()).strip()
                assert words in self._by_words, f"unknown words spoken: {words!r}"
                ids.append(self._by_words[words])
        return ids

    @property
    def hung_up(self) -> bool:
        return self.root.find("Hangup") is not None

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]
