"""Turn the engine's turns into TwiML with the twilio library.

"Play the clip if there is one, else say the words" lives here and nowhere else.

A turn's TwiML is the same for every caller but for its action URLs (they carry the call's
state), so ``Templates`` builds each distinct turn once with the twilio library and afterwards
only puts the URLs in.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache

from twilio.twiml.voice_response import Gather, VoiceResponse

from ..content import Catalogue
from ..engine import CallState, Turn
from ..engine.effects import Transfer

log = logging.getLogger(__name__)

SLOW_SAY_RATE = "80%"
# A number read back is its digit clips back to back: the clips carry their own gaps (groups, and
# between two same digits), at both speeds (service/audio/process.py DIGIT_PADS).
DIGIT_PROMPT = "digit_"

# prompt id, slow -> absolute clip URL, or None when there is no clip
ClipFinder = Callable[[str, bool], "str | None"]


class Speaker:
    """Adds one prompt to a verb: ``<Play>`` of its clip, else ``<Say>`` of its spoken words."""

    def __init__(self, cat: Catalogue, clips: ClipFinder, voice: str):
        self.cat = cat
        self.clips = clips
        self.voice = voice
        self._missing_logged: set[tuple[str, bool]] = set()

    def add_all(self, parent: VoiceResponse | Gather, prompt_ids: tuple[str, ...], slow: bool) -> None:
        for prompt_id in prompt_ids:
            self.add(parent, prompt_id, slow)

    def add(self, parent: VoiceResponse | Gather, prompt_id: str, slow: bool) -> None:
        url = self.clips(prompt_id, slow)
        if url:
            parent.play(url)
            return
        if (prompt_id, slow) not in self._missing_logged:
            self._missing_logged.add((prompt_id, slow))
            log.warning("no %s clip for prompt %r: speaking it live", "slow" if slow else "normal", prompt_id)
        words = self.cat.prompt(prompt_id).say
        say = parent.say(voice=self.voice, language="en-GB")
        if slow:
            say.prosody(words, rate=SLOW_SAY_RATE)
        else:
            say.value = words


def render(turn: Turn, speaker: Speaker, *, action_url: str, dial_action_url: str,
           hints: str, timeout: int, dial_timeout: int) -> VoiceResponse:
    response = VoiceResponse()
    slow = turn.state.slow
    if isinstance(turn.effect, Transfer):
        speaker.add_all(response, turn.prompts, slow)
        response.dial(turn.effect.number, action=dial_action_url, method="POST", timeout=dial_timeout)
        return response
    if turn.listen and turn.collect_number:
        # A whole phone number: keys only, ended by # (announced in the prompt).
        gather = response.gather(
            input="dtmf", finish_on_key="#", timeout=timeout + 4, action=action_url, method="POST",
            action_on_empty_result=True,
        )
        speaker.add_all(gather, turn.prompts, slow)
        response.redirect(action_url, method="POST")
        return response
    if turn.listen:
        gather = response.gather(
            input="dtmf speech", language="en-GB", hints=hints, finish_on_key="", num_digits=1,
            timeout=_timeout(turn, timeout), speech_timeout="auto",
            action=action_url, method="POST",
            action_on_empty_result=True,
        )
        speaker.add_all(gather, turn.prompts, slow)
        # Reached only if Twilio ends the Gather without calling the action (it should not).
        response.redirect(action_url, method="POST")
        return response
    speaker.add_all(response, turn.prompts, slow)
    if turn.hangup:
        response.hangup()
    return response


# After "take your time": about a minute more before the line asks again (then ends the call).
PATIENT_TIMEOUT_SECONDS = 60
# Between the parts of a topic: a breath, then the next part.
PART_PAUSE_SECONDS = 1


def _timeout(turn: Turn, usual: int) -> int:
    return PATIENT_TIMEOUT_SECONDS if turn.patient else PART_PAUSE_SECONDS if turn.quick else usual

# Stand-ins for the action URLs while a template is built: plain ASCII that XML leaves as it is.
ACTION_MARK = "https://action.invalid/menu"
DIAL_ACTION_MARK = "https://action.invalid/dial"
TEMPLATES_KEPT = 4096


def _text(value: str) -> str:
    """A value as ElementTree writes it as an element's text (a <Redirect>'s URL)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    """A value as ElementTree writes it inside an attribute (an action URL)."""
    return (_text(value).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
            .replace("\t", "&#09;"))


_MARKS = re.compile('([">])(' + re.escape(ACTION_MARK) + "|" + re.escape(DIAL_ACTION_MARK) + ')(["<])')


def _put(template: str, action_url: str, dial_action_url: str) -> str:
    """The URLs in place of the marks, in one pass: as an attribute ("...") or an element's text (>...<)."""
    def url(found: re.Match) -> str:
        value = action_url if found[2] == ACTION_MARK else dial_action_url
        return found[1] + (_attribute(value) if found[1] == '"' else _text(value)) + found[3]

    return _MARKS.sub(url, template)


class Templates:
    """TwiML for turns, built once per distinct turn (the prompts, the speed, how it listens)."""

    def __init__(self, speaker: Speaker, *, hints: str, timeout: int, dial_timeout: int):
        self.speaker = speaker
        self.hints = hints
        self.timeout = timeout
        self.dial_timeout = dial_timeout
        self._template = lru_cache(maxsize=TEMPLATES_KEPT)(self._build)

    def xml(self, turn: Turn, *, action_url: str, dial_action_url: str, origin: str = "") -> str:
        """``origin``: the host the clips' URLs are on when no PUBLIC_BASE_URL fixes it (development)."""
        if any(prompt.startswith(DIGIT_PROMPT) for prompt in turn.prompts):
            # A callback number read back digit by digit: never kept in memory as a template.
            return self._render(turn, action_url, dial_action_url)
        number = turn.effect.number if isinstance(turn.effect, Transfer) else None
        template = self._template(turn.prompts, turn.state.slow, turn.listen, turn.collect_number, turn.hangup,
                                  number, origin, turn.patient, turn.quick)
        return _put(template, action_url, dial_action_url)

    def _build(self, prompts: tuple[str, ...], slow: bool, listen: bool, collect_number: bool, hangup: bool,
               number: str | None, _origin: str, patient: bool = False, quick: bool = False) -> str:
        turn = Turn(prompts, CallState(slow=slow), listen=listen, hangup=hangup,
                    effect=Transfer(number) if number else None, collect_number=collect_number, patient=patient,
                    quick=quick)
        return self._render(turn, ACTION_MARK, DIAL_ACTION_MARK)

    def _render(self, turn: Turn, action_url: str, dial_action_url: str) -> str:
        return str(render(turn, self.speaker, action_url=action_url, dial_action_url=dial_action_url,
                          hints=self.hints, timeout=self.timeout, dial_timeout=self.dial_timeout))
