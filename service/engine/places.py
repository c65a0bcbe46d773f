"""Where a caller is, and what they hear there: the call's state, the nodes besides menus and
topics, and ``present``, the prompts of each place. Pure, like the rest of the engine; calls.py
moves a caller between these places."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from ..basics import phones
from ..content import MAIN_MENU, Catalogue
from .effects import CallEffect


@dataclass(frozen=True)
class CallState:
    """Where a caller is. ``node`` is a menu id, a topic id once its summary has played,
    or one of the callback steps. ``topic`` is the last topic heard; ``number`` the
    callback number being confirmed."""

    node: str = MAIN_MENU
    slow: bool = False
    misses: int = 0
    silences: int = 0
    topic: str = ""
    number: str = ""
    # The caller ID was verified by the network (STIR/SHAKEN "A"): only then is a returning
    # caller's last topic named aloud; anyone can present someone else's number.
    verified: bool = False
    # In a topic told in parts: the part playing (0 is the first). The options follow the last.
    part: int = 0
    # Star was just pressed on this part: star again goes back to the part before.
    again: bool = False
    # The caller asked the line to wait ("hold on"): any key carries on where they were.
    held: bool = False
    # The keys for parts were told on this call (once per call).
    told: bool = False


@dataclass(frozen=True)
class Turn:
    """What the caller hears (prompt ids), where they are then, and whether the line listens or
    hangs up. An ``effect`` is for the webhook to carry out; its outcome resumes the engine."""

    prompts: tuple[str, ...]
    state: CallState
    listen: bool = True
    hangup: bool = False
    effect: CallEffect | None = None
    reached: str | None = None
    # Listening for a whole phone number (ended by #) rather than one key.
    collect_number: bool = False
    # Waiting longer than usual for a key: the caller was asked to take their time.
    patient: bool = False
    # A part of a topic with more to follow: listen only a moment, then the next part.
    quick: bool = False


# 0 when the support line is closed: the hours and urgent advice, then what the caller can do.
# Without a callback team that is the help numbers by text or the main menu (CLOSED); with one
# (contacts.yaml callbacks.enabled), the callback steps.
CLOSED = "closed"
CALLBACK_OFFER, CALLBACK_NUMBER, CALLBACK_CONFIRM = "callback", "callback_number", "callback_confirm"
CALLBACK_NODES = (CALLBACK_OFFER, CALLBACK_NUMBER, CALLBACK_CONFIRM)
# A returning caller's offer, and the opt-in to it when a caller says goodbye after a topic.
RETURNING, REMEMBER = "returning", "remember"
# "Did this help?", once, when a caller who heard a topic ends the call.
FEEDBACK = "feedback"
FEEDBACK_KEYS = {"1": True, "2": False}
DOUBLE = "digit_double"  # "double", before a digit said twice
SPECIAL_NODES = (CLOSED, *CALLBACK_NODES, RETURNING, REMEMBER, FEEDBACK)


def read_back(number: str) -> tuple[str, ...]:
    """A number's digits as clips, in the groups it is said in, two of the same digit said "double"
    as people in the UK say them ("0, double 7, double 0"; "0000" is "double 0, double 0"). A digit
    that ends a group, or has more of the same digit after it ("double 0, double 0"), is its
    ``_then`` clip, with a breath after it."""
    clips: list[str] = []
    for group in phones.spoken_groups(number):
        runs = [(digit, len(list(same))) for digit, same in itertools.groupby(group)]
        for index, (digit, count) in enumerate(runs):
            pairs, single = divmod(count, 2)
            said = [True] * pairs + [False] * single  # True: "double" and the digit
            for at, double in enumerate(said):
                if double:
                    clips.append(DOUBLE)
                breath = at < len(said) - 1 or index == len(runs) - 1
                clips.append(f"digit_{digit}_then" if breath else f"digit_{digit}")
    return tuple(clips)


def digits_read(clips: tuple[str, ...] | list[str]) -> str:
    """The digits a read-back's clips say ("digit_double", "digit_7" -> "77")."""
    said, double = "", False
    for clip in clips:
        if clip == DOUBLE:
            double = True
        elif clip.startswith("digit_"):
            said += clip.removeprefix("digit_")[0] * (2 if double else 1)
            double = False
    return said


HELP_TOPIC = "help"


def last_part(cat: Catalogue, node: str) -> int:
    return len(cat.topics[node].parts) - 1 if node in cat.topics else 0


def more_to_come(cat: Catalogue, state: CallState) -> bool:
    """In a topic, on a part before its last: the next part follows (and the options after that)."""
    return state.node in cat.topics and state.part < last_part(cat, state.node)


def present(cat: Catalogue, state: CallState, brief: bool = False) -> tuple[str, ...]:
    """What a caller hears on arriving at (or repeating) where they are.

    A topic is heard a part at a time: a part before the last is heard alone (the next follows by
    itself); the last part is followed by the topic's options. ``brief``: after a wrong key or
    silence on a topic, only its options again (star still repeats the part)."""
    node = state.node
    if node in cat.topics:
        more = (cat.follow_ons[node].voice,) if node in cat.follow_ons else ()
        if brief:
            return (*more, "after_topic")
        part = cat.topics[node].part_id(state.part)
        return (part,) if more_to_come(cat, state) else (part, *more, "after_topic")
    if node == CLOSED:
        return ("closed_options",)
    if node == CALLBACK_OFFER:
        return ("callback_offer",)
    if node == CALLBACK_NUMBER:
        return ("callback_enter",)
    if node == CALLBACK_CONFIRM:
        return ("callback_read_back", *read_back(state.number), "callback_confirm_keys")
    if node == RETURNING:
        if not state.verified:
            return ("returning_offer_unnamed", cat.menus[MAIN_MENU].voice)
        return ("returning_offer", f"title.{state.topic}", "returning_keys", cat.menus[MAIN_MENU].voice)
    if node == REMEMBER:
        return ("remember_offer",)
    if node == FEEDBACK:
        return ("feedback_ask",)
    return (cat.menus[node].voice,)


def valid_state(cat: Catalogue, state: CallState) -> CallState:
    """A state from a URL may name a node or topic that no longer exists after a content change."""
    if state.topic and state.topic not in cat.topics:
        state = replace(state, topic="")
    if state.node in (RETURNING, REMEMBER, FEEDBACK) and not state.topic:
        state = replace(state, node=MAIN_MENU)
    if state.node not in cat.topics and (state.part or state.again):
        state = replace(state, part=0, again=False)
    if state.node in cat.topics and state.part > last_part(cat, state.node):
        state = replace(state, part=last_part(cat, state.node))
    if state.node in CALLBACK_NODES and not cat.callbacks.enabled:
        state = replace(state, node=CLOSED, number="")
    if state.node == CALLBACK_CONFIRM and not phones.is_callback_number(state.number):
        state = replace(state, node=CALLBACK_NUMBER, number="")
    if state.node in cat.topics or state.node in cat.menus or state.node in SPECIAL_NODES:
        return state
    return replace(state, node=MAIN_MENU)
