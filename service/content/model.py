"""The words of the line as data: prompts, topics, menus, contacts, the series and the source page,
gathered in a Catalogue. Nothing here reads a file (``load``) or judges the words (``validate``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from ..basics import gsm

RESERVED_KEYS = frozenset("*#0789")
MAX_MENU_OPTIONS = 5
MAIN_MENU = "main"
# Keys with a meaning of their own in one place: 9 (reserved) ends the call after a topic, and 6
# hears the last topic again in a returning caller's main menu (so the main menu may not use it).
GOODBYE_KEY = "9"
RETURNING_KEY = "6"
# In a topic told in parts: skip to the next part. The same key as the returning offer's: both mean "go on".
NEXT_PART_KEY = RETURNING_KEY

# Ids the code asks for by name. Voice prompts are spoken (and get clips);
# ids starting "sms_" are only ever texted.
VOICE_PROMPTS = (
    "welcome", "keys", "after_topic", "no_input", "wrong_key", "not_understood",
    "many_wrong", "help_numbers", "goodbye", "no_input_goodbye", "error",
    "slow_on", "slow_off", "transfer", "transfer_failed", "text_sent",
    "text_already_sent", "text_not_possible", "text_failed", "text_limit",
    "callback_offer", "callback_enter", "callback_read_back", "callback_confirm_keys", "callback_invalid",
    "callback_no_number", "callback_already", "callback_failed", *(f"digit_{d}" for d in range(10)),
    *(f"digit_{d}_then" for d in range(10)), "digit_double",
    "text_nothing", "text_opted_out", "remember_offer", "remember_done", "remember_failed", "returning_offer",
    "returning_offer_unnamed",
    "returning_keys", "closed_options", "take_your_time", "feedback_ask", "feedback_thanks",
    "part_keys", "hold_on",
)
SMS_PROMPTS = (
    "sms_greeting", "sms_topic_footer", "sms_topic_footer_more", "sms_topic_footer_ask", "sms_topic_footer_more_ask",
    "sms_feedback_thanks", "sms_help", "sms_not_understood",
    "sms_stop", "sms_start", "sms_error", "sms_abroad",
)
VOICE_COMMANDS = ("repeat", "main_menu", "person", "slower", "faster", "text_me", "goodbye", "yes", "no",
                  "next_part", "previous_part", "hold")
SMS_COMMANDS = ("menu", "more", "help", "stop", "start", "join", "yes", "no")
# Commands that change what is sent: their words may never be topic keywords.
SMS_STATE_COMMANDS = ("stop", "start", "join", "yes")
SERIES_PROMPTS = ("confirm", "joined", "already", "not_pending")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    say: str

    @property
    def is_voice(self) -> bool:
        return not self.id.startswith("sms_")


@dataclass(frozen=True)
class Review:
    """Who last checked a topic against its sources, when, and when it must be checked again."""

    reviewed_by: str
    reviewed_on: dt.date
    next_review: dt.date


@dataclass(frozen=True)
class Topic:
    id: str
    title: Prompt
    keywords: tuple[str, ...]
    voice: Prompt
    sms: str
    review: Review
    # The public https pages that support what the topic says (also listed in docs/sources.md).
    sources: tuple[str, ...]
    # False for a topic reached only by what people say or type (the crisis answer).
    in_menu: bool = True
    # Urgent answers (a fever in treatment, a crisis) win over every other keyword in a message.
    urgent: bool = False
    # The summary as a caller hears it: in parts (a blank line between them in the file), each its
    # own clip, so a caller can skip on or go back. Part 1 is ``topic.<id>``, then ``topic.<id>.2``.
    parts: tuple[Prompt, ...] = ()

    def part_id(self, index: int) -> str:
        return part_id(self.id, index)


# The most parts a topic may be told in: a call step's URL carries the part (0-based) as one digit.
MAX_PARTS = 9


def part_id(topic_id: str, index: int) -> str:
    """The prompt id of a topic's part (0-based): ``topic.fever``, ``topic.fever.2``, ..."""
    return f"topic.{topic_id}" if index == 0 else f"topic.{topic_id}.{index + 1}"


@dataclass(frozen=True)
class Menu:
    id: str
    voice: str
    sms: str
    keywords: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    # A topic whose summary this menu follows: after that summary its keys lead on (two presses
    # from the main menu for the most asked topics), and a texter gets it by replying MORE.
    after: str | None = None

    def target(self, key: str) -> str | None:
        return dict(self.options).get(key)


@dataclass(frozen=True)
class SupportLine:
    name: str
    dial: str
    timezone: str
    hours: dict[str, tuple[dt.time, dt.time]]
    closed: Prompt
    # True only for a line the charity itself runs: only then may a prompt say "our support line".
    run_by_us: bool = False


@dataclass(frozen=True)
class Callbacks:
    """Call-back requests when the support line is closed: offered only when a team works the queue."""

    enabled: bool
    booked: Prompt


@dataclass(frozen=True)
class HelpNumber:
    name: str
    number: str
    source: str = ""
    checked: dt.date | None = None
    # Opening hours as spoken and as texted; where given, every mention of the number states them.
    hours: str = ""
    sms_hours: str = ""


@dataclass(frozen=True)
class SeriesText:
    id: str
    sms: str


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    last_reviewed: dt.date
    next_review: dt.date


@dataclass
class Catalogue:
    prompts: dict[str, Prompt]
    topics: dict[str, Topic]
    menus: dict[str, Menu]
    voice_commands: dict[str, tuple[str, ...]]
    sms_commands: dict[str, tuple[str, ...]]
    voice_digits: tuple[str, ...]
    sms_leading: dict[str, tuple[str, ...]]
    never_fuzzy: frozenset[str]
    support_line: SupportLine
    callbacks: Callbacks
    help_numbers: tuple[HelpNumber, ...]
    series: tuple[SeriesText, ...]
    series_prompts: dict[str, str]
    source: Source
    origins: dict[str, str] = field(default_factory=dict)
    # The review of each prompt file that is not a topic (line, contacts, series), by its path.
    file_reviews: dict[str, Review] = field(default_factory=dict)

    def prompt(self, prompt_id: str) -> Prompt:
        if prompt_id.startswith("topic."):
            topic_id, _, part = prompt_id.removeprefix("topic.").partition(".")
            topic = self.topics[topic_id]
            return topic.parts[int(part) - 1 if part else 0]
        if prompt_id == "support_closed":
            return self.support_line.closed
        if prompt_id == "callback_booked":
            return self.callbacks.booked
        if prompt_id.startswith("title."):
            return self.topics[prompt_id.removeprefix("title.")].title
        return self.prompts[prompt_id]

    def voice_prompts(self) -> dict[str, Prompt]:
        found = {p.id: p for p in self.prompts.values() if p.is_voice}
        found.update({part.id: part for t in self.topics.values() for part in t.parts})
        found.update({t.title.id: t.title for t in self.topics.values()})
        found["support_closed"] = self.support_line.closed
        found["callback_booked"] = self.callbacks.booked
        return found

    def spoken_texts(self) -> dict[str, str]:
        """Every voice prompt id and the exact words to speak (what the audio build reads)."""
        return {pid: p.say for pid, p in sorted(self.voice_prompts().items())}

    def sms_texts(self) -> dict[str, str]:
        """Every text the line may send, with the id a content check reports it under."""
        found = {pid: p.text for pid, p in self.prompts.items() if not p.is_voice}
        for menu in self.menus.values():
            found[f"menu.{menu.id}.sms"] = self.prompts[menu.sms].text
            found[f"sms_not_understood+{menu.id}"] = (
                self.prompts["sms_not_understood"].text + "\n" + self.prompts[menu.sms].text)
        for topic in self.topics.values():
            found[f"topic.{topic.id}.sms"] = self.topic_sms(topic.id)
            if topic.id in self.follow_ons:
                found[f"topic.{topic.id}.sms+call"] = self.topic_sms(topic.id, in_reply=False)
        for text in self.series:
            found[f"series.{text.id}"] = text.sms
        for key, value in self.series_prompts.items():
            found[f"series.{key}"] = value
        found["sms_greeting+menu"] = self.greeting_with_menu()
        return found

    def written_texts(self) -> dict[str, str]:
        """Every prompt as written, spoken and texted, by the id a check reports it under."""
        spoken = {pid: p.text for pid, p in sorted(self.voice_prompts().items())}
        return {**spoken, **dict(sorted(self.sms_texts().items()))}

    def topic_sms(self, topic_id: str, in_reply: bool = True, ask: bool = False) -> str:
        """A topic as texted: its SMS version, then how to get more. ``in_reply``: an answer to a
        text, where MORE leads on to the topic's follow-on menu (a text sent from a call has none).
        ``ask``: the footer asks "did this help?" instead (see ``asks_in_text``)."""
        footer = "sms_topic_footer_more" if in_reply and topic_id in self.follow_ons else "sms_topic_footer"
        return self.topics[topic_id].sms + " " + self.prompts[footer + ("_ask" if ask else "")].text

    @cached_property
    def asks_in_text(self) -> frozenset[str]:
        """The topics whose reply may ask "did this help?": those whose text still fits two segments
        with the question, never an urgent one (a fever in treatment, a crisis: nothing may stand
        beside what to do now)."""
        return frozenset(topic.id for topic in self.topics.values()
                         if not topic.urgent and gsm.fits(self.topic_sms(topic.id, ask=True)))

    @cached_property
    def follow_ons(self) -> dict[str, Menu]:
        """Topic id -> the menu offered after its summary."""
        return {menu.after: menu for menu in self.menus.values() if menu.after}

    def voice_hints(self) -> str:
        """Speech hints for every Gather: the first words of each topic, menu and command."""
        words = [w for node in (*self.topics.values(), *self.menus.values()) for w in node.keywords[:3]]
        words += [w for commands in self.voice_commands.values() for w in commands[:2]]
        return ", ".join(dict.fromkeys(words))

    def greeting_with_menu(self) -> str:
        return self.prompts["sms_greeting"].text + "\n" + self.prompts[self.menus[MAIN_MENU].sms].text

    @cached_property
    def keyword_targets(self) -> dict[str, str]:
        """Keyword -> topic or menu id, for speech and texts (built once: matched on every input)."""
        return {word: node.id for node in (*self.topics.values(), *self.menus.values()) for word in node.keywords}

    @cached_property
    def urgent_keyword_targets(self) -> dict[str, str]:
        """Keyword -> urgent topic id: matched before any other keyword."""
        return {word: topic.id for topic in self.topics.values() if topic.urgent for word in topic.keywords}

    @cached_property
    def voice_command_words(self) -> dict[str, str]:
        """Spoken word -> voice command name."""
        return {word: name for name, words in self.voice_commands.items() for word in words}
