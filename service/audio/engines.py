"""Text-to-speech engines for the audio build.

Each engine says who made it and under what licence (recorded in the
manifest), reports every setting that changes its output (part of each clip's
cache key), and turns text into mono float samples. Heavy imports happen on
first use (numpy too), so planning a no-op rebuild never loads a model and the
web process can list the engines without the build's requirements.
"""

from __future__ import annotations

import io
import subprocess
import time
import wave
from collections.abc import Callable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from .kokoro import KokoroEngine
from .speaking import LETTER_A, SPELLED_A, VOICES_DIR, Engine, EngineError

if TYPE_CHECKING:  # numpy is imported on first synthesis: `flask audio check` runs without it
    import numpy as np

__all__ = ["ENGINE_CHOICES", "LETTER_A", "SPELLED_A", "VOICES_DIR", "Engine", "EngineError", "EspeakEngine",
           "GttsEngine", "HibariEngine", "KokoroEngine", "make_engine"]

# offline: Kokoro with a British voice (the line's voice); hibari: its American voice, kept as a
# fallback; gtts: Google's British voice (needs the internet); espeak: a last resort.
ENGINE_CHOICES = ("offline", "hibari", "gtts", "espeak")


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
