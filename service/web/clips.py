"""Which pre-generated clip plays for a prompt: the manifest, read once at start-up.

A clip is used only when the manifest says it was built from the words the prompt
has now, so a caller never hears yesterday's words; anything else is spoken live
with ``<Say>`` (and logged once by the Speaker).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..audio.manifest import Manifest, ManifestError
from ..content import Catalogue
from .clip_files import clip_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clips:
    """The current clip of each voice prompt at each speed, and how long each normal clip plays."""

    names: dict[tuple[str, bool], str]
    durations: dict[str, float]

    @property
    def count(self) -> int:
        return len(self.names)

    def url(self, prompt_id: str, slow: bool) -> str | None:
        """The clip's absolute URL for ``<Play>``, or None: no current clip (say the words)."""
        name = self.names.get((prompt_id, slow))
        return clip_url(name, external=True) if name else None


def load_clips(audio_dir: Path, cat: Catalogue) -> Clips:
    try:
        manifest = Manifest.load(audio_dir)
    except ManifestError as error:
        log.error("%s: every prompt will be spoken live", error)
        manifest = Manifest.empty(audio_dir)

    names: dict[tuple[str, bool], str] = {}
    durations: dict[str, float] = {}
    stale = []
    for prompt_id, prompt in cat.voice_prompts().items():
        if not manifest.is_current(prompt_id, prompt.say):
            stale.append(prompt_id)
            continue
        for slow in (False, True):
            name = manifest.clip(prompt_id, slow)
            if name:
                names[(prompt_id, slow)] = name
        seconds = manifest.seconds(prompt_id, False)
        if seconds is not None:
            durations[prompt_id] = seconds
    if stale:
        log.warning("no current clip for %d prompts (%s): run `make audio`", len(stale), ", ".join(sorted(stale)))
    return Clips(names, durations)
