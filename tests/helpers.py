"""Helpers the tests share (not fixtures)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from service.config import PROJECT_ROOT

# 150 words a minute: the pace the line's timing rules are written for.
WORDS_PER_SECOND = 2.5


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
