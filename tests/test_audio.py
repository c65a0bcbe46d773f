"""The audio build: manifest, reproducibility, incremental rebuilds, orphans, processing.

A fast, deterministic stand-in engine (``ToneEngine``) keeps these tests quick.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import miniaudio
import numpy as np
import pytest
from flask import Flask

from service.audio import process
from service.audio.build import build
from service.audio.manifest import CLIP_NAME, MANIFEST_NAME, Manifest, ManifestError, text_sha256

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RATE = 16000  # not the output rate, so every build also resamples


class ToneEngine:
    """One tone per word, with silence either side; slow speech has longer tones."""

    name = "tone"
    voice = "beeps"

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[str, bool]] = []
        self.fail_on = fail_on

    def info(self) -> dict[str, str]:
        return {
            "engine": "tone 1",
            "licence": "test only",
            "voice": self.voice,
            "voice_licence": "test only",
            "note": "made in the tests",
        }

    def settings(self, slow: bool) -> dict[str, object]:
        return {"engine": self.name, "word_seconds": 0.15 if slow else 0.1}

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        self.calls.append((text, slow))
        if self.fail_on and self.fail_on in text:
            raise RuntimeError(f"engine failed on {text!r}")
        word_seconds = self.settings(slow)["word_seconds"]
        parts = [np.zeros(int(0.5 * RATE), np.float32)]
        for word in text.split():
            pitch = 200 + int(hashlib.sha256(word.encode()).hexdigest()[:4], 16) % 400
            t = np.arange(int(word_seconds * RATE)) / RATE
            parts.append((0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32))
            parts.append(np.zeros(int(0.03 * RATE), np.float32))
        parts.append(np.zeros(int(0.7 * RATE), np.float32))
        return np.concatenate(parts), RATE


TEXTS = {
    "welcome": "Welcome to the information line.",
    "menu_main": "For symptoms, press 1. For treatment, press 2.",
    "topic.symptoms": "Signs can include feeling very tired or weak.",
}


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def decode(path):
    sound = miniaudio.decode(
        path.read_bytes(), output_format=miniaudio.SampleFormat.FLOAT32, nchannels=1, sample_rate=24000
    )
    return np.asarray(sound.samples, dtype=np.float32)


def test_the_manifest_records_when_clips_were_last_made_and_a_build_with_nothing_to_do_changes_nothing(
        tmp_path, clock):
    import datetime as dt

    clock.set(dt.datetime(2026, 12, 6, 22, 53, 4, tzinfo=dt.UTC))
    build(TEXTS, tmp_path, ToneEngine())
    assert Manifest.load(tmp_path).built_at() == (dt.datetime(2026, 12, 6, 22, 53, 4, tzinfo=dt.UTC),
                                                  "recorded by the build")
    before = snapshot(tmp_path)
    clock.set(dt.datetime(2026, 12, 9, 8, 0, tzinfo=dt.UTC))
    build(TEXTS, tmp_path, ToneEngine())
    assert snapshot(tmp_path) == before
    build({**TEXTS, "goodbye": "Goodbye for now."}, tmp_path, ToneEngine())
    assert Manifest.load(tmp_path).built_at()[0] == dt.datetime(2026, 12, 9, 8, 0, tzinfo=dt.UTC)


def test_build_writes_two_clips_per_prompt_and_a_manifest(tmp_path):
    result = build(TEXTS, tmp_path, ToneEngine())

    data = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert set(data["prompts"]) == set(TEXTS)
    assert data["engines"]["tone"]["licence"] == "test only"
    for prompt_id, text in TEXTS.items():
        entry = data["prompts"][prompt_id]
        assert entry["text"] == text
        assert entry["text_sha256"] == text_sha256(text)
        assert (entry["engine"], entry["voice"]) == ("tone", "beeps")
        assert "test only" in entry["licence"]
        assert entry["settings"]["slow"]["word_seconds"] > entry["settings"]["normal"]["word_seconds"]
        for speed in ("normal", "slow"):
            clip = entry["clips"][speed]
            assert clip["file"].startswith(f"{prompt_id}-{speed}-")
            assert CLIP_NAME.match(clip["file"])
            assert clip["seconds"] > 0.5
        assert entry["clips"]["slow"]["seconds"] > entry["clips"]["normal"]["seconds"]
    assert sorted(result.built) == sorted(p.name for p in tmp_path.glob("*.mp3"))
    assert len(result.built) == 2 * len(TEXTS)


def test_clips_are_mono_mp3_at_24_khz_and_64_kbps(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    for path in tmp_path.glob("*.mp3"):
        info = miniaudio.mp3_get_info(path.read_bytes())
        assert (info.nchannels, info.sample_rate) == (1, 24000)
        kbps = path.stat().st_size * 8 / info.duration / 1000
        assert 60 <= kbps <= 68


def test_clips_share_one_loudness_and_a_fixed_silence_pad(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    for path in tmp_path.glob("*.mp3"):
        samples = decode(path)
        assert process.loudness(samples) == pytest.approx(process.TARGET_LUFS, abs=1.0)
        loud = np.flatnonzero(np.abs(samples) > 0.01)
        # The engine gave 0.5 s of silence before and 0.7 s after; the clip keeps about 0.2 s
        # (plus the MP3 encoder's own delay at the start).
        assert 0.15 < loud[0] / 24000 < 0.3
        assert 0.15 < (len(samples) - loud[-1]) / 24000 < 0.3


def test_same_text_and_settings_give_the_same_bytes(tmp_path, clock):
    # built_at comes from the line's clock: held still, so two builds a second apart match.
    build(TEXTS, tmp_path / "one", ToneEngine())
    build(TEXTS, tmp_path / "two", ToneEngine())
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_a_no_op_rebuild_synthesises_nothing_and_rewrites_nothing(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    before = {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    engine = ToneEngine()

    result = build(TEXTS, tmp_path, engine)

    assert engine.calls == []
    assert result.built == [] and result.removed == []
    assert len(result.kept) == 2 * len(TEXTS)
    assert {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == before


def test_changing_one_prompt_rebuilds_exactly_its_two_clips(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    before = snapshot(tmp_path)
    engine = ToneEngine()

    result = build({**TEXTS, "welcome": "Welcome to the information line for adults."}, tmp_path, engine)

    after = snapshot(tmp_path)
    gone = set(before) - set(after)
    new = set(after) - set(before)
    assert sorted(gone) == sorted(n for n in before if n.startswith("welcome-"))
    assert len(new) == 2 and all(n.startswith("welcome-") for n in new)
    assert sorted(result.built) == sorted(new)
    assert [slow for _, slow in engine.calls] == [False, True]
    for name in set(before) & set(after) - {MANIFEST_NAME}:
        assert before[name] == after[name]


def test_a_changed_engine_setting_rebuilds_the_clips_it_changes(tmp_path, monkeypatch):
    build(TEXTS, tmp_path, ToneEngine())
    monkeypatch.setattr(process, "TARGET_LUFS", -20.0)
    monkeypatch.setattr(process, "settings", lambda *prompt: {"target_lufs": -20.0})

    result = build(TEXTS, tmp_path, ToneEngine())

    assert len(result.built) == 2 * len(TEXTS)
    assert len(list(tmp_path.glob("*.mp3"))) == 2 * len(TEXTS)


def test_a_removed_prompt_and_stray_files_are_deleted(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    (tmp_path / "old-normal-0123456789ab.mp3").write_bytes(b"stale")
    (tmp_path / ".welcome-normal-x.mp3.abc.part").write_bytes(b"half")
    remaining = {k: v for k, v in TEXTS.items() if k != "menu_main"}

    result = build(remaining, tmp_path, ToneEngine())

    assert "menu_main" not in Manifest.load(tmp_path).prompts
    assert not list(tmp_path.glob("menu_main-*"))
    assert not (tmp_path / "old-normal-0123456789ab.mp3").exists()
    assert not list(tmp_path.glob(".*.part"))
    assert len(result.removed) == 4
    assert Manifest.load(tmp_path).problems(remaining) == []


def test_only_rebuilds_the_named_prompts(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    changed = {k: v + " Goodbye." for k, v in TEXTS.items()}
    engine = ToneEngine()

    build(changed, tmp_path, engine, only=["welcome"])

    assert {text for text, _ in engine.calls} == {changed["welcome"]}
    stale = {p.prompt_id for p in Manifest.load(tmp_path).problems(changed)}
    assert stale == {"menu_main", "topic.symptoms"}
    with pytest.raises(ValueError, match="no such prompt: nope"):
        build(changed, tmp_path, engine, only=["nope"])


def test_a_failing_engine_leaves_a_consistent_manifest_and_no_partial_clip(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    changed = {**TEXTS, "topic.symptoms": "Signs include bruising.", "welcome": "Welcome back."}

    with pytest.raises(RuntimeError, match="engine failed"):
        build(changed, tmp_path, ToneEngine(fail_on="Welcome back"))

    manifest = Manifest.load(tmp_path)
    # topic.symptoms was finished before the failure; welcome keeps its old clips.
    assert manifest.prompts["topic.symptoms"]["text"] == "Signs include bruising."
    assert manifest.prompts["welcome"]["text"] == TEXTS["welcome"]
    assert sorted(p.name for p in tmp_path.glob("*.mp3")) == sorted(manifest.files())
    assert not list(tmp_path.glob(".*"))
    assert [p.prompt_id for p in manifest.problems(changed)] == ["welcome"]


def test_prompts_with_a_placeholder_are_spoken_live(tmp_path):
    texts = {**TEXTS, "you_pressed": "You pressed {key}."}

    result = build(texts, tmp_path, ToneEngine())

    assert result.live == ["you_pressed"]
    manifest = Manifest.load(tmp_path)
    assert manifest.data["live"] == ["you_pressed"]
    assert manifest.clip("you_pressed", slow=False) is None
    assert manifest.problems(texts) == []


def test_a_corrupt_manifest_is_rebuilt(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    build(TEXTS, tmp_path, ToneEngine())
    assert Manifest.load(tmp_path).problems(TEXTS) == []


def test_a_prompt_id_that_cannot_name_a_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot name a clip"):
        build({"../escape": "Hello."}, tmp_path, ToneEngine())


# -- the manifest, as the web process reads it ---------------------------------------------


def test_manifest_lookup(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    manifest = Manifest.load(tmp_path)

    normal = manifest.clip("welcome", slow=False)
    slow = manifest.clip("welcome", slow=True)
    assert normal.startswith("welcome-normal-") and slow.startswith("welcome-slow-")
    assert manifest.text_hash("welcome") == text_sha256(TEXTS["welcome"])
    assert manifest.seconds("welcome", slow=True) > manifest.seconds("welcome", slow=False) > 0
    assert manifest.seconds("nope") is None
    assert manifest.clip("nope", slow=False) is None
    assert manifest.text_hash("nope") is None
    (tmp_path / slow).unlink()
    assert manifest.clip("welcome", slow=True) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no audio manifest"), ("{oops", "cannot read"), ('{"format": 99}', "not an audio manifest")],
)
def test_a_missing_or_corrupt_manifest_names_the_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / MANIFEST_NAME).write_text(content)
    with pytest.raises(ManifestError, match=message) as caught:
        Manifest.load(tmp_path)
    assert str(tmp_path / MANIFEST_NAME) in str(caught.value)


def test_problems_name_missing_stale_and_orphaned_clips(tmp_path):
    build(TEXTS, tmp_path, ToneEngine())
    manifest = Manifest.load(tmp_path)
    (tmp_path / manifest.clip("menu_main", slow=True)).unlink()
    (tmp_path / "stray-normal-0123456789ab.mp3").write_bytes(b"x")
    texts = {k: v for k, v in TEXTS.items() if k != "topic.symptoms"}
    texts["welcome"] = "Hello."
    texts["goodbye"] = "Goodbye."

    found = {(p.prompt_id, p.kind) for p in manifest.problems(texts)}

    assert found == {
        ("goodbye", "missing"),
        ("menu_main", "missing"),
        ("welcome", "stale"),
        ("topic.symptoms", "orphaned"),
        ("stray-normal-0123456789ab.mp3", "orphaned"),
    }


# -- flask audio check / build -------------------------------------------------------------


@pytest.fixture
def cli_app(tmp_path, monkeypatch):
    from service.cli import audio as cli

    texts = dict(TEXTS)
    monkeypatch.setattr(cli, "_spoken_texts", lambda: texts)
    app = Flask(__name__)
    app.config["AUDIO_DIR"] = tmp_path
    app.cli.add_command(cli.audio_cli)
    app.texts = texts
    return app


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=["audio", *args])


def test_check_passes_when_every_clip_is_current(cli_app, tmp_path):
    build(cli_app.texts, tmp_path, ToneEngine())
    result = run_cli(cli_app, "check")
    assert result.exit_code == 0, result.output
    assert "audio ok: 3 prompts" in result.output


def test_check_fails_naming_each_problem(cli_app, tmp_path):
    build(cli_app.texts, tmp_path, ToneEngine())
    cli_app.texts["welcome"] = "Hello there."
    cli_app.texts["goodbye"] = "Goodbye."
    cli_app.texts["press"] = "You pressed {key}."
    del cli_app.texts["menu_main"]

    result = run_cli(cli_app, "check")

    assert result.exit_code == 1
    assert "stale: welcome" in result.output
    assert "missing: goodbye" in result.output
    assert "orphaned: menu_main" in result.output
    assert "spoken live: press" in result.output
    assert "3 audio problem(s)" in result.output


def test_check_without_a_manifest_names_the_file(cli_app, tmp_path):
    result = run_cli(cli_app, "check")
    assert result.exit_code == 1
    assert str(tmp_path / MANIFEST_NAME) in result.output


def test_build_refuses_an_unknown_prompt(cli_app):
    result = run_cli(cli_app, "build", "--only", "nope")
    assert result.exit_code == 1
    assert "no such prompt: nope" in result.output


def test_the_web_side_imports_no_build_dependency():
    code = (
        "import sys, service.web.clip_files, service.audio.manifest, service.web.clips, service.cli.audio;"
        "heavy = {'numpy', 'lameenc', 'soxr', 'miniaudio', 'tqdm', 'hibari', 'onnxruntime', 'gtts'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert done.stdout.strip() == "[]"


def test_the_committed_clips_match_the_prompts():
    from service.content import load_catalogue

    texts = load_catalogue().spoken_texts()
    assert Manifest.load(PROJECT_ROOT / "audio").problems(texts) == []
