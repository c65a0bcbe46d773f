"""The voice half of the engine: a caller's key, words or silence in, what they hear next out.

Pure: it knows nothing of HTTP, TwiML or the database. Call state travels in the action URLs;
the voice blueprint turns each Turn into TwiML and carries out its effect.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..basics import matching, phones
from ..content import GOODBYE_KEY, MAIN_MENU, NEXT_PART_KEY, RETURNING_KEY, Catalogue
from .effects import (
    BookCallback,
    CallbackBooked,
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
from .places import (
    CALLBACK_CONFIRM,
    CALLBACK_NODES,
    CALLBACK_NUMBER,
    CALLBACK_OFFER,
    CLOSED,
    FEEDBACK,
    FEEDBACK_KEYS,
    HELP_TOPIC,
    REMEMBER,
    RETURNING,
    CallState,
    Turn,
    last_part,
    more_to_come,
    present,
    valid_state,
)
from .words import find_node

MAX_WRONG = 3
# The first silence repeats the options; the second asks the caller to take their time and waits
# longer (Turn.patient); only the third ends the call, about two minutes after the last key.
MAX_SILENCES = 3


def start(cat: Catalogue, slow: bool = False, returning_topic: str | None = None, verified: bool = False) -> Turn:
    """The welcome; a returning caller who asked for it is offered their last topic first, named
    only if the network verified their caller ID (``verified``)."""
    if returning_topic in cat.topics:
        state = CallState(node=RETURNING, slow=slow, topic=returning_topic, verified=verified)
        return Turn(("welcome", *present(cat, state), "keys"), state, reached=RETURNING)
    state = CallState(slow=slow)
    # Every option first (heard by 30 s), then how the line works: a first-time caller needs the menu most.
    return Turn(("welcome", *present(cat, state), "keys"), state, reached=MAIN_MENU)


def _turn(cat: Catalogue, prompts: tuple[str, ...], state: CallState, reached: str | None = None,
          brief: bool = False, after: tuple[str, ...] = ()) -> Turn:
    """Say ``prompts``, then what belongs where the caller now is (then ``after``), and listen."""
    if brief and state.node in cat.topics:
        state = replace(state, part=last_part(cat, state.node), again=False)   # at the options now
    return Turn(prompts + present(cat, state, brief) + after, state, reached=reached,
                collect_number=state.node == CALLBACK_NUMBER, quick=more_to_come(cat, state))


def _go(cat: Catalogue, state: CallState, node: str, before: tuple[str, ...] = ()) -> Turn:
    topic = node if node in cat.topics else state.topic
    new = replace(state, node=node, misses=0, silences=0, topic=topic, part=0, again=False, held=False)
    after: tuple[str, ...] = ()
    if node in cat.topics and last_part(cat, node) and not state.told:
        # The first topic in parts on this call: how to skip on and go back, once.
        new, after = replace(new, told=True), ("part_keys",)
    return _turn(cat, before, new, reached=node, after=after)


def _to_part(cat: Catalogue, state: CallState, part: int, again: bool = False) -> Turn:
    """Another part of the topic the caller is in (past the last: its options)."""
    here = replace(state, misses=0, silences=0, held=False, again=again)
    if part > last_part(cat, state.node):
        return _turn(cat, (), here, brief=True)
    return _turn(cat, (), replace(here, part=max(part, 0)))


def _miss(cat: Catalogue, state: CallState, prompt: str) -> Turn:
    misses = state.misses + 1
    if misses >= MAX_WRONG:
        return _go(cat, state, MAIN_MENU, ("many_wrong",))
    # During a part with more to come: that part again (the rest still follows), not the options.
    return _turn(cat, (prompt,), replace(state, misses=misses, silences=0, again=False),
                 brief=not more_to_come(cat, state))


def _command(cat: Catalogue, state: CallState, name: str, support_open: bool, caller_known: bool = True) -> Turn:
    here = replace(state, misses=0, silences=0, held=False)
    if name == "repeat":
        if state.node in cat.topics:
            # Star on a part plays it again; star again at once goes back to the part before.
            return _to_part(cat, state, state.part - 1 if state.again and state.part else state.part, again=True)
        return _turn(cat, (), here)
    if name in ("next_part", "previous_part"):
        if state.node not in cat.topics:
            return _miss(cat, state, "not_understood")
        return _to_part(cat, state, state.part + (1 if name == "next_part" else -1))
    if name == "hold":
        return Turn(("hold_on",), replace(here, held=True, silences=1), patient=True,
                    collect_number=state.node == CALLBACK_NUMBER)
    if name == "main_menu":
        return _go(cat, state, MAIN_MENU)
    if name == "person":
        if support_open:
            return Turn(("transfer",), here, listen=False, effect=Transfer(cat.support_line.dial))
        return _go(cat, state, CALLBACK_OFFER if cat.callbacks.enabled else CLOSED, ("support_closed",))
    if name in ("slower", "faster", "toggle_speed"):
        slow = not state.slow if name == "toggle_speed" else name == "slower"
        # In a topic, from its first part: someone who asked for slower speech hears all of it so.
        return _turn(cat, ("slow_on" if slow else "slow_off",), replace(here, slow=slow, part=0, again=False))
    if name == "text_me":
        if state.node in cat.topics:
            return Turn((), here, effect=TextTopic(state.node))
        if state.node == REMEMBER and state.topic:
            return Turn((), here, effect=TextTopic(state.topic))
        if state.node in (CLOSED, CALLBACK_OFFER):
            # The line is closed: the help numbers by text are the next best thing.
            return Turn((), here, effect=TextTopic(HELP_TOPIC))
        return _turn(cat, ("text_nothing",), here)
    if name in ("yes", "no"):
        return _miss(cat, state, "not_understood")
    if name == "goodbye":
        if state.topic and state.node not in (FEEDBACK, REMEMBER):
            return _go(cat, state, FEEDBACK)
        return _farewell(cat, here, caller_known)
    raise ValueError(f"unknown command {name!r}")


def _farewell(cat: Catalogue, state: CallState, caller_known: bool) -> Turn:
    """The end of a call the caller chose to end: after a topic, the offer to be reminded of it."""
    if state.topic and caller_known:
        return _go(cat, state, REMEMBER)
    return Turn(("goodbye",), state, listen=False, hangup=True)


def _feedback(cat: Catalogue, state: CallState, kind: str, value: str, caller_known: bool) -> Turn | None:
    """On "did this help?": 1 (or yes) and 2 (or no) are answers; silence or any other key skips it.
    None lets a reserved key (0, #, *, ...) or a spoken command do what it always does."""
    key = value.strip()[:1] if kind == "key" else ""
    if kind == "speech":
        name = matching.command(matching.normalise(value), cat.voice_commands)
        key = {"yes": "1", "no": "2"}.get(name or "", "")
        if not key and name:
            return None
    if key in FEEDBACK_KEYS:
        return Turn((), state, effect=GiveFeedback(state.topic, FEEDBACK_KEYS[key], caller_known))
    if kind == "key" and key in KEY_COMMANDS:
        return None
    return _farewell(cat, state, caller_known)


KEY_COMMANDS = {"*": "repeat", "#": "main_menu", "0": "person", "7": "toggle_speed", "8": "text_me"}


def _callback_key(cat: Catalogue, state: CallState, key: str) -> Turn | None:
    """Keys that mean something on the callback steps; None for the usual handling."""
    if state.node == CALLBACK_OFFER:
        if key == "1":
            return Turn((), state, effect=BookCallback(None, state.topic))
        if key == "2":
            return _go(cat, state, CALLBACK_NUMBER)
    if state.node == CALLBACK_CONFIRM:
        if key == "1":
            return Turn((), state, effect=BookCallback(state.number, state.topic))
        if key == "2":
            return _go(cat, replace(state, number=""), CALLBACK_NUMBER)
    return None


def _number_entered(cat: Catalogue, state: CallState, digits: str, support_open: bool) -> Turn:
    """On the "key in your number" step the caller sends a whole number, ended by #.

    # on its own (Twilio sends no digits at all) goes back to the callback offer."""
    single = digits.strip("#")
    if not single:
        return _go(cat, state, CALLBACK_OFFER)
    if single in KEY_COMMANDS:
        return _command(cat, state, KEY_COMMANDS[single], support_open)
    # Only ASCII digits: "٣".isdigit() is true too, and would never be a number to dial.
    number = "".join(ch for ch in single if ch in "0123456789")
    if len(number) == len(single) and phones.is_callback_number(number):
        return _go(cat, replace(state, number=number), CALLBACK_CONFIRM)
    return _miss(cat, state, "callback_invalid")


def step(cat: Catalogue, state: CallState, kind: str, value: str = "", support_open: bool = False,
         caller_known: bool = True) -> Turn:
    """One caller action: ``kind`` is "key", "speech" or "silence".

    ``support_open`` and ``caller_known`` (the caller's number can be seen) are facts
    the caller of this function looks up; the engine itself touches nothing.
    """
    state = valid_state(cat, state)
    if state.node == FEEDBACK:
        answered = _feedback(cat, replace(state, silences=0), kind, value, caller_known)
        if answered is not None:
            return answered
    if state.node == REMEMBER and (kind == "silence" or (kind == "key" and value.strip()[:1] not in KEY_COMMANDS)):
        if kind == "key" and value.strip()[:1] == "1":
            return Turn((), state, effect=Remember(state.topic))
        return Turn(("goodbye",), state, listen=False, hangup=True)
    if kind == "silence" and state.node == CALLBACK_NUMBER:
        # Nothing keyed (silence, or # alone): back to the offer, never the end of the call.
        return _number_entered(cat, state, "", support_open)
    if kind == "silence" and more_to_come(cat, state) and not state.held:
        return _to_part(cat, state, state.part + 1)
    if kind == "silence":
        silences = state.silences + 1
        if silences >= MAX_SILENCES:
            return Turn(("no_input_goodbye", "help_numbers", "goodbye"), replace(state, silences=silences),
                        listen=False, hangup=True)
        if silences == MAX_SILENCES - 1:
            # Someone slow to press (a relay call, a tremor) is waited for, not hung up on.
            return Turn(("take_your_time",), replace(state, silences=silences), patient=True)
        return _turn(cat, ("no_input",), replace(state, silences=silences), brief=True)
    if kind == "key" and state.held and not _means_something(cat, state, value):
        # After "hold on": any key carries on, from the start of the part (or the menu) they were in.
        return _turn(cat, (), replace(state, silences=0, misses=0, held=False))
    if kind == "key" and state.silences == MAX_SILENCES - 1 and not _means_something(cat, state, value):
        # "Press any key when you are ready": any key is, and hears the options again.
        return _turn(cat, (), replace(state, silences=0, misses=0), brief=True)
    if kind == "key":
        if state.node == CALLBACK_NUMBER:
            return _number_entered(cat, state, value.strip(), support_open)
        key = value.strip()[:1]
        if key in KEY_COMMANDS:
            return _command(cat, state, KEY_COMMANDS[key], support_open)
        if state.node in CALLBACK_NODES or state.node == CLOSED:
            return _callback_key(cat, state, key) or _miss(cat, state, "wrong_key")
        if state.node == RETURNING:
            if key == RETURNING_KEY:
                return _go(cat, state, state.topic)
            # Otherwise the returning offer is the main menu with one more option.
            state = replace(state, node=MAIN_MENU)
        if state.node in cat.topics:
            if key == GOODBYE_KEY:
                return _command(cat, state, "goodbye", support_open, caller_known)
            if key == NEXT_PART_KEY:
                return _command(cat, state, "next_part", support_open, caller_known)
            more = cat.follow_ons.get(state.node)
            target = more.target(key) if more else None
            if target:
                return _go(cat, state, target)
            return _miss(cat, state, "wrong_key")
        target = cat.menus[state.node].target(key)
        if target:
            return _go(cat, state, target)
        return _miss(cat, state, "wrong_key")
    if kind == "speech":
        said = matching.normalise(value)
        if said in cat.voice_digits:
            said = str(cat.voice_digits.index(said))
        if re.fullmatch(r"[0-9]", said) or (state.node == CALLBACK_NUMBER and re.fullmatch(r"[0-9 ]+", said)):
            return step(cat, state, "key", said.replace(" ", ""), support_open, caller_known)
        name = matching.command(said, cat.voice_commands) or matching.keyword(
            said, cat.voice_command_words, cat.never_fuzzy)
        yes_no_keys = {REMEMBER: ("1", GOODBYE_KEY), CALLBACK_CONFIRM: ("1", "2"), RETURNING: (RETURNING_KEY, "#")}
        if state.node in yes_no_keys and name in ("yes", "no"):
            yes_key, no_key = yes_no_keys[state.node]
            return step(cat, state, "key", yes_key if name == "yes" else no_key, support_open, caller_known)
        node = find_node(cat, said)
        if name and not node:
            return _command(cat, state, name, support_open, caller_known)
        if node:
            return _go(cat, state, node)
        return _miss(cat, state, "not_understood")
    raise ValueError(f"unknown input kind {kind!r}")


def _means_something(cat: Catalogue, state: CallState, value: str) -> bool:
    """Whether a key does something where the caller is (a command, or one of its options)."""
    key = value.strip()[:1]
    if key in KEY_COMMANDS or state.node in CALLBACK_NODES or state.node in (CLOSED, REMEMBER):
        return True
    if state.node == RETURNING and key == RETURNING_KEY:
        return True
    if state.node in cat.topics:
        more = cat.follow_ons.get(state.node)
        return key in (GOODBYE_KEY, NEXT_PART_KEY) or bool(more and more.target(key))
    menu = cat.menus.get(MAIN_MENU if state.node == RETURNING else state.node)
    return bool(menu and menu.target(key))


CALLBACK_RETRY_OUTCOMES = {"callback_no_number"}


def resume_call(cat: Catalogue, state: CallState, outcome: CallOutcome) -> Turn:
    """After an effect: say how it went, then carry on from where the caller is."""
    state = valid_state(cat, state)
    if isinstance(outcome, Texted):
        # "Text me this" was tried: then the rest of the topic, or after its last part the options again.
        if more_to_come(cat, state):
            return _turn(cat, (outcome.prompt,), replace(state, part=state.part + 1, again=False))
        return _turn(cat, (outcome.prompt,), state, brief=True)
    if isinstance(outcome, CallbackBooked):
        # On success back to the main menu; without a number to call, back to the offer.
        if outcome.prompt in CALLBACK_RETRY_OUTCOMES:
            return _go(cat, state, CALLBACK_OFFER, (outcome.prompt,))
        return _go(cat, replace(state, number=""), MAIN_MENU, (outcome.prompt,))
    if isinstance(outcome, FeedbackGiven):
        thanked = replace(state, node=state.topic, silences=0, misses=0)
        if outcome.offer_remember:
            return _go(cat, thanked, REMEMBER, ("feedback_thanks",))
        return Turn(("feedback_thanks", "goodbye"), thanked, listen=False, hangup=True)
    if isinstance(outcome, Remembered):
        # The caller opted in (or it could not be stored): say so, then goodbye.
        return Turn((outcome.prompt, "goodbye"), state, listen=False, hangup=True)
    if isinstance(outcome, DialEnded):
        # After a real conversation say goodbye, otherwise offer help and the menu.
        if outcome.answered:
            return Turn(("goodbye",), state, listen=False, hangup=True)
        return _turn(cat, ("transfer_failed", "help_numbers"), state, brief=True)
    raise TypeError(f"not the outcome of a call's effect: {outcome!r}")


def apology(cat: Catalogue, slow: bool = False) -> Turn:
    """What a caller hears when something broke: never silence, never a dead end."""
    state = CallState(slow=slow)
    return Turn(("error", "help_numbers", *present(cat, state)), state)
