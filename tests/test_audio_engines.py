"""The real offline engines: hibari-tts is reproducible, espeak-ng works as a last resort.

Each test runs where its engine is installed (requirements-audio.txt, Debian's
espeak-ng) and is skipped elsewhere.
"""

from __future__ import annotations

import shutil

import pytest

from service.audio.build import build
from service.audio.engines import EspeakEngine, HibariEngine
from service.audio.manifest import Manifest

TEXTS = {"slow_on": "Speaking more slowly now."}


@pytest.fixture
def hibari():
    pytest.importorskip("hibari")


def test_two_fresh_hibari_engines_give_identical_samples(hibari):
    first, rate = HibariEngine().synthesize(TEXTS["slow_on"], slow=False)
    second, _ = HibariEngine().synthesize(TEXTS["slow_on"], slow=False)
    assert rate == 24000
    assert first.tobytes() == second.tobytes()


def test_hibari_builds_are_byte_identical_and_slow_is_slower(hibari, tmp_path):
    build(TEXTS, tmp_path / "one", HibariEngine())
    build(TEXTS, tmp_path / "two", HibariEngine())

    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
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
