"""Read ``audio/manifest.json`` and compare it with the prompts (stdlib only).

The manifest maps every voice prompt id to the exact text spoken, a hash of
that text, the engine and voice, and one clip per speed::

    {"format": 1,
     "engines": {"hibari": {"version": ..., "licence": ..., "voice": ..., ...}},
     "prompts": {"welcome": {"text": ..., "text_sha256": ..., "engine": "hibari",
                             "voice": "heart", "licence": ..., "settings": {...},
                             "clips": {"normal": {"file": ..., "seconds": 4.12},
                                       "slow": {"file": ..., "seconds": 5.03}}}},
     "live": ["..."]}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
FORMAT = 1
SPEEDS = ("normal", "slow")
# A clip's file name: the prompt id, the speed and 12 hex digits of its cache key.
CLIP_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.]*-(normal|slow)-[0-9a-f]{12}\.mp3$")
# A text with a {placeholder} changes from call to call, so it is spoken live with <Say>.
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


class ManifestError(RuntimeError):
    """The manifest is missing or unreadable; the message names the file."""


class ManifestMissing(ManifestError):
    """There is no manifest at all (no clip was ever built there)."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def spoken_live(texts: dict[str, str]) -> list[str]:
    """Prompt ids whose text has a placeholder and so gets no clip."""
    return sorted(pid for pid, text in texts.items() if PLACEHOLDER.search(text))


@dataclass(frozen=True)
class Problem:
    prompt_id: str
    kind: str  # "missing", "stale" or "orphaned"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.prompt_id} ({self.detail})"


class Manifest:
    def __init__(self, audio_dir: Path, data: dict[str, Any]):
        self.audio_dir = Path(audio_dir)
        self.data = data

    @classmethod
    def empty(cls, audio_dir: Path) -> Manifest:
        return cls(audio_dir, {"format": FORMAT, "engines": {}, "prompts": {}, "live": []})

    @classmethod
    def load(cls, audio_dir: Path) -> Manifest:
        path = Path(audio_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestMissing(
                f"{path}: no audio manifest; build the clips with `flask --app service audio build`"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{path}: cannot read the audio manifest: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("prompts"), dict):
            raise ManifestError(
                f"{path}: not an audio manifest of format {FORMAT}; rebuild it with `flask --app service audio build`"
            )
        return cls(audio_dir, data)

    @property
    def prompts(self) -> dict[str, dict[str, Any]]:
        return self.data["prompts"]

    def entry(self, prompt_id: str) -> dict[str, Any] | None:
        return self.prompts.get(prompt_id)

    def text_hash(self, prompt_id: str) -> str | None:
        entry = self.entry(prompt_id)
        return entry["text_sha256"] if entry else None

    @property
    def live(self) -> set[str]:
        """Prompt ids the build left to be spoken live (a placeholder in their words)."""
        return set(self.data.get("live") or ())

    def is_current(self, prompt_id: str, text: str) -> bool:
        """True when the prompt's clips say ``text``: the words they were built from hash the same
        (a hand-made entry without ``text_sha256`` is judged by the words it records)."""
        entry = self.entry(prompt_id)
        if not entry:
            return False
        built_from = entry.get("text_sha256") or text_sha256(str(entry.get("text", "")))
        return built_from == text_sha256(text)

    def status(self, prompt_id: str, text: str) -> str:
        """"spoken live", "missing", "stale" (the words changed since the build) or "current"."""
        if prompt_id in self.live:
            return "spoken live"
        if not self.entry(prompt_id):
            return "missing"
        return "current" if self.is_current(prompt_id, text) else "stale"

    def built_at(self) -> tuple[dt.datetime | None, str]:
        """When the clips were built, and how that is known."""
        recorded = self.data.get("built_at")
        if isinstance(recorded, str):
            try:
                value = dt.datetime.fromisoformat(recorded)
                return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)), "recorded by the build"
            except ValueError:
                pass
        try:
            modified = (self.audio_dir / MANIFEST_NAME).stat().st_mtime
        except OSError:
            return None, "unknown"
        return dt.datetime.fromtimestamp(modified, dt.UTC), "when the manifest file last changed"

    def clip(self, prompt_id: str, slow: bool = False) -> str | None:
        """The clip's file name, or None when there is no clip or its file is gone."""
        entry = self.entry(prompt_id)
        clip = entry and entry.get("clips", {}).get("slow" if slow else "normal")
        if not clip:
            return None
        name = clip["file"]
        if not CLIP_NAME.match(name) or not (self.audio_dir / name).is_file():
            return None
        return name

    def seconds(self, prompt_id: str, slow: bool = False) -> float | None:
        """How long the clip plays, or None when there is no clip."""
        entry = self.entry(prompt_id)
        clip = entry and entry.get("clips", {}).get("slow" if slow else "normal")
        return clip["seconds"] if clip else None

    def files(self) -> set[str]:
        """Every clip file name the manifest refers to."""
        return {clip["file"] for entry in self.prompts.values() for clip in entry.get("clips", {}).values()}

    def problems(self, texts: dict[str, str]) -> list[Problem]:
        """Every clip that is missing, stale or orphaned for these spoken texts."""
        found: list[Problem] = []
        live = set(spoken_live(texts))
        for prompt_id, text in sorted(texts.items()):
            if prompt_id in live:
                continue
            entry = self.entry(prompt_id)
            if entry is None:
                found.append(Problem(prompt_id, "missing", "not in the manifest"))
                continue
            if not self.is_current(prompt_id, text):
                found.append(Problem(prompt_id, "stale", "the text changed since the clip was built"))
            for speed in SPEEDS:
                clip = entry.get("clips", {}).get(speed)
                if not clip:
                    found.append(Problem(prompt_id, "missing", f"no {speed} clip"))
                elif not (self.audio_dir / clip["file"]).is_file():
                    found.append(Problem(prompt_id, "missing", f"file {clip['file']} is gone"))
        for prompt_id in sorted(set(self.prompts) - set(texts)):
            found.append(Problem(prompt_id, "orphaned", "no such prompt any more"))
        referenced = self.files()
        if self.audio_dir.is_dir():
            for path in sorted(self.audio_dir.glob("*.mp3")):
                if path.name not in referenced:
                    found.append(Problem(path.name, "orphaned", "file not in the manifest"))
        return found
