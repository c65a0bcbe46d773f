"""The conversation engine: a pure function of (content, state, input) to a turn.

It knows nothing of HTTP, TwiML or the database. The voice and SMS blueprints
turn its answers into TwiML and carry out its effects.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import matching
from .content import MAIN_MENU, Catalogue

MAX_WRONG = 3
MAX_SILENCES = 2


@dataclass(frozen=True)
class CallState:
    """Where a caller is. ``node`` is a menu id, or a topic id once its summary has played."""

    node: str = MAIN_MENU
    slow: bool = False
    misses: int = 0
    silences: int = 0


@dataclass(frozen=True)
class Transfer:
    number: str


@dataclass(frozen=True)
class TextTopic:
    topic_id: str


@dataclass(frozen=True)
class Turn:
    prompts: tuple[str, ...]
    state: CallState
    listen: bool = True
    hangup: bool = False
    effect: Transfer | TextTopic | None = None
    reached: str | None = None


def present(cat: Catalogue, node: str) -> tuple[str, ...]:
    """What a caller hears on arriving at (or repeating) a node."""
    if node in cat.topics:
        return (f"topic.{node}", "after_topic")
    return (cat.menus[node].voice,)


def valid_state(cat: Catalogue, state: CallState) -> CallState:
    """A state from a URL may name a node that no longer exists after a content change."""
    if state.node in cat.topics or state.node in cat.menus:
        return state
    return replace(state, node=MAIN_MENU)


def start(cat: Catalogue, slow: bool = False) -> Turn:
    state = CallState(slow=slow)
    return Turn(("welcome", "keys", *present(cat, MAIN_MENU)), state, reached=MAIN_MENU)


def _go(cat: Catalogue, state: CallState, node: str, before: tuple[str, ...] = ()) -> Turn:
    new = replace(state, node=node, misses=0, silences=0)
    return Turn(before + present(cat, node), new, reached=node)


def _miss(cat: Catalogue, state: CallState, prompt: str) -> Turn:
    misses = state.misses + 1
    if misses >= MAX_WRONG:
        return _go(cat, state, MAIN_MENU, ("many_wrong",))
    new = replace(state, misses=misses, silences=0)
    return Turn((prompt, *present(cat, state.node)), new)


def _command(cat: Catalogue, state: CallState, name: str, support_open: bool) -> Turn:
    here = replace(state, misses=0, silences=0)
    if name == "repeat":
        return Turn(present(cat, state.node), here)
    if name == "main_menu":
        return _go(cat, state, MAIN_MENU)
    if name == "person":
        if support_open:
            return Turn(("transfer",), here, listen=False, effect=Transfer(cat.support_line.dial))
        return Turn(("support_closed", *present(cat, state.node)), here)
    if name == "slower":
        slow = not state.slow
        return Turn(("slow_on" if slow else "slow_off", *present(cat, state.node)), replace(here, slow=slow))
    if name == "text_me":
        if state.node in cat.topics:
            return Turn((), here, effect=TextTopic(state.node))
        return Turn(("text_nothing", *present(cat, state.node)), here)
    if name == "goodbye":
        return Turn(("goodbye",), here, listen=False, hangup=True)
    raise ValueError(f"unknown command {name!r}")


KEY_COMMANDS = {"*": "repeat", "#": "main_menu", "0": "person", "7": "slower", "8": "text_me"}
GOODBYE_KEY = "9"


def step(cat: Catalogue, state: CallState, kind: str, value: str = "", support_open: bool = False) -> Turn:
    """One caller action: ``kind`` is "key", "speech" or "silence"."""
    state = valid_state(cat, state)
    if kind == "silence":
        silences = state.silences + 1
        if silences >= MAX_SILENCES:
            return Turn(("no_input_goodbye", "help_numbers", "goodbye"), replace(state, silences=silences),
                        listen=False, hangup=True)
        return Turn(("no_input", *present(cat, state.node)), replace(state, silences=silences))
    if kind == "key":
        key = value.strip()[:1]
        if key in KEY_COMMANDS:
            return _command(cat, state, KEY_COMMANDS[key], support_open)
        if state.node in cat.topics:
            if key == GOODBYE_KEY:
                return _command(cat, state, "goodbye", support_open)
            return _miss(cat, state, "wrong_key")
        target = cat.menus[state.node].target(key)
        if target:
            return _go(cat, state, target)
        return _miss(cat, state, "wrong_key")
    if kind == "speech":
        said = matching.normalise(value)
        if re.fullmatch(r"[0-9]", said):
            return step(cat, state, "key", said, support_open)
        name = matching.command(said, cat.voice_commands) or matching.keyword(
            said, {w: n for n, words in cat.voice_commands.items() for w in words})
        node = matching.keyword(said, cat.node_keywords())
        if name and not node:
            return _command(cat, state, name, support_open)
        if node:
            return _go(cat, state, node)
        return _miss(cat, state, "not_understood")
    raise ValueError(f"unknown input kind {kind!r}")


def after_text(cat: Catalogue, state: CallState, outcome: str) -> Turn:
    """After "text me this" was tried: say how it went, then the after-topic options."""
    state = valid_state(cat, state)
    return Turn((outcome, "after_topic" if state.node in cat.topics else cat.menus[state.node].voice), state)


def after_dial(cat: Catalogue, state: CallState, answered: bool) -> Turn:
    """The transfer ended: after a real conversation say goodbye, otherwise offer help and the menu."""
    state = valid_state(cat, state)
    if answered:
        return Turn(("goodbye",), state, listen=False, hangup=True)
    return Turn(("transfer_failed", "help_numbers", *present(cat, state.node)), state)


def apology(cat: Catalogue, slow: bool = False) -> Turn:
    """What a caller hears when something broke: never silence, never a dead end."""
    return Turn(("error", "help_numbers", *present(cat, MAIN_MENU)), CallState(slow=slow))


# -- SMS -----------------------------------------------------------------------

@dataclass(frozen=True)
class SmsTurn:
    """A reply (or None for silence), the texter's next menu, and what else to do."""

    reply: str | None
    menu: str
    action: str | None = None
    reached: str | None = None


def sms_command(cat: Catalogue, body: str) -> str | None:
    """stop, start, help, menu, join or yes, when the whole message is one of their words."""
    return matching.command(body, cat.sms_commands)


def _sms_node(cat: Catalogue, node: str) -> SmsTurn:
    if node in cat.topics:
        topic = cat.topics[node]
        return SmsTurn(topic.sms + cat.prompts["sms_topic_footer"].text, MAIN_MENU, reached=node)
    return SmsTurn(cat.prompts[cat.menus[node].sms].text, node, reached=node)


def sms_step(cat: Catalogue, menu_id: str | None, body: str) -> SmsTurn:
    """A text from someone who has not opted out. ``menu_id`` is None on first contact."""
    current = menu_id if menu_id in cat.menus else None
    name = sms_command(cat, body)
    if name == "menu":
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
    node = matching.keyword(said, cat.node_keywords())
    if node:
        return _sms_node(cat, node)
    if current is None:
        return SmsTurn(cat.greeting_with_menu(), MAIN_MENU, reached=MAIN_MENU)
    menu_text = cat.prompts[cat.menus[current].sms].text
    return SmsTurn(cat.prompts["sms_not_understood"].text + "\n" + menu_text, current)
