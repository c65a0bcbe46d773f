"""The SMS half of the engine: a text in, a reply and effects out. Pure: no Flask, no database.

The order is the policy: STOP first (honoured even from abroad), then START; a number outside
the allowed countries gets one short reply, ever; then the texter is looked up, and an opted-out
number hears nothing until it asks to JOIN; then the menus (``sms_step``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..basics import matching
from ..content import MAIN_MENU, Catalogue
from .effects import (
    AbroadGreeted,
    ConfirmSeries,
    GreetAbroad,
    JoinSeries,
    KeepMenu,
    OptIn,
    OptOut,
    RecallTexter,
    SeriesAnswered,
    TextEffect,
    TexterRecalled,
    TextFeedback,
    TextOutcome,
)
from .places import FEEDBACK_KEYS
from .words import find_node


@dataclass(frozen=True)
class SmsTurn:
    """The menus' answer to a text: a reply (or None for silence), the texter's next menu, and
    what else the text asks for (``action``: join, yes, stop or start)."""

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


# -- a text, from the top -------------------------------------------------------------------

# With Advanced Opt-Out, Twilio has already answered these itself (its OptOutType names which).
TWILIO_ANSWERS = ("stop", "start", "help")


@dataclass(frozen=True)
class Message:
    """A text as the engine sees it."""

    body: str
    # Twilio's OptOutType, in lower case ("" when it sent none). Twilio also names its own
    # keywords in other languages, which this line does not know.
    opt_out_type: str = ""
    # From a number outside ALLOWED_COUNTRY_CODES.
    abroad: bool = False

    @property
    def answered_by_twilio(self) -> bool:
        return self.opt_out_type in TWILIO_ANSWERS


@dataclass(frozen=True)
class TextState:
    """A text part of the way through the engine: the message, what it asks for (the command
    Twilio named, else the line's own reading), and the menus' answer once the texter is known."""

    message: Message
    command: str | None
    step: SmsTurn | None = None


@dataclass(frozen=True)
class TextTurn:
    """The reply (None: silence), the text's state, and the effects to carry out in order, in one
    transaction. When the last effect asks a question (GreetAbroad, RecallTexter, JoinSeries,
    ConfirmSeries), its answer resumes the engine; otherwise the turn is the last, and ``event``
    is the usage event to record (None: none)."""

    reply: str | None
    state: TextState
    effects: tuple[TextEffect, ...] = ()
    event: str | None = None
    reached: str | None = None


def receive(cat: Catalogue, message: Message) -> TextTurn:
    """A text arrives (a redelivered one never reaches the engine)."""
    command = message.opt_out_type if message.answered_by_twilio else sms_command(cat, message.body)
    state = TextState(message, command)
    if message.abroad:
        # One short reply, ever, and nothing else (no series, no later texts): every reply costs
        # the charity, and SMS pumping sends thousands. STOP is still honoured.
        return TextTurn(None, state, (OptOut(),) if command == "stop" else (GreetAbroad(),))
    if command == "stop":
        return TextTurn(None if message.answered_by_twilio else cat.prompts["sms_stop"].text, state, (OptOut(),))
    if command == "start":
        if message.answered_by_twilio and sms_command(cat, message.body) == "yes":
            # Twilio counts YES as an opt-in word; after JOIN it is also the line's confirmation.
            return TextTurn(None, state, (OptIn(), ConfirmSeries()))
        return TextTurn(None if message.answered_by_twilio else cat.prompts["sms_start"].text, state, (OptIn(),))
    return TextTurn(None, state, (RecallTexter(),))


def resume_text(cat: Catalogue, state: TextState, outcome: TextOutcome) -> TextTurn:
    """After a question about the texter: carry on with its answer."""
    if isinstance(outcome, AbroadGreeted):
        return TextTurn(cat.prompts["sms_abroad"].text if outcome.first else None, state)
    if isinstance(outcome, TexterRecalled):
        return _menus(cat, state, outcome)
    if isinstance(outcome, SeriesAnswered):
        if state.step is None:
            # A YES that Twilio took for START: the series' answer is the whole reply.
            return TextTurn(outcome.reply, state)
        return _answered(state, outcome.reply)
    raise TypeError(f"not the outcome of a text's effect: {outcome!r}")


def _menus(cat: Catalogue, state: TextState, texter: TexterRecalled) -> TextTurn:
    opted_in: tuple[TextEffect, ...] = ()
    if texter.opted_out:
        if state.command != "join":
            return TextTurn(None, state)
        # Asking for the series again is asking for texts again.
        opted_in = (OptIn(),)
    helped = _feedback_answer(cat, state.message.body) if texter.asking and texter.topic in cat.topics else None
    if helped is not None:
        # "Did this help?" answered: thanks, and the texter stays where they were (asked no more).
        state = replace(state, step=SmsTurn(cat.prompts["sms_feedback_thanks"].text, texter.menu or MAIN_MENU,
                                            topic=texter.topic))
        return TextTurn(state.step.reply, state, (*opted_in, TextFeedback(texter.topic, helped),
                                                  KeepMenu(state.step.menu, texter.topic)), event="feedback")
    state = replace(state, step=sms_step(cat, texter.menu, state.message.body, texter.topic))
    if state.step.reached in cat.asks_in_text and texter.may_ask and not state.step.action:
        # Once a week, a topic's text asks "did this help?" instead of its usual footer.
        state = replace(state, step=replace(state.step, reply=cat.topic_sms(state.step.reached, ask=True)))
        return _answered(state, state.step.reply, opted_in, asking=True)
    if state.step.action == "join":
        return TextTurn(None, state, (*opted_in, JoinSeries()))
    if state.step.action == "yes":
        return TextTurn(None, state, (*opted_in, ConfirmSeries()))
    if state.command == "help" and state.message.answered_by_twilio:
        return _answered(state, None, opted_in)
    return _answered(state, state.step.reply, opted_in)


def _answered(state: TextState, reply: str | None, before: tuple[TextEffect, ...] = (),
              asking: bool = False) -> TextTurn:
    """The menus' last turn: keep the texter's place, and name the usage event."""
    step = state.step
    event = "reached" if step.reached else (step.action or state.command or "text")
    return TextTurn(reply, state, (*before, KeepMenu(step.menu, step.topic, asking)), event=event,
                    reached=step.reached)


def _feedback_answer(cat: Catalogue, body: str) -> bool | None:
    """A reply to "did this help?": 1 or yes (True), 2 or no (False); None for anything else."""
    said = matching.normalise(body)
    if said in FEEDBACK_KEYS:
        return FEEDBACK_KEYS[said]
    return {"yes": True, "no": False}.get(sms_command(cat, body) or "")


def wants_stop(cat: Catalogue, message: Message) -> bool:
    """Is this a STOP (by Twilio's word or the line's own)? One that cannot be stored must be
    delivered again, never answered with an apology."""
    return message.opt_out_type == "stop" or sms_command(cat, message.body) == "stop"


def apology(cat: Catalogue) -> str:
    """What a texter gets when something broke: a short apology with the help numbers."""
    return cat.prompts["sms_error"].text
