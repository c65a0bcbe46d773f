"""The prompt files as YAML that remembers where each value was written: every problem is
reported with its file and line, and all of them at once, so an editor sees them together."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from .model import Prompt, Review

HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[^\s]*)?")


class YamlMapping(dict):
    """A dict that remembers the line of each key, for error messages."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> YamlMapping:
    loader.flatten_mapping(node)
    mapping = YamlMapping()
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


class Reader:
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

    def load(self, path: Path) -> YamlMapping | None:
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
        if not isinstance(data, YamlMapping):
            self.problem(path, None, "must be a mapping of names to values")
            return None
        return data

    def text(self, path: Path, data: YamlMapping, key: str) -> str | None:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(path, data.line_of(key), f"{key!r} must be non-empty text")
            return None
        return " ".join(value.split()) if "\n" not in value.strip() else value.strip()

    def words(self, path: Path, data: YamlMapping, key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value or not all(
                isinstance(w, str) and w.strip() for w in value):
            self.problem(path, data.line_of(key), f"{key!r} must be a list of words")
            return ()
        return tuple(" ".join(w.lower().split()) for w in value)

    def date(self, path: Path, data: YamlMapping, key: str) -> dt.date | None:
        value = data.get(key)
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.problem(path, data.line_of(key), f"{key!r} must be a date like 2027-10-28")
            return None
        return value

    def flag(self, path: Path, data: YamlMapping, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(path, data.line_of(key), f"{key!r} must be true or false")
            return default
        return value

    def urls(self, path: Path, data: YamlMapping, key: str) -> tuple[str, ...]:
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

    def review(self, path: Path, data: YamlMapping, key: str = "review") -> Review | None:
        block = data.get(key)
        if not isinstance(block, YamlMapping):
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

    def prompt(self, path: Path, data: YamlMapping, key: str, prompt_id: str) -> Prompt | None:
        value = data.get(key)
        line = data.line_of(key)
        if isinstance(value, str) and value.strip():
            text = tidy(value)
            return Prompt(prompt_id, text, text)
        if isinstance(value, YamlMapping):
            text = self.text(path, value, "text")
            say = self.text(path, value, "say") if "say" in value else text
            unknown = set(value) - {"text", "say"}
            if unknown:
                self.problem(path, value.line, f"{key!r} has unknown fields {sorted(unknown)}")
            if text and say:
                return Prompt(prompt_id, tidy(text), tidy(say))
            return None
        self.problem(path, line, f"{key!r} must be text, or a mapping with 'text' and 'say'")
        return None


def tidy(text: str) -> str:
    """Folded YAML leaves no stray spaces; keep the newlines of a literal block (SMS menus)."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines)
