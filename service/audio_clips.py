"""Which pre-generated clip plays for a prompt: the manifest, looked up once at start-up."""
from __future__ import annotations

import logging

from flask import Flask

from .content import Catalogue
from .twiml import Speaker

log = logging.getLogger(__name__)


def init_clips(app: Flask, cat: Catalogue) -> None:
    def no_clip(prompt_id: str, slow: bool) -> None:
        return None

    app.extensions["line.clip_count"] = 0
    app.extensions["line.clip_durations"] = {}
    app.extensions["line.speaker"] = Speaker(cat, no_clip, app.config["SAY_VOICE"])
