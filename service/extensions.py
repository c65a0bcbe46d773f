"""What create_app loads once and every request reads, in one typed home in ``app.extensions``:
the catalogue, the clips, the speaker and the speech hints. Read them through ``loaded()``."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from .audio.clips import Clips
from .content import Catalogue
from .twiml import Speaker

KEY = "line"


@dataclass(frozen=True)
class Loaded:
    catalogue: Catalogue
    clips: Clips
    speaker: Speaker
    # Speech hints for every <Gather>: the first words of each topic, menu and command.
    hints: str


def init_app(app: Flask, catalogue: Catalogue, clips: Clips) -> Loaded:
    loaded = Loaded(catalogue, clips, Speaker(catalogue, clips.url, app.config["SAY_VOICE"]), catalogue.voice_hints())
    app.extensions[KEY] = loaded
    return loaded


def loaded(app: Flask | None = None) -> Loaded:
    """This app's (or the current app's) loaded parts."""
    return (app or current_app).extensions[KEY]


def current_catalogue() -> Catalogue:
    """The running app's catalogue, loaded and checked once at start-up."""
    return loaded().catalogue
