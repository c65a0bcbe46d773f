"""Serving clips: headers Twilio and caches rely on, ranges, and no way out of audio/."""

from __future__ import annotations

import pytest
from flask import Flask

from service.web.clip_files import bp

CLIP = "welcome-normal-0123456789ab.mp3"
BODY = bytes(range(256)) * 20


def fetch(client, path, method="GET", **kwargs):
    """Make a request and close the response, so no served file is left open."""
    response = client.open(path, method=method, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def client(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / CLIP).write_bytes(BODY)
    (audio / "manifest.json").write_text("{}")
    (tmp_path / "secret-normal-0123456789ab.mp3").write_bytes(b"secret")
    app = Flask(__name__)
    app.config["AUDIO_DIR"] = audio
    app.register_blueprint(bp)
    return app.test_client()


def test_a_clip_is_served_as_immutable_mpeg_audio(client):
    response = fetch(client, f"/audio/{CLIP}")
    assert response.status_code == 200
    assert response.data == BODY
    assert response.mimetype == "audio/mpeg"
    assert response.cache_control.public
    assert response.cache_control.max_age == 31536000
    assert response.cache_control.immutable
    assert response.headers["ETag"] == '"welcome-normal-0123456789ab"'
    assert response.headers["Accept-Ranges"] == "bytes"


def test_head_gives_the_headers_without_the_body(client):
    response = fetch(client, f"/audio/{CLIP}", method="HEAD")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(BODY))
    assert response.mimetype == "audio/mpeg"


def test_a_byte_range_gets_206(client):
    response = fetch(client, f"/audio/{CLIP}", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.data == BODY[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(BODY)}"


def test_a_matching_etag_gets_304(client):
    etag = fetch(client, f"/audio/{CLIP}").headers["ETag"]
    response = fetch(client, f"/audio/{CLIP}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


@pytest.mark.parametrize(
    "path",
    [
        "/audio/goodbye-normal-0123456789ab.mp3",
        "/audio/manifest.json",
        "/audio/welcome.mp3",
        "/audio/../service/__init__.py",
        "/audio/..%2fservice%2f__init__.py",
        "/audio/..%2fsecret-normal-0123456789ab.mp3",
        "/audio/%2e%2e%2fsecret-normal-0123456789ab.mp3",
        "/audio/..%5csecret-normal-0123456789ab.mp3",
        "/audio/%2fetc%2fpasswd",
        "/audio/",
    ],
)
def test_anything_but_a_clip_in_audio_is_404(client, path):
    assert fetch(client, path).status_code == 404


def test_the_default_directory_is_audio_beside_the_package(tmp_path):
    app = Flask(__name__, root_path=str(tmp_path / "service"))
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / CLIP).write_bytes(BODY)
    app.register_blueprint(bp)
    assert fetch(app.test_client(), f"/audio/{CLIP}").data == BODY
