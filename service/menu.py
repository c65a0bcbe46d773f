"""The conversation engine: a pure function of (content, state, input) to a turn.

It knows nothing of HTTP, TwiML or the database. The voice and SMS blueprints
turn its answers into TwiML and carry out its effects.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import matching, phones
from .content import GOODBYE_KEY, MAIN_MENU, RETURNING_KEY, Catalogue

MAX_WRONG = 3
MAX_SILENCES = 2


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


@dataclass(frozen=True)
class Transfer:
    number: str


@dataclass(frozen=True)
class TextTopic:
    topic_id: str


@dataclass(frozen=True)
class BookCallback:
    """Store a callback request: ``number`` as keyed, or None for the caller's own number."""

    number: str | None
    topic: str


@dataclass(frozen=True)
class Remember:
    """The caller agreed to be offered ``topic`` when they next call."""

    topic: str


@dataclass(frozen=True)
class Turn:
    prompts: tuple[str, ...]
    state: CallState
    listen: bool = True
    hangup: bool = False
    effect: Transfer | TextTopic | BookCallback | Remember | None = None
    reached: str | None = None
    # Listening for a whole phone number (ended by #) rather than one key.
    collect_number: bool = False


# 0 when the support line is closed: the hours and urgent advice, then what the caller can do.
# Without a callback team that is the help numbers by text or the main menu (CLOSED); with one
# (contacts.yaml callbacks.enabled), the callback steps.
CLOSED = "closed"
CALLBACK_OFFER, CALLBACK_NUMBER, CALLBACK_CONFIRM = "callback", "callback_number", "callback_confirm"
CALLBACK_NODES = (CALLBACK_OFFER, CALLBACK_NUMBER, CALLBACK_CONFIRM)
# A returning caller's offer, and the opt-in to it when a caller says goodbye after a topic.
RETURNING, REMEMBER = "returning", "remember"
SPECIAL_NODES = (CLOSED, *CALLBACK_NODES, RETURNING, REMEMBER)


def read_back(number: str) -> tuple[str, ...]:
    return tuple(f"digit_{digit}" for digit in number)


HELP_TOPIC = "help"


def present(cat: Catalogue, state: CallState, brief: bool = False) -> tuple[str, ...]:
    """What a caller hears on arriving at (or repeating) where they are.

    ``brief``: after a wrong key or silence on a topic, only its options again, not
    the whole summary (star still repeats the summary)."""
    node = state.node
    if node in cat.topics:
        more = (cat.follow_ons[node].voice,) if node in cat.follow_ons else ()
        return (*more, "after_topic") if brief else (f"topic.{node}", *more, "after_topic")
    if node == CLOSED:
        return ("closed_options",)
    if node == CALLBACK_OFFER:
        return ("callback_offer",)
    if node == CALLBACK_NUMBER:
        return ("callback_enter",)
    if node == CALLBACK_CONFIRM:
        return ("callback_read_back", *read_back(state.number), "callback_confirm_keys")
    if node == RETURNING:
        return ("returning_offer", f"title.{state.topic}", "returning_keys", cat.menus[MAIN_MENU].voice)
    if node == REMEMBER:
        return ("remember_offer",)
    return (cat.menus[node].voice,)


def valid_state(cat: Catalogue, state: CallState) -> CallState:
    """A state from a URL may name a node or topic that no longer exists after a content change."""
    if state.topic and state.topic not in cat.topics:
        state = replace(state, topic="")
    if state.node in (RETURNING, REMEMBER) and not state.topic:
        state = replace(state, node=MAIN_MENU)
    if state.node in CALLBACK_NODES and not cat.callbacks.enabled:
        state = replace(state, node=CLOSED, number="")
    if state.node == CALLBACK_CONFIRM and not phones.is_callback_number(state.number):
        state = replace(state, node=CALLBACK_NUMBER, number="")
    if state.node in cat.topics or state.node in cat.menus or state.node in SPECIAL_NODES:
        return state
    return replace(state, node=MAIN_MENU)


def start(cat: Catalogue, slow: bool = False, returning_topic: str | None = None) -> Turn:
    """The welcome; a returning caller who asked for it is offered their last topic first."""
    if returning_topic in cat.topics:
        state = CallState(node=RETURNING, slow=slow, topic=returning_topic)
        return Turn(("welcome", "keys", *present(cat, state)), state, reached=RETURNING)
    state = CallState(slow=slow)
    return Turn(("welcome", "keys", *present(cat, state)), state, reached=MAIN_MENU)


def _turn(cat: Catalogue, prompts: tuple[str, ...], state: CallState, reached: str | None = None,
          brief: bool = False) -> Turn:
    """Say ``prompts``, then what belongs where the caller now is, and listen."""
    return Turn(prompts + present(cat, state, brief), state, reached=reached,
                collect_number=state.node == CALLBACK_NUMBER)


def _go(cat: Catalogue, state: CallState, node: str, before: tuple[str, ...] = ()) -> Turn:
    topic = node if node in cat.topics else state.topic
    new = replace(state, node=node, misses=0, silences=0, topic=topic)
    return _turn(cat, before, new, reached=node)


def _miss(cat: Catalogue, state: CallState, prompt: str) -> Turn:
    misses = state.misses + 1
    if misses >= MAX_WRONG:
        return _go(cat, state, MAIN_MENU, ("many_wrong",))
    return _turn(cat, (prompt,), replace(state, misses=misses, silences=0), brief=True)


def _command(cat: Catalogue, state: CallState, name: str, support_open: bool, caller_known: bool = True) -> Turn:
    here = replace(state, misses=0, silences=0)
    if name == "repeat":
        return _turn(cat, (), here)
    if name == "main_menu":
        return _go(cat, state, MAIN_MENU)
    if name == "person":
        if support_open:
            return Turn(("transfer",), here, listen=False, effect=Transfer(cat.support_line.dial))
        return _go(cat, state, CALLBACK_OFFER if cat.callbacks.enabled else CLOSED, ("support_closed",))
    if name in ("slower", "faster", "toggle_speed"):
        slow = not state.slow if name == "toggle_speed" else name == "slower"
        return _turn(cat, ("slow_on" if slow else "slow_off",), replace(here, slow=slow))
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
        if state.node in cat.topics and caller_known:
            return _go(cat, state, REMEMBER)
        return Turn(("goodbye",), here, listen=False, hangup=True)
    raise ValueError(f"unknown command {name!r}")


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
    if state.node == REMEMBER and (kind == "silence" or (kind == "key" and value.strip()[:1] not in KEY_COMMANDS)):
        if kind == "key" and value.strip()[:1] == "1":
            return Turn((), state, effect=Remember(state.topic))
        return Turn(("goodbye",), state, listen=False, hangup=True)
    if kind == "silence" and state.node == CALLBACK_NUMBER:
        # Nothing keyed (silence, or # alone): back to the offer, never the end of the call.
        return _number_entered(cat, state, "", support_open)
    if kind == "silence":
        silences = state.silences + 1
        if silences >= MAX_SILENCES:
            return Turn(("no_input_goodbye", "help_numbers", "goodbye"), replace(state, silences=silences),
                        listen=False, hangup=True)
        return _turn(cat, ("no_input",), replace(state, silences=silences), brief=True)
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


def find_node(cat: Catalogue, said: str) -> str | None:
    """The topic or menu that words ask for; an urgent answer (a fever, a crisis) wins over any other,
    unless the urgent word is only part of a longer keyword ("infection" in "avoiding infection",
    an answer that itself starts with the urgent advice)."""
    urgent = matching.best_keyword(said, cat.urgent_keyword_targets, cat.never_fuzzy)
    other = matching.best_keyword(said, cat.keyword_targets, cat.never_fuzzy)
    if urgent and other and other != urgent and other not in cat.urgent_keyword_targets:
        # Set the longer keyword's own words aside: an urgent word anywhere else still wins.
        rest = f" {matching.normalise(said)} ".replace(f" {other} ", " _ ")
        urgent = matching.best_keyword(rest, cat.urgent_keyword_targets, cat.never_fuzzy)
    if urgent:
        return cat.urgent_keyword_targets[urgent]
    return cat.keyword_targets[other] if other else None


def after_text(cat: Catalogue, state: CallState, outcome: str) -> Turn:
    """After "text me this" was tried: say how it went, then the after-topic options."""
    return _turn(cat, (outcome,), valid_state(cat, state), brief=True)


CALLBACK_RETRY_OUTCOMES = {"callback_no_number"}


def after_callback(cat: Catalogue, state: CallState, outcome: str) -> Turn:
    """After a callback request was tried: say how it went; on success, back to the main menu."""
    state = valid_state(cat, state)
    if outcome in CALLBACK_RETRY_OUTCOMES:
        return _go(cat, state, CALLBACK_OFFER, (outcome,))
    return _go(cat, replace(state, number=""), MAIN_MENU, (outcome,))


def after_remember(cat: Catalogue, state: CallState, outcome: str) -> Turn:
    """After the caller opted in (or it could not be stored): say so, then goodbye."""
    return Turn((outcome, "goodbye"), valid_state(cat, state), listen=False, hangup=True)


def after_dial(cat: Catalogue, state: CallState, answered: bool) -> Turn:
    """The transfer ended: after a real conversation say goodbye, otherwise offer help and the menu."""
    state = valid_state(cat, state)
    if answered:
        return Turn(("goodbye",), state, listen=False, hangup=True)
    return _turn(cat, ("transfer_failed", "help_numbers"), state)


def apology(cat: Catalogue, slow: bool = False) -> Turn:
    """What a caller hears when something broke: never silence, never a dead end."""
    state = CallState(slow=slow)
    return Turn(("error", "help_numbers", *present(cat, state)), state)


# -- SMS -----------------------------------------------------------------------

@dataclass(frozen=True)
class SmsTurn:
    """A reply (or None for silence), the texter's next menu, and what else to do."""

    reply: str | None
    menu: str
    action: str | None = None
    reached: str | None = None
    # The topic just texted, kept so that MORE can lead on from it.
    topic: str | None = None


def sms_command(cat: Catalogue, body: str) -> str | None:
    """stop, start, help, menu, join or yes: the whole message is one of their words, or
    (stop, join, yes) it starts with one and the rest asks about nothing the line answers
    ("stop texting me", "yes please"; but "stop, what are the symptoms?" and "yes I want
    to die" are answered, never taken as commands)."""
    exact = matching.command(body, cat.sms_commands)
    if exact:
        return exact
    name = matching.leading(body, cat.sms_leading)
    if name is None:
        return None
    rest = " ".join(matching.normalise(body).split()[1:])
    if rest and matching.keyword(rest, cat.keyword_targets, cat.never_fuzzy):
        return None
    return name


def _sms_node(cat: Catalogue, node: str) -> SmsTurn:
    if node in cat.topics:
        return SmsTurn(cat.topic_sms(node), MAIN_MENU, reached=node, topic=node)
    return SmsTurn(cat.prompts[cat.menus[node].sms].text, node, reached=node)


def sms_step(cat: Catalogue, menu_id: str | None, body: str, topic: str | None = None) -> SmsTurn:
    """A text from someone who has not opted out. ``menu_id`` is None on first contact;
    ``topic`` is the last topic texted to them (MORE leads on from it). The turn's ``topic`` is
    the one to keep: the topic reached, none after a menu, else the one before."""
    turn = _sms_turn(cat, menu_id, body, topic if topic in cat.topics else None)
    if turn.reached is None:
        return replace(turn, topic=topic if topic in cat.topics else None)
    return turn


def _sms_turn(cat: Catalogue, menu_id: str | None, body: str, topic: str | None) -> SmsTurn:
    current = menu_id if menu_id in cat.menus else None
    name = sms_command(cat, body)
    if name == "more" and current is not None and topic in cat.follow_ons:
        return _sms_node(cat, cat.follow_ons[topic].id)
    if name in ("menu", "more"):
        if current is None:
            return SmsTurn(cat.greeting_with_menu(), MAIN_MENU, reached=MAIN_MENU)
        return _sms_node(cat, MAIN_MENU)
    if name == "help":
        return SmsTurn(cat.prompts["sms_help"].text, current or MAIN_MENU)
    if name in ("join", "yes"):
        return SmsTurn(None, current or MAIN_MENU, action=name)
    if name in ("stop", "start"):
        return SmsTurn(None, current or MAIN_MENU, action=name)
    said = matching.normalise(body)
    if re.fullmatch(r"[0-9]", said):
        target = cat.menus[current or MAIN_MENU].target(said)
        if target:
            return _sms_node(cat, target)
    node = find_node(cat, said)
    if node:
        return _sms_node(cat, node)
    if current is None:
        return SmsTurn(cat.greeting_with_menu(), MAIN_MENU, reached=MAIN_MENU)
    menu_text = cat.prompts[cat.menus[current].sms].text
    return SmsTurn(cat.prompts["sms_not_understood"].text + "\n" + menu_text, current)
