"""What create_app loads once and every request reads, in one typed home in ``app.extensions``:
the catalogue, the clips, the speaker and the speech hints. Read them through ``loaded()``."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from ..content import Catalogue
from .clips import Clips
from .twiml import Speaker, Templates

KEY = "line"


@dataclass(frozen=True)
class Loaded:
    catalogue: Catalogue
    clips: Clips
    speaker: Speaker
    # Speech hints for every <Gather>: the first words of each topic, menu and command.
    hints: str
    # Each distinct turn's TwiML, built once.
    templates: Templates


def init_app(app: Flask, catalogue: Catalogue, clips: Clips) -> Loaded:
    speaker = Speaker(catalogue, clips.url, app.config["SAY_VOICE"])
    hints = catalogue.voice_hints()
    templates = Templates(speaker, hints=hints, timeout=app.config["GATHER_TIMEOUT_SECONDS"],
                          dial_timeout=app.config["DIAL_TIMEOUT_SECONDS"])
    loaded = Loaded(catalogue, clips, speaker, hints, templates)
    app.extensions[KEY] = loaded
    return loaded


def loaded(app: Flask | None = None) -> Loaded:
    """This app's (or the current app's) loaded parts."""
    return (app or current_app).extensions[KEY]


def current_catalogue() -> Catalogue:
    """The running app's catalogue, loaded and checked once at start-up."""
    return loaded().catalogue
