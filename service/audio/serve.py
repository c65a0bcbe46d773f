"""Serve the clips: ``GET /audio/<name>`` (and HEAD), immutable and cacheable.

Only names shaped like a clip's (``CLIP_NAME``) are looked up, and Flask's
``send_from_directory`` joins them safely under the audio directory, so no
request can reach a file outside it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

from .manifest import CLIP_NAME

ONE_YEAR = 31536000

bp = Blueprint("audio", __name__)


def audio_dir() -> Path:
    """The app's audio directory: ``AUDIO_DIR``, else ``audio/`` beside the package."""
    configured = current_app.config.get("AUDIO_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "audio"


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
