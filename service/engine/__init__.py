"""The conversation engine, one for calls and texts: pure functions (no Flask, no database) from
the content, a state and an input to words, the next state and typed effects.

- A call: ``start`` and ``step`` give a ``Turn`` (prompt ids to play, the next ``CallState``).
- A text: ``receive`` gives a ``TextTurn`` (the reply, effects to carry out in order).
- After an effect, the webhook resumes the engine the one way, for both channels:
  ``resume(cat, state, outcome)``, the outcome a typed value from ``effects``.

The voice and SMS blueprints only translate HTTP into these inputs and the turns into TwiML, and
hand the effects to the modules that own their storage.

May import content and basics only: never Flask, the database or the web (docs/architecture.md).
"""
from __future__ import annotations

from ..content import MAIN_MENU, Catalogue
from .calls import MAX_SILENCES, MAX_WRONG, apology, resume_call, start, step
from .effects import Outcome
from .places import (
    CALLBACK_CONFIRM,
    CALLBACK_NUMBER,
    CALLBACK_OFFER,
    CLOSED,
    FEEDBACK,
    REMEMBER,
    RETURNING,
    SPECIAL_NODES,
    CallState,
    Turn,
    valid_state,
)
from .texts import Message, TextState, TextTurn, receive, resume_text, sms_command, sms_step, wants_stop
from .texts import apology as text_apology
from .words import find_node

__all__ = [
    "CALLBACK_CONFIRM", "CALLBACK_NUMBER", "CALLBACK_OFFER", "CLOSED", "FEEDBACK", "MAIN_MENU", "MAX_SILENCES",
    "MAX_WRONG",
    "REMEMBER", "RETURNING", "SPECIAL_NODES", "CallState", "Message", "TextState", "TextTurn", "Turn", "apology",
    "find_node", "receive", "resume", "sms_command", "sms_step", "start", "step", "text_apology", "valid_state",
    "wants_stop",
]


def resume(cat: Catalogue, state: CallState | TextState, outcome: Outcome) -> Turn | TextTurn:
    """The one way back into the engine after an effect, for a call or a text: the state says
    which, the outcome's type says what was done and how it went."""
    if isinstance(state, CallState):
        return resume_call(cat, state, outcome)
    return resume_text(cat, state, outcome)
