"""What the engine asks for (effects) and what it is told back (outcomes), for calls and texts.

The engine stays pure: a webhook hands each effect to the module that owns its storage
(texting, callbacks, returning, subscriptions, sms_sessions) and resumes the engine with the
outcome, always the one way: ``engine.resume(cat, state, outcome)``.
"""
from __future__ import annotations

from dataclasses import dataclass

# -- calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """Put the caller through to ``number`` (a ``<Dial>``); Twilio's dial action brings DialEnded."""

    number: str


@dataclass(frozen=True)
class TextTopic:
    """"Text me this": queue the topic's text to the caller's mobile. Answered by Texted."""

    topic_id: str


@dataclass(frozen=True)
class BookCallback:
    """Store a callback request: ``number`` as keyed, or None for the caller's own number.
    Answered by CallbackBooked."""

    number: str | None
    topic: str


@dataclass(frozen=True)
class Remember:
    """The caller agreed to be offered ``topic`` when they next call. Answered by Remembered."""

    topic: str


@dataclass(frozen=True)
class GiveFeedback:
    """The caller answered "did this help?" about ``topic`` (stored with no number and no call id).
    ``offer_remember``: the opt-in to be offered the topic next time follows. Answered by FeedbackGiven."""

    topic: str
    helped: bool
    offer_remember: bool


CallEffect = Transfer | TextTopic | BookCallback | Remember | GiveFeedback


@dataclass(frozen=True)
class DialEnded:
    """The transfer is over: ``answered`` when someone took the call."""

    answered: bool


@dataclass(frozen=True)
class Texted:
    """How "text me this" went: the prompt that says so (text_sent, text_already_sent, ...)."""

    prompt: str


@dataclass(frozen=True)
class CallbackBooked:
    """How the callback request went: the prompt that says so (callback_booked, callback_no_number, ...)."""

    prompt: str


@dataclass(frozen=True)
class Remembered:
    """Whether the opt-in was stored: remember_done or remember_failed."""

    prompt: str


@dataclass(frozen=True)
class FeedbackGiven:
    """The answer was kept (or could not be: the caller is thanked either way)."""

    offer_remember: bool


CallOutcome = DialEnded | Texted | CallbackBooked | Remembered | FeedbackGiven


# -- texts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptOut:
    """STOP: nothing more is sent to the number, including texts already queued."""


@dataclass(frozen=True)
class OptIn:
    """START, or JOIN after STOP: texts may be sent again."""


@dataclass(frozen=True)
class KeepMenu:
    """Keep the texter's menu, and the topic MORE leads on from, for their next text. ``asking``:
    this reply asks "did this help?" about that topic (a 1 or 2 next answers it)."""

    menu: str
    topic: str | None
    asking: bool = False


@dataclass(frozen=True)
class TextFeedback:
    """A texter answered "did this help?" about ``topic`` (stored with no number and no message id)."""

    topic: str
    helped: bool


@dataclass(frozen=True)
class GreetAbroad:
    """A text from outside the allowed countries: is it the number's first? Answered by AbroadGreeted."""


@dataclass(frozen=True)
class RecallTexter:
    """Look the texter up: opted out? which menu and last topic? Answered by TexterRecalled."""


@dataclass(frozen=True)
class JoinSeries:
    """JOIN: ask for a YES, unless the series is already running. Answered by SeriesAnswered."""


@dataclass(frozen=True)
class ConfirmSeries:
    """YES after JOIN: start the weekly series. Answered by SeriesAnswered."""


TextEffect = OptOut | OptIn | KeepMenu | TextFeedback | GreetAbroad | RecallTexter | JoinSeries | ConfirmSeries


@dataclass(frozen=True)
class AbroadGreeted:
    first: bool


@dataclass(frozen=True)
class TexterRecalled:
    opted_out: bool
    menu: str | None
    topic: str | None
    asking: bool = False  # the last reply asked "did this help?" about ``topic``
    may_ask: bool = False  # not asked in the last week


@dataclass(frozen=True)
class SeriesAnswered:
    """The series' reply to JOIN or YES (its words depend on where the subscriber was)."""

    reply: str


TextOutcome = AbroadGreeted | TexterRecalled | SeriesAnswered
Outcome = CallOutcome | TextOutcome
