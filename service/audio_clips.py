"""Which pre-generated clip plays for a prompt: the manifest, read once at start-up.

A clip is used only when the manifest's text hash matches the words the prompt
has now, so a caller never hears yesterday's words; anything else is spoken
live with ``<Say>`` (and logged once by the Speaker).
"""
from __future__ import annotations

import logging

from flask import Flask, url_for

from .audio.manifest import Manifest, ManifestError, text_sha256
from .content import Catalogue
from .twiml import Speaker
from .urls import public_url

log = logging.getLogger(__name__)


def init_clips(app: Flask, cat: Catalogue) -> None:
    try:
        manifest = Manifest.load(app.config["AUDIO_DIR"])
    except ManifestError as error:
        log.error("%s: every prompt will be spoken live", error)
        manifest = Manifest.empty(app.config["AUDIO_DIR"])

    current: dict[tuple[str, bool], str] = {}
    durations: dict[str, float] = {}
    stale = []
    for prompt_id, prompt in cat.voice_prompts().items():
        if manifest.text_hash(prompt_id) != text_sha256(prompt.say):
            stale.append(prompt_id)
            continue
        for slow in (False, True):
            name = manifest.clip(prompt_id, slow)
            if name:
                current[(prompt_id, slow)] = name
        seconds = manifest.seconds(prompt_id, False)
        if seconds is not None:
            durations[prompt_id] = seconds
    if stale:
        log.warning("no current clip for %d prompts (%s): run `make audio`", len(stale), ", ".join(sorted(stale)))

    cdn = app.config.get("AUDIO_BASE_URL")

    def clip_url(prompt_id: str, slow: bool) -> str | None:
        name = current.get((prompt_id, slow))
        if name is None:
            return None
        if cdn:
            return f"{cdn}/{name}"
        return public_url(url_for("audio.clip", name=name))

    app.extensions["line.clip_count"] = len(current)
    app.extensions["line.clip_durations"] = durations
    app.extensions["line.speaker"] = Speaker(cat, clip_url, app.config["SAY_VOICE"])
