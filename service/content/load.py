"""Load the prompt files into a Catalogue: each file read and its problems collected (file and
line), then the checks across files (``validate.load_errors``); any problem raises ContentError."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ..basics import phones
from ..config import Config
from .model import (
    DAYS,
    MAIN_MENU,
    MAX_PARTS,
    RESERVED_KEYS,
    SERIES_PROMPTS,
    SMS_COMMANDS,
    SMS_STATE_COMMANDS,
    VOICE_COMMANDS,
    Callbacks,
    Catalogue,
    HelpNumber,
    Menu,
    Prompt,
    Review,
    SeriesText,
    Source,
    SupportLine,
    Topic,
    part_id,
)
from .reader import HTTPS_URL, Reader, YamlMapping, tidy
from .validate import ContentError, load_errors


def load_catalogue(prompts_dir: Path | None = None) -> Catalogue:
    """Load and check every prompt file; raise ContentError naming each problem."""
    root = Path(prompts_dir or Config.PROMPTS_DIR)
    reader = Reader(root)
    origins: dict[str, str] = {}

    prompts: dict[str, Prompt] = {}
    file_reviews: dict[str, Review] = {}
    line_path = root / "line.yaml"
    line_file = reader.load(line_path)
    if line_file is not None:
        _file_review(reader, line_path, line_file, file_reviews)
        section = line_file.get("prompts")
        if not isinstance(section, YamlMapping):
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
    support_line, callbacks, help_numbers = _load_contacts(reader, root / "contacts.yaml", origins, file_reviews)
    series, series_prompts = _load_series(reader, root / "series.yaml", origins, file_reviews)
    source = _load_source(reader, root / "source.yaml")

    if reader.problems:
        raise ContentError(reader.problems)
    catalogue = Catalogue(prompts, topics, menus, voice_commands, sms_commands, voice_digits, sms_leading,
                          never_fuzzy, support_line, callbacks, help_numbers, series, series_prompts, source,
                          origins, file_reviews)
    problems = load_errors(catalogue)
    if problems:
        raise ContentError(problems)
    return catalogue


def _file_review(reader: Reader, path: Path, data: YamlMapping, reviews: dict[str, Review]) -> None:
    """A prompt file that carries urgent advice is reviewed like a topic: its own dates."""
    review = reader.review(path, data)
    if review:
        reviews[f"prompts/{path.name}"] = review


def _load_topics(reader: Reader, folder: Path, origins: dict) -> dict[str, Topic]:
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
            parts = _parts(reader, path, data, topic_id, voice)
            topics[topic_id] = Topic(topic_id, title, keywords, voice, tidy(sms), review, sources, in_menu, urgent,
                                     parts)
            for part in (*parts, voice):
                origins[part.id] = reader.where(path, data.line_of("voice"))
            origins[f"topic.{topic_id}.sms"] = reader.where(path, data.line_of("sms"))
    return topics


def _parts(reader: Reader, path: Path, data: YamlMapping, topic_id: str, voice: Prompt) -> tuple[Prompt, ...]:
    """The summary's parts: a blank line in the file ends one (the same in 'text' and 'say')."""
    texts, says = voice.text.split("\n"), voice.say.split("\n")
    if len(texts) != len(says):
        reader.problem(path, data.line_of("voice"), f"the voice 'text' has {len(texts)} parts and 'say' has "
                       f"{len(says)}: put the blank lines between parts in the same places in both")
        return ()
    if not all(part.strip() for part in texts + says):
        reader.problem(path, data.line_of("voice"), "the voice has an empty part: one blank line between parts")
        return ()
    if len(texts) > MAX_PARTS:
        reader.problem(path, data.line_of("voice"), f"the voice has {len(texts)} parts; at most {MAX_PARTS}")
        return ()
    return tuple(Prompt(part_id(topic_id, i), text, say) for i, (text, say) in enumerate(zip(texts, says, strict=True)))


def _load_menus(reader: Reader, path: Path, origins: dict) -> dict[str, Menu]:
    data = reader.load(path)
    menus: dict[str, Menu] = {}
    if data is None:
        return menus
    for menu_id, spec in data.items():
        line = data.line_of(menu_id)
        if not isinstance(spec, YamlMapping):
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
        if not isinstance(options, YamlMapping) or not options:
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


def _load_keywords(reader: Reader, path: Path) -> tuple:
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
    if isinstance(block, YamlMapping):
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
        if not isinstance(block, YamlMapping):
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


def _parse_time(reader: Reader, path: Path, line: int, value: Any) -> dt.time | None:
    try:
        return dt.datetime.strptime(str(value), "%H:%M").time()
    except ValueError:
        reader.problem(path, line, f"{value!r} is not a 24-hour time like \"08:00\"")
        return None


def _load_contacts(reader: Reader, path: Path, origins: dict, reviews: dict):
    data = reader.load(path)
    if data is None:
        return None, None, ()
    _file_review(reader, path, data, reviews)
    support_line = None
    spec = data.get("support_line")
    if not isinstance(spec, YamlMapping):
        reader.problem(path, data.line_of("support_line"), "needs a 'support_line' mapping")
    else:
        name = reader.text(path, spec, "name")
        dial = reader.text(path, spec, "dial")
        if dial and not phones.is_e164(dial):
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
        if not isinstance(hours_spec, YamlMapping):
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
    if not isinstance(spec, YamlMapping):
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
            if not isinstance(entry, YamlMapping):
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
            hours = {key: entry.get(key) for key in ("hours", "sms_hours")}
            for key, value in hours.items():
                if value is not None and not (isinstance(value, str) and value.strip()):
                    reader.problem(path, entry.line_of(key), f"{number}: {key!r} must be text, as people say it")
            if name and checked:
                numbers.append(HelpNumber(name, number, source.strip(), checked, str(hours["hours"] or "").strip(),
                                          str(hours["sms_hours"] or "").strip()))
    return support_line, callbacks, tuple(numbers)


def _load_series(reader: Reader, path: Path, origins: dict, reviews: dict):
    data = reader.load(path)
    if data is None:
        return (), {}
    _file_review(reader, path, data, reviews)
    prompts = {}
    for key in SERIES_PROMPTS:
        value = reader.text(path, data, key)
        if value:
            prompts[key] = tidy(value)
            origins[f"series.{key}"] = reader.where(path, data.line_of(key))
    texts = []
    entries = data.get("texts")
    if not isinstance(entries, list) or not entries:
        reader.problem(path, data.line_of("texts"), "needs a 'texts' list")
        return (), prompts
    seen = set()
    for entry in entries:
        if not isinstance(entry, YamlMapping):
            reader.problem(path, data.line_of("texts"), "each series text must be a mapping with id and sms")
            continue
        text_id = reader.text(path, entry, "id")
        sms = reader.text(path, entry, "sms")
        if text_id in seen:
            reader.problem(path, entry.line_of("id"), f"series id {text_id!r} appears twice")
        seen.add(text_id)
        if text_id and sms:
            texts.append(SeriesText(text_id, tidy(sms)))
            origins[f"series.{text_id}"] = reader.where(path, entry.line_of("sms"))
    return tuple(texts), prompts


def _load_source(reader: Reader, path: Path) -> Source | None:
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
