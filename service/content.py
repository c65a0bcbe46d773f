"""Load the words of the line from ``prompts/`` and check them.

Everything the line speaks or texts lives in YAML files under ``prompts/``.
They are loaded once at start-up and checked: a broken file stops the app with
the file, the line and the problem, never a failure on a call at 3am.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from . import gsm

RESERVED_KEYS = frozenset("*#0789")
MAX_MENU_OPTIONS = 5
MAIN_MENU = "main"
# Keys with a meaning of their own in one place: 9 (reserved) ends the call after a topic, and 6
# hears the last topic again in a returning caller's main menu (so the main menu may not use it).
GOODBYE_KEY = "9"
RETURNING_KEY = "6"

# Ids the code asks for by name. Voice prompts are spoken (and get clips);
# ids starting "sms_" are only ever texted.
VOICE_PROMPTS = (
    "welcome", "keys", "after_topic", "no_input", "wrong_key", "not_understood",
    "many_wrong", "help_numbers", "goodbye", "no_input_goodbye", "error",
    "slow_on", "slow_off", "transfer", "transfer_failed", "text_sent",
    "text_already_sent", "text_not_possible", "text_failed",
    "callback_offer", "callback_enter", "callback_read_back", "callback_confirm_keys", "callback_invalid",
    "callback_no_number", "callback_already", "callback_failed", *(f"digit_{d}" for d in range(10)),
    "text_nothing", "text_opted_out", "remember_offer", "remember_done", "remember_failed", "returning_offer",
    "returning_keys", "closed_options",
)
SMS_PROMPTS = (
    "sms_greeting", "sms_topic_footer", "sms_topic_footer_more", "sms_help", "sms_not_understood",
    "sms_stop", "sms_start", "sms_error", "sms_abroad",
)
VOICE_COMMANDS = ("repeat", "main_menu", "person", "slower", "faster", "text_me", "goodbye", "yes", "no")
SMS_COMMANDS = ("menu", "more", "help", "stop", "start", "join", "yes")
# Commands that change what is sent: their words may never be topic keywords.
SMS_STATE_COMMANDS = ("stop", "start", "join", "yes")
SERIES_PROMPTS = ("confirm", "joined", "already", "not_pending")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[^\s]*)?")
# A run of three or more digits, optionally in groups, as a help number is written.
NUMBER_PATTERN = re.compile(r"(?<![\d.])\d{3,}(?: \d{2,})*(?!\d|\.\d)")


class ContentError(ValueError):
    """One or more prompt files are broken; the message names each file and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The prompt files have problems:\n  " + "\n  ".join(problems))


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

    def prompt(self, prompt_id: str) -> Prompt:
        if prompt_id.startswith("topic."):
            return self.topics[prompt_id.removeprefix("topic.")].voice
        if prompt_id == "support_closed":
            return self.support_line.closed
        if prompt_id == "callback_booked":
            return self.callbacks.booked
        if prompt_id.startswith("title."):
            return self.topics[prompt_id.removeprefix("title.")].title
        return self.prompts[prompt_id]

    def voice_prompts(self) -> dict[str, Prompt]:
        found = {p.id: p for p in self.prompts.values() if p.is_voice}
        found.update({t.voice.id: t.voice for t in self.topics.values()})
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

    def topic_sms(self, topic_id: str, in_reply: bool = True) -> str:
        """A topic as texted: its SMS version, then how to get more. ``in_reply``: an answer to a
        text, where MORE leads on to the topic's follow-on menu (a text sent from a call has none)."""
        footer = "sms_topic_footer_more" if in_reply and topic_id in self.follow_ons else "sms_topic_footer"
        return self.topics[topic_id].sms + " " + self.prompts[footer].text

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


# -- YAML with line numbers -------------------------------------------------

class _Mapping(dict):
    """A dict that remembers the line of each key, for error messages."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int)):
            raise yaml.MarkedYAMLError(problem=f"a key must be text, not {key!r}",
                                       problem_mark=key_node.start_mark)
        key = str(key)
        if key in mapping:
            raise yaml.MarkedYAMLError(problem=f"the key {key!r} appears twice",
                                       problem_mark=key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    """Collects every problem across all files, so an editor sees them all at once."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []

    def where(self, path: Path, line: int | None = None) -> str:
        try:
            name = str(path.relative_to(self.root.parent))
        except ValueError:
            name = str(path)
        return f"{name}:{line}" if line else name

    def problem(self, path: Path, line: int | None, message: str) -> None:
        self.problems.append(f"{self.where(path, line)}: {message}")

    def load(self, path: Path) -> _Mapping | None:
        if not path.exists():
            self.problem(path, None, "file is missing")
            return None
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
        except UnicodeDecodeError as exc:
            self.problem(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})")
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            self.problem(path, mark.line + 1 if mark else None, f"is not valid YAML: {exc.problem}")
            return None
        except yaml.YAMLError as exc:
            self.problem(path, None, f"is not valid YAML: {exc}")
            return None
        if not isinstance(data, _Mapping):
            self.problem(path, None, "must be a mapping of names to values")
            return None
        return data

    def text(self, path: Path, data: _Mapping, key: str) -> str | None:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(path, data.line_of(key), f"{key!r} must be non-empty text")
            return None
        return " ".join(value.split()) if "\n" not in value.strip() else value.strip()

    def words(self, path: Path, data: _Mapping, key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value or not all(
                isinstance(w, str) and w.strip() for w in value):
            self.problem(path, data.line_of(key), f"{key!r} must be a list of words")
            return ()
        return tuple(" ".join(w.lower().split()) for w in value)

    def date(self, path: Path, data: _Mapping, key: str) -> dt.date | None:
        value = data.get(key)
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.problem(path, data.line_of(key), f"{key!r} must be a date like 2027-10-28")
            return None
        return value

    def flag(self, path: Path, data: _Mapping, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(path, data.line_of(key), f"{key!r} must be true or false")
            return default
        return value

    def urls(self, path: Path, data: _Mapping, key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.problem(path, data.line_of(key), f"{key!r} must list the https pages that support it")
            return ()
        found = []
        for url in value:
            if not isinstance(url, str) or not HTTPS_URL.fullmatch(url.strip()):
                self.problem(path, data.line_of(key), f"{key!r}: {url!r} is not an https:// address")
                continue
            found.append(url.strip())
        return tuple(found)

    def review(self, path: Path, data: _Mapping, key: str = "review") -> Review | None:
        block = data.get(key)
        if not isinstance(block, _Mapping):
            self.problem(path, data.line_of(key), f"needs a {key!r} (reviewed_by, reviewed_on, next_review)")
            return None
        reviewed_by = self.text(path, block, "reviewed_by")
        reviewed_on = self.date(path, block, "reviewed_on")
        next_review = self.date(path, block, "next_review")
        unknown = set(block) - {"reviewed_by", "reviewed_on", "next_review"}
        if unknown:
            self.problem(path, block.line, f"{key!r} has unknown fields {sorted(unknown)}")
        if reviewed_on and next_review and next_review <= reviewed_on:
            self.problem(path, block.line_of("next_review"), "next_review must come after reviewed_on")
            return None
        if reviewed_by and reviewed_on and next_review:
            return Review(reviewed_by, reviewed_on, next_review)
        return None

    def prompt(self, path: Path, data: _Mapping, key: str, prompt_id: str) -> Prompt | None:
        value = data.get(key)
        line = data.line_of(key)
        if isinstance(value, str) and value.strip():
            text = _tidy(value)
            return Prompt(prompt_id, text, text)
        if isinstance(value, _Mapping):
            text = self.text(path, value, "text")
            say = self.text(path, value, "say") if "say" in value else text
            unknown = set(value) - {"text", "say"}
            if unknown:
                self.problem(path, value.line, f"{key!r} has unknown fields {sorted(unknown)}")
            if text and say:
                return Prompt(prompt_id, _tidy(text), _tidy(say))
            return None
        self.problem(path, line, f"{key!r} must be text, or a mapping with 'text' and 'say'")
        return None


def _tidy(text: str) -> str:
    """Folded YAML leaves no stray spaces; keep the newlines of a literal block (SMS menus)."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines)


# -- loading -------------------------------------------------------------------

def load_catalogue(prompts_dir: Path | None = None) -> Catalogue:
    """Load and check every prompt file; raise ContentError naming each problem."""
    from .config import Config

    root = Path(prompts_dir or Config.PROMPTS_DIR)
    reader = _Reader(root)
    origins: dict[str, str] = {}

    prompts: dict[str, Prompt] = {}
    line_path = root / "line.yaml"
    line_file = reader.load(line_path)
    if line_file is not None:
        section = line_file.get("prompts")
        if not isinstance(section, _Mapping):
            reader.problem(line_path, line_file.line_of("prompts"), "needs a 'prompts' mapping")
        else:
            for prompt_id in section:
                prompt = reader.prompt(line_path, section, prompt_id, prompt_id)
                if prompt:
                    prompts[prompt_id] = prompt
                    origins[prompt_id] = reader.where(line_path, section.line_of(prompt_id))

    topics = _load_topics(reader, root / "topics", origins)
    menus = _load_menus(reader, root / "menus.yaml", origins)
    voice_commands, sms_commands, voice_digits, sms_leading, never_fuzzy = _load_keywords(
        reader, root / "keywords.yaml")
    support_line, callbacks, help_numbers = _load_contacts(reader, root / "contacts.yaml", origins)
    series, series_prompts = _load_series(reader, root / "series.yaml", origins)
    source = _load_source(reader, root / "source.yaml")

    if reader.problems:
        raise ContentError(reader.problems)
    catalogue = Catalogue(prompts, topics, menus, voice_commands, sms_commands, voice_digits, sms_leading,
                          never_fuzzy, support_line, callbacks, help_numbers, series, series_prompts, source,
                          origins)
    problems = check_catalogue(catalogue)
    if problems:
        raise ContentError(problems)
    return catalogue


def _load_topics(reader: _Reader, folder: Path, origins: dict) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        reader.problem(folder, None, "holds no topic files (*.yaml)")
    for path in files:
        data = reader.load(path)
        if data is None:
            continue
        topic_id = reader.text(path, data, "id")
        if topic_id and topic_id != path.stem:
            reader.problem(path, data.line_of("id"), f"id {topic_id!r} must match the file name {path.stem!r}")
        title = reader.prompt(path, data, "title", f"title.{topic_id}")
        keywords = reader.words(path, data, "keywords")
        voice = reader.prompt(path, data, "voice", f"topic.{topic_id}")
        sms = reader.text(path, data, "sms")
        review = reader.review(path, data)
        sources = reader.urls(path, data, "sources")
        unknown = set(data) - {"id", "title", "keywords", "voice", "sms", "in_menu", "urgent", "review", "sources"}
        if unknown:
            reader.problem(path, data.line, f"unknown fields {sorted(unknown)}")
        in_menu = reader.flag(path, data, "in_menu", True)
        urgent = reader.flag(path, data, "urgent", False)
        if topic_id and title and keywords and voice and sms and review and sources:
            topics[topic_id] = Topic(topic_id, title, keywords, voice, _tidy(sms), review, sources, in_menu, urgent)
            origins[f"topic.{topic_id}"] = reader.where(path, data.line_of("voice"))
            origins[f"topic.{topic_id}.sms"] = reader.where(path, data.line_of("sms"))
    return topics


def _load_menus(reader: _Reader, path: Path, origins: dict) -> dict[str, Menu]:
    data = reader.load(path)
    menus: dict[str, Menu] = {}
    if data is None:
        return menus
    for menu_id, spec in data.items():
        line = data.line_of(menu_id)
        if not isinstance(spec, _Mapping):
            reader.problem(path, line, f"menu {menu_id!r} must be a mapping")
            continue
        voice = reader.text(path, spec, "voice")
        sms = reader.text(path, spec, "sms")
        after = reader.text(path, spec, "after") if "after" in spec else None
        # The main menu and a topic's follow-on are reached by pressing, not by words.
        keywords = reader.words(path, spec, "keywords") if menu_id != MAIN_MENU and (
            "after" not in spec or "keywords" in spec) else ()
        unknown = set(spec) - {"voice", "sms", "after", "keywords", "options"}
        if unknown:
            reader.problem(path, spec.line, f"menu {menu_id!r} has unknown fields {sorted(unknown)}")
        options = spec.get("options")
        if not isinstance(options, _Mapping) or not options:
            reader.problem(path, spec.line_of("options"), f"menu {menu_id!r} needs 'options' (key: target)")
            continue
        pairs = []
        for key, target in options.items():
            key_line = options.line_of(key)
            if key in RESERVED_KEYS:
                reader.problem(path, key_line, f"menu {menu_id!r} uses the reserved key {key!r} "
                               f"(reserved everywhere: {' '.join(sorted(RESERVED_KEYS))})")
            elif not re.fullmatch(r"[1-9]", key):
                reader.problem(path, key_line, f"menu {menu_id!r} key {key!r} must be one digit 1-9")
            if not isinstance(target, str):
                reader.problem(path, key_line, f"menu {menu_id!r} key {key!r} must name a topic or menu")
                continue
            pairs.append((key, target))
        if voice and sms:
            menus[menu_id] = Menu(menu_id, voice, sms, keywords, tuple(pairs), after)
            origins[f"menu.{menu_id}"] = reader.where(path, line)
    return menus


def _load_keywords(reader: _Reader, path: Path) -> tuple:
    data = reader.load(path)
    voice: dict[str, tuple[str, ...]] = {}
    sms: dict[str, tuple[str, ...]] = {}
    if data is None:
        return voice, sms, (), {}, frozenset()
    digits = reader.words(path, data, "voice_digits")
    if digits and len(digits) != 10:
        reader.problem(path, data.line_of("voice_digits"), "voice_digits must list the ten spoken digits, zero first")
    leading: dict[str, tuple[str, ...]] = {}
    block = data.get("sms_leading")
    if isinstance(block, _Mapping):
        for name in block:
            if name not in SMS_STATE_COMMANDS:
                reader.problem(path, block.line_of(name), f"sms_leading: {name!r} is not one of "
                               f"{', '.join(SMS_STATE_COMMANDS)}")
            else:
                leading[name] = reader.words(path, block, name)
    elif block is not None:
        reader.problem(path, data.line_of("sms_leading"), "sms_leading must map commands to words")
    never_fuzzy = frozenset(reader.words(path, data, "never_fuzzy")) if "never_fuzzy" in data else frozenset()
    for section, names, target in (("voice", VOICE_COMMANDS, voice), ("sms", SMS_COMMANDS, sms)):
        block = data.get(section)
        if not isinstance(block, _Mapping):
            reader.problem(path, data.line_of(section), f"needs a {section!r} mapping")
            continue
        for name in names:
            if name not in block:
                reader.problem(path, block.line, f"{section} is missing the command {name!r}")
                continue
            target[name] = reader.words(path, block, name)
        for name in set(block) - set(names):
            reader.problem(path, block.line_of(name), f"{section} has an unknown command {name!r} "
                           f"(known: {', '.join(names)})")
    return voice, sms, digits, leading, never_fuzzy


def _parse_time(reader: _Reader, path: Path, line: int, value: Any) -> dt.time | None:
    try:
        return dt.datetime.strptime(str(value), "%H:%M").time()
    except ValueError:
        reader.problem(path, line, f"{value!r} is not a 24-hour time like \"08:00\"")
        return None


def _load_contacts(reader: _Reader, path: Path, origins: dict):
    data = reader.load(path)
    if data is None:
        return None, None, ()
    support_line = None
    spec = data.get("support_line")
    if not isinstance(spec, _Mapping):
        reader.problem(path, data.line_of("support_line"), "needs a 'support_line' mapping")
    else:
        name = reader.text(path, spec, "name")
        dial = reader.text(path, spec, "dial")
        if dial:
            try:
                parsed = phonenumbers.parse(dial, None)
                valid = phonenumbers.is_valid_number(parsed)
            except phonenumbers.NumberParseException:
                valid = False
            if not valid or not dial.startswith("+"):
                reader.problem(path, spec.line_of("dial"), f"dial {dial!r} must be a valid number in E.164 (+44...)")
        timezone = reader.text(path, spec, "timezone")
        if timezone:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                reader.problem(path, spec.line_of("timezone"), f"unknown time zone {timezone!r}")
        hours: dict[str, tuple[dt.time, dt.time]] = {}
        hours_spec = spec.get("hours")
        if not isinstance(hours_spec, _Mapping):
            reader.problem(path, spec.line_of("hours"), "support_line needs 'hours' (mon..sun: [open, close])")
        else:
            for day, span in hours_spec.items():
                line = hours_spec.line_of(day)
                if day not in DAYS:
                    reader.problem(path, line, f"{day!r} is not a day ({', '.join(DAYS)})")
                    continue
                if span is None or span == "closed":
                    continue
                if not isinstance(span, list) or len(span) != 2:
                    reader.problem(path, line, f"{day}: hours must be [open, close], like [\"08:00\", \"20:00\"]")
                    continue
                opens, closes = (_parse_time(reader, path, line, v) for v in span)
                if opens and closes:
                    if closes <= opens:
                        reader.problem(path, line, f"{day}: closes before it opens")
                    hours[day] = (opens, closes)
        closed = reader.prompt(path, spec, "closed", "support_closed")
        if closed:
            origins["support_closed"] = reader.where(path, spec.line_of("closed"))
        run_by_us = reader.flag(path, spec, "run_by_us", False)
        unknown = set(spec) - {"name", "dial", "timezone", "hours", "closed", "run_by_us"}
        if unknown:
            reader.problem(path, spec.line, f"support_line has unknown fields {sorted(unknown)}")
        if name and dial and timezone and closed:
            support_line = SupportLine(name, dial, timezone, hours, closed, run_by_us)
    callbacks = None
    spec = data.get("callbacks")
    if not isinstance(spec, _Mapping):
        reader.problem(path, data.line_of("callbacks"), "needs a 'callbacks' mapping (enabled, booked)")
    else:
        enabled = reader.flag(path, spec, "enabled", False)
        booked = reader.prompt(path, spec, "booked", "callback_booked")
        if booked:
            origins["callback_booked"] = reader.where(path, spec.line_of("booked"))
            callbacks = Callbacks(enabled, booked)
    numbers = []
    entries = data.get("help_numbers")
    if not isinstance(entries, list) or not entries:
        reader.problem(path, data.line_of("help_numbers"), "needs a 'help_numbers' list")
    else:
        for entry in entries:
            if not isinstance(entry, _Mapping):
                reader.problem(path, data.line_of("help_numbers"), "each help number must be a mapping")
                continue
            name = reader.text(path, entry, "name")
            number = entry.get("number")
            if not isinstance(number, str) or not re.fullmatch(r"\d[\d ]*\d", number):
                reader.problem(path, entry.line_of("number"),
                               "number must be quoted text of digits and spaces, as people write it")
                continue
            source = entry.get("source")
            if not isinstance(source, str) or not HTTPS_URL.fullmatch(source.strip()):
                reader.problem(path, entry.line_of("source"),
                               f"{number}: 'source' must be the https page where the number was checked")
                continue
            checked = reader.date(path, entry, "checked")
            if name and checked:
                numbers.append(HelpNumber(name, number, source.strip(), checked))
    return support_line, callbacks, tuple(numbers)


def _load_series(reader: _Reader, path: Path, origins: dict):
    data = reader.load(path)
    if data is None:
        return (), {}
    prompts = {}
    for key in SERIES_PROMPTS:
        value = reader.text(path, data, key)
        if value:
            prompts[key] = _tidy(value)
            origins[f"series.{key}"] = reader.where(path, data.line_of(key))
    texts = []
    entries = data.get("texts")
    if not isinstance(entries, list) or not entries:
        reader.problem(path, data.line_of("texts"), "needs a 'texts' list")
        return (), prompts
    seen = set()
    for entry in entries:
        if not isinstance(entry, _Mapping):
            reader.problem(path, data.line_of("texts"), "each series text must be a mapping with id and sms")
            continue
        text_id = reader.text(path, entry, "id")
        sms = reader.text(path, entry, "sms")
        if text_id in seen:
            reader.problem(path, entry.line_of("id"), f"series id {text_id!r} appears twice")
        seen.add(text_id)
        if text_id and sms:
            texts.append(SeriesText(text_id, _tidy(sms)))
            origins[f"series.{text_id}"] = reader.where(path, entry.line_of("sms"))
    return tuple(texts), prompts


def _load_source(reader: _Reader, path: Path) -> Source | None:
    data = reader.load(path)
    if data is None:
        return None
    last_reviewed = reader.date(path, data, "last_reviewed")
    next_review = reader.date(path, data, "next_review")
    title = reader.text(path, data, "title")
    url = data.get("source")
    if not isinstance(url, str) or not HTTPS_URL.fullmatch(url.strip()):
        reader.problem(path, data.line_of("source"), "'source' must be the https address of the public page")
        return None
    if last_reviewed and next_review and title:
        return Source(title, url.strip(), last_reviewed, next_review)
    return None


# -- checks across files -----------------------------------------------------

def check_catalogue(cat: Catalogue) -> list[str]:
    """Problems that span files: missing ids, broken menu links, SMS budgets, keywords."""
    problems: list[str] = []

    def at(key: str) -> str:
        return cat.origins.get(key, "prompts")

    for pid in VOICE_PROMPTS + SMS_PROMPTS:
        if pid not in cat.prompts:
            problems.append(f"prompts/line.yaml: the prompt {pid!r} is missing")
    for pid in set(cat.prompts) - set(VOICE_PROMPTS) - set(SMS_PROMPTS) - {m.voice for m in cat.menus.values()} \
            - {m.sms for m in cat.menus.values()}:
        problems.append(f"{at(pid)}: the prompt {pid!r} is not used by the line (a typo?)")

    nodes = set(cat.topics) | set(cat.menus)
    clash = set(cat.topics) & set(cat.menus)
    for name in sorted(clash):
        problems.append(f"{at('menu.' + name)}: {name!r} is both a topic and a menu")
    if MAIN_MENU not in cat.menus:
        problems.append("prompts/menus.yaml: there is no 'main' menu")
    followed: dict[str, str] = {}
    for menu in cat.menus.values():
        where = at(f"menu.{menu.id}")
        if menu.after is not None:
            topic = cat.topics.get(menu.after)
            if topic is None or not topic.in_menu:
                problems.append(f"{where}: menu {menu.id!r} comes after {menu.after!r}, which is no topic on a menu")
            elif menu.after in followed:
                problems.append(f"{where}: menu {menu.id!r} comes after {menu.after!r}, as menu "
                                f"{followed[menu.after]!r} does already; a topic leads on to one menu")
            followed.setdefault(menu.after, menu.id)
        if menu.id == MAIN_MENU and menu.target(RETURNING_KEY):
            problems.append(f"{where}: the main menu may not use {RETURNING_KEY}: a returning caller presses it "
                            "to hear their last topic again")
        if len(menu.options) > MAX_MENU_OPTIONS:
            problems.append(f"{where}: menu {menu.id!r} has {len(menu.options)} options; at most {MAX_MENU_OPTIONS}")
        for prompt_id in (menu.voice, menu.sms):
            if prompt_id not in cat.prompts:
                problems.append(f"{where}: menu {menu.id!r} names the prompt {prompt_id!r}, which does not exist")
        for key, target in menu.options:
            if target not in nodes:
                problems.append(f"{where}: menu {menu.id!r} key {key} goes to {target!r}, which is no topic or menu")
            elif target == MAIN_MENU:
                problems.append(f"{where}: menu {menu.id!r} key {key} goes to the main menu; that is what # is for")
        if menu.voice in cat.prompts:
            spoken = cat.prompts[menu.voice].say.lower()
            for key, _ in menu.options:
                if f"press {key}" not in spoken:
                    problems.append(f"{at(menu.voice)}: {menu.voice!r} never says \"press {key}\", "
                                    f"but menu {menu.id!r} has an option on {key}")
        if menu.sms in cat.prompts:
            lines = [line.strip() for line in cat.prompts[menu.sms].text.splitlines()]
            for key, _ in menu.options:
                if not any(line.startswith(f"{key} ") for line in lines):
                    problems.append(f"{at(menu.sms)}: {menu.sms!r} has no line starting \"{key} \", "
                                    f"but menu {menu.id!r} has an option on {key}")

    depth = _depths(cat)
    if "help" not in cat.topics:
        problems.append("prompts/topics: there is no 'help' topic (where to get help); the line offers it")
    for topic_id in sorted(cat.topics):
        if not cat.topics[topic_id].in_menu:
            if topic_id in depth:
                problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} says in_menu: false but a menu "
                                "offers it")
            continue
        if topic_id not in depth:
            problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} cannot be reached from the main menu")
        elif depth[topic_id] > 2:
            problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} is {depth[topic_id]} presses away; "
                            "at most 2")

    owners: dict[str, str] = {}
    groups = [(f"topic {t.id}", t.keywords) for t in cat.topics.values()]
    groups += [(f"menu {m.id}", m.keywords) for m in cat.menus.values()]
    groups += [(f"voice command {k}", v) for k, v in cat.voice_commands.items()]
    groups += [("voice digits", cat.voice_digits)]
    for owner, words in groups:
        for word in words:
            if word in owners and owners[word] != owner:
                problems.append(f"prompts: the keyword {word!r} belongs to both {owners[word]} and {owner}")
            owners.setdefault(word, owner)
    sms_owners: dict[str, str] = {}
    for name, words in cat.sms_commands.items():
        for word in words:
            if word in sms_owners:
                problems.append(f"prompts/keywords.yaml: the SMS keyword {word!r} belongs to both "
                                f"{sms_owners[word]} and {name}")
            sms_owners[word] = name
            if name in SMS_STATE_COMMANDS and word in owners and owners[word].startswith(("topic", "menu")):
                problems.append(f"prompts/keywords.yaml: the SMS keyword {word!r} is also a keyword of "
                                f"{owners[word]}")

    for text_id, text in cat.sms_texts().items():
        bad = gsm.non_gsm_characters(text)
        origin = at(text_id.removesuffix("+menu").removesuffix(".sms") if text_id.startswith("menu.")
                    else text_id)
        if bad:
            problems.append(f"{origin}: SMS text {text_id!r} has characters outside GSM-7: "
                            + " ".join(repr(ch) for ch in bad))
        elif gsm.segments(text) > gsm.SEGMENT_BUDGET:
            problems.append(f"{origin}: SMS text {text_id!r} needs {gsm.segments(text)} segments "
                            f"({gsm.septets(text)} characters); at most {gsm.SEGMENT_BUDGET}")
    if "sms_greeting" in cat.prompts and gsm.segments(cat.prompts["sms_greeting"].text) > 1:
        problems.append(f"{at('sms_greeting')}: the greeting must fit one segment")

    line = cat.support_line
    written = cat.written_texts()
    if not line.run_by_us:
        for text_id, text in written.items():
            if re.search(r"\bour (support )?(line|team|nurses?)\b", text, re.IGNORECASE):
                problems.append(f"{at(text_id.removesuffix('.sms'))}: {text_id!r} speaks of \"our\" line or team, "
                                f"but {line.name} is not run by this charity (support_line.run_by_us is false)")
        if line.name.lower() not in line.closed.text.lower():
            problems.append(f"{at('support_closed')}: support_line.closed must name {line.name!r}, the line "
                            "that 0 reaches")

    known = {n.number for n in cat.help_numbers}
    for text_id, text in written.items():
        for number in NUMBER_PATTERN.findall(text):
            if number not in known:
                problems.append(f"{at(text_id.removesuffix('.sms'))}: {text_id!r} gives the number "
                                f"{number!r}, which is not in prompts/contacts.yaml help_numbers")
    return problems


def _depths(cat: Catalogue) -> dict[str, int]:
    """Presses needed from the main menu to reach each topic or menu."""
    depth = {MAIN_MENU: 0}
    frontier = [MAIN_MENU]
    while frontier:
        node = frontier.pop(0)
        menu = cat.menus.get(node) or cat.follow_ons.get(node)
        if not menu:
            continue
        for _, target in menu.options:
            if target not in depth:
                depth[target] = depth[node] + 1
                frontier.append(target)
    return depth
