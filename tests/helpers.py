"""Helpers the tests share (not fixtures)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from service.config import PROJECT_ROOT

# 150 words a minute: the pace the line's timing rules are written for.
WORDS_PER_SECOND = 2.5


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a file; fails if it is not there (a test must edit what it means to)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def prompts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    if not target.exists():
        shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


def prompts_with_callbacks(tmp_path: Path) -> Path:
    """The shipped prompts with call-back requests switched on (a charity with a callback team)."""
    prompts = prompts_copy(tmp_path)
    contacts = prompts / "contacts.yaml"
    text = contacts.read_text()
    assert "\n  enabled: false\n" in text
    contacts.write_text(text.replace("\n  enabled: false\n", "\n  enabled: true\n", 1))
    return prompts


def spoken_words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def words_until(text: str, phrase: str) -> int:
    """Words spoken up to the end of the first ``phrase`` (all of them for ""); fails if it is not there."""
    words = spoken_words(text)
    wanted = spoken_words(phrase)
    if not wanted:
        return len(words)
    for start in range(len(words) - len(wanted) + 1):
        if words[start:start + len(wanted)] == wanted:
            return start + len(wanted)
    raise AssertionError(f"{phrase!r} is never said in {text!r}")


def seconds_until(text: str, phrase: str) -> float:
    """Seconds from the start of ``text`` to the end of ``phrase`` at 150 words a minute."""
    return words_until(text, phrase) / WORDS_PER_SECOND


def after(cat, topic_id: str) -> list[str]:
    """What a caller hears after a topic's summary: the menu that follows it, if any, then the options."""
    more = cat.follow_ons.get(topic_id)
    return [*([more.voice] if more else []), "after_topic"]


def summary(cat, topic_id: str) -> list[str]:
    """A topic as heard on arriving: the summary, then what follows it."""
    return [f"topic.{topic_id}", *after(cat, topic_id)]


def topic_paths(cat) -> list[tuple[tuple[str, ...], str]]:
    """(keys, topic) for every way a caller can press their way from the main menu to a topic."""
    paths = []
    for key, target in cat.menus["main"].options:
        if target in cat.topics:
            paths.append(((key,), target))
            more = cat.follow_ons.get(target)
            for sub_key, sub_target in more.options if more else ():
                paths.append(((key, sub_key), sub_target))
        else:
            for sub_key, sub_target in cat.menus[target].options:
                paths.append(((key, sub_key), sub_target))
    return paths
