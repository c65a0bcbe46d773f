"""The gTTS engine, run for real against a fake of Google Translate's endpoint."""

from __future__ import annotations

import base64
import json
import urllib.parse

import numpy as np
import pytest
import responses

from service.audio import process
from service.audio.build import build
from service.audio.engines import EngineError, GttsEngine
from service.audio.manifest import Manifest

ENDPOINT = "https://translate.google.co.uk/_/TranslateWebserverUi/data/batchexecute"
TEXTS = {"welcome": "Welcome to the line.", "goodbye": "Goodbye."}


def mp3_tone(seconds: float = 1.0) -> bytes:
    t = np.arange(int(seconds * process.SAMPLE_RATE)) / process.SAMPLE_RATE
    return process.encode_mp3((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))


def batchexecute_body(audio: bytes) -> str:
    """What the endpoint answers: a guard line, then an RPC envelope holding base64 MP3."""
    payload = json.dumps([base64.b64encode(audio).decode("ascii")])
    envelope = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]], separators=(",", ":"))
    return f")]}}'\n\n{len(envelope)}\n{envelope}\n"


def sent_parameters(call) -> list:
    """The [text, lang, slow, ...] that gTTS packed into a request."""
    form = urllib.parse.parse_qs(call.request.body)
    rpc = json.loads(form["f.req"][0])
    return json.loads(rpc[0][0][1])


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def engine(fake_time: FakeTime, retries: int = 2) -> GttsEngine:
    return GttsEngine(timeout=7, pause=1.0, retries=retries, backoff=3.0, sleep=fake_time.sleep, clock=fake_time.clock)


@responses.activate
def test_builds_british_english_clips_at_both_speeds(tmp_path):
    responses.post(ENDPOINT, body=batchexecute_body(mp3_tone()))
    fake_time = FakeTime()

    build(TEXTS, tmp_path, engine(fake_time))

    calls = sorted(json.dumps(sent_parameters(call)) for call in responses.calls)
    assert calls == sorted(
        json.dumps(parameters)
        for parameters in [
            ["Goodbye.", "en", None, "null"],
            ["Goodbye.", "en", True, "null"],
            ["Welcome to the line.", "en", None, "null"],
            ["Welcome to the line.", "en", True, "null"],
        ]
    )
    assert all(call.request.req_kwargs["timeout"] == 7 for call in responses.calls)
    assert fake_time.sleeps == [1.0, 1.0, 1.0]  # polite pacing between requests
    manifest = Manifest.load(tmp_path)
    assert manifest.prompts["welcome"]["engine"] == "gtts"
    assert manifest.prompts["welcome"]["settings"]["slow"]["tld"] == "co.uk"
    assert manifest.problems(TEXTS) == []


@responses.activate
def test_a_429_is_retried_after_a_pause(tmp_path):
    responses.post(ENDPOINT, status=429)
    responses.post(ENDPOINT, body=batchexecute_body(mp3_tone()))
    fake_time = FakeTime()

    build({"goodbye": "Goodbye."}, tmp_path, engine(fake_time))

    assert len(responses.calls) == 3  # 429, then normal, then slow
    assert fake_time.sleeps[0] == 3.0  # the back-off
    assert Manifest.load(tmp_path).problems({"goodbye": "Goodbye."}) == []


@responses.activate
def test_too_many_429s_give_up_with_a_clear_error(tmp_path):
    responses.post(ENDPOINT, status=429)
    fake_time = FakeTime()

    with pytest.raises(EngineError, match="429"):
        build({"goodbye": "Goodbye."}, tmp_path, engine(fake_time, retries=2))

    assert len(responses.calls) == 3
    assert fake_time.sleeps == [3.0, 6.0]  # doubling back-off


@responses.activate
def test_a_failure_leaves_no_partial_clip(tmp_path):
    responses.post(ENDPOINT, body=batchexecute_body(mp3_tone()))
    responses.post(ENDPOINT, status=500)

    with pytest.raises(EngineError, match="500"):
        build({"goodbye": "Goodbye."}, tmp_path, engine(FakeTime()))

    # The normal clip was made, the slow one failed: neither stays, and nothing half-written.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["manifest.json"]
    assert Manifest.load(tmp_path).prompts == {}


@responses.activate
def test_an_answer_without_audio_is_an_error(tmp_path):
    responses.post(ENDPOINT, body=')]}\'\n\n[["wrb.fr","jQ1olc",null]]\n')

    with pytest.raises(EngineError):
        build({"goodbye": "Goodbye."}, tmp_path, engine(FakeTime()))

    assert not list(tmp_path.glob("*.mp3"))
