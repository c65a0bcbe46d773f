"""Serve the clips: ``GET /audio/<name>`` (and HEAD), immutable and cacheable.

Only names shaped like a clip's (``CLIP_NAME``) are looked up, and Flask's
``send_from_directory`` joins them safely under the audio directory, so no
request can reach a file outside it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory, url_for

from ..audio.manifest import CLIP_NAME
from .urls import public_url

ONE_YEAR = 31536000

bp = Blueprint("audio", __name__)


def audio_dir() -> Path:
    """The app's audio directory: ``AUDIO_DIR``, else ``audio/`` beside the package."""
    configured = current_app.config.get("AUDIO_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "audio"


def clip_url(name: str, external: bool = False) -> str | None:
    """Where a clip is fetched: on AUDIO_BASE_URL when it is set, else from this app: on the public
    origin when ``external`` (Twilio's ``<Play>``), otherwise a path (the console's page). None
    when this app serves no clips."""
    base = current_app.config.get("AUDIO_BASE_URL")
    if base:
        return f"{base}/{name}"
    if "audio.clip" not in current_app.view_functions:
        return None
    path = url_for("audio.clip", name=name)
    return public_url(path) if external else path


@bp.get("/audio/<name>")
def clip(name: str):
    if not CLIP_NAME.match(name):
        abort(404)
    # The name carries the clip's cache key and a build is reproducible, so the name is a
    # strong ETag that is the same on every machine (unlike one made from the file's mtime).
    response = send_from_directory(
        audio_dir(), name, mimetype="audio/mpeg", conditional=True, etag=name.removesuffix(".mp3"), max_age=ONE_YEAR
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
