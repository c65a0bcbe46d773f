"""Turn the engine's turns into TwiML with the twilio library.

"Play the clip if there is one, else say the words" lives here and nowhere else.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from twilio.twiml.voice_response import Gather, VoiceResponse

from .content import Catalogue
from .engine import Turn
from .engine.effects import Transfer

log = logging.getLogger(__name__)

SLOW_SAY_RATE = "80%"
# At the slower speed a number read back digit by digit gets a pause after each digit: a
# one-word clip is barely longer when spoken slowly, the gaps make the difference.
SLOW_DIGIT_PAUSE_SECONDS = 1
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
        for index, prompt_id in enumerate(prompt_ids):
            if slow and index and prompt_id.startswith(DIGIT_PROMPT) and prompt_ids[index - 1].startswith(DIGIT_PROMPT):
                parent.pause(length=SLOW_DIGIT_PAUSE_SECONDS)
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
            timeout=timeout, speech_timeout="auto", action=action_url, method="POST",
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
