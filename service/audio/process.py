"""Turn an engine's samples into a finished clip: trim, normalise loudness, encode MP3.

Loudness is measured as in ITU-R BS.1770-4 (K-weighting, 400 ms gated blocks).
pyloudnorm would do the same but pulls in scipy, and hibari switches its FFT
backend to scipy when scipy is importable, which would change every clip's
bytes; so the K-weighting filter is applied here with numpy, through its impulse
response.
"""

from __future__ import annotations

import functools
import math

import lameenc
import numpy as np
import soxr

SAMPLE_RATE = 24000  # MPEG-2 Layer III, mono
BITRATE_KBPS = 64  # 32 lost the /f/ of "four" and the last /s/ of "transplants" (heard "Thor", "transplant")
TARGET_LUFS = -19.0
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS
PAD_SECONDS = 0.2  # silence kept before and after the speech
# A read-back's digits are joined tight, in groups (see prompts/line.yaml): 0.06 s each side, so two
# digits are 0.12 s apart; a ``_then`` digit (a group's last, or with more of the same digit after it:
# "double 0, double 0") has 0.36 s after it (0.56 s on the slow line), so a group is heard ending.
DIGIT_PADS = (0.06, 0.06)
DIGIT_THEN_PADS = {False: (0.06, 0.36), True: (0.06, 0.56)}
SILENCE_BELOW_DB = -45.0  # a 10 ms frame this far below the loudest frame is silence
FADE_SECONDS = 0.005


def pads(prompt_id: str, slow: bool = False) -> tuple[float, float]:
    """Seconds of silence kept before and after a prompt's speech."""
    if prompt_id.startswith("digit_"):
        return DIGIT_THEN_PADS[slow] if prompt_id.endswith("_then") else DIGIT_PADS
    return PAD_SECONDS, PAD_SECONDS


def settings(prompt_id: str = "", slow: bool = False) -> dict[str, object]:
    """Everything about the processing that changes the bytes of a clip (of ``prompt_id``)."""
    before, after = pads(prompt_id, slow)
    return {
        "sample_rate": SAMPLE_RATE,
        "bitrate_kbps": BITRATE_KBPS,
        "target_lufs": TARGET_LUFS,
        "peak_ceiling_dbfs": -1.0,
        **({"pad_seconds": PAD_SECONDS} if before == after == PAD_SECONDS else {"pad_seconds": [before, after]}),
        "silence_below_db": SILENCE_BELOW_DB,
        "numpy": np.__version__,
        "lameenc": _version("lameenc"),
        "soxr": _version("soxr"),
    }


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if rate == SAMPLE_RATE:
        return samples
    return soxr.resample(samples, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)


def trim(samples: np.ndarray, rate: int = SAMPLE_RATE, pad: tuple[float, float] = (PAD_SECONDS, PAD_SECONDS)
         ) -> np.ndarray:
    """Cut leading and trailing silence, then add exactly ``pad`` seconds of silence before and after."""
    frame = rate // 100
    before, after = (np.zeros(int(seconds * rate), np.float32) for seconds in pad)
    usable = len(samples) // frame * frame
    if usable == 0:
        return np.concatenate([before, after])
    rms = np.sqrt(np.mean(samples[:usable].reshape(-1, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > max(rms.max() * 10 ** (SILENCE_BELOW_DB / 20), 1e-5))
    if loud.size == 0:
        return np.concatenate([before, after])
    # One frame of margin keeps soft onsets ("f", "h") and the tail of the last word.
    start = max(loud[0] - 1, 0) * frame
    end = min((loud[-1] + 2) * frame, len(samples))
    speech = samples[start:end].astype(np.float32)
    fade = min(int(FADE_SECONDS * rate), len(speech) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        speech[:fade] *= ramp
        speech[-fade:] *= ramp[::-1]
    return np.concatenate([before, speech, after])


@functools.lru_cache(maxsize=4)
def _k_weighting_response(rate: int) -> np.ndarray:
    """Impulse response of BS.1770's two K-weighting biquads (shelf, then high-pass)."""
    stages = []
    shelf_gain_db, shelf_q, shelf_hz = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    a_gain = 10 ** (shelf_gain_db / 40)
    w0 = 2 * math.pi * shelf_hz / rate
    alpha = math.sin(w0) / (2 * shelf_q)
    cos_w0, sqrt_a = math.cos(w0), math.sqrt(a_gain)
    stages.append(
        (
            (
                a_gain * ((a_gain + 1) + (a_gain - 1) * cos_w0 + 2 * sqrt_a * alpha),
                -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos_w0),
                a_gain * ((a_gain + 1) + (a_gain - 1) * cos_w0 - 2 * sqrt_a * alpha),
            ),
            (
                (a_gain + 1) - (a_gain - 1) * cos_w0 + 2 * sqrt_a * alpha,
                2 * ((a_gain - 1) - (a_gain + 1) * cos_w0),
                (a_gain + 1) - (a_gain - 1) * cos_w0 - 2 * sqrt_a * alpha,
            ),
        )
    )
    pass_q, pass_hz = 0.5003270373238773, 38.13547087602444
    w0 = 2 * math.pi * pass_hz / rate
    alpha = math.sin(w0) / (2 * pass_q)
    cos_w0 = math.cos(w0)
    stages.append(
        (
            ((1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2),
            (1 + alpha, -2 * cos_w0, 1 - alpha),
        )
    )
    length = rate // 2  # both filters have died away long before half a second
    signal = [0.0] * length
    signal[0] = 1.0
    for (b0, b1, b2), (a0, a1, a2) in stages:
        out = [0.0] * length
        x1 = x2 = y1 = y2 = 0.0
        for i, x in enumerate(signal):
            y = (b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0
            out[i], x2, x1, y2, y1 = y, x1, x, y1, y
        signal = out
    return np.asarray(signal)


def loudness(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Integrated loudness in LUFS (BS.1770-4, mono); -inf for silence."""
    response = _k_weighting_response(rate)
    size = 1 << (len(samples) + len(response) - 2).bit_length()  # a power of two: a fast FFT
    weighted = np.fft.irfft(np.fft.rfft(samples.astype(np.float64), size) * np.fft.rfft(response, size), size)[
        : len(samples)
    ]
    block, step = int(0.4 * rate), int(0.1 * rate)
    if len(weighted) <= block:
        powers = np.array([np.mean(weighted**2)])
    else:
        squares = np.concatenate([[0.0], np.cumsum(weighted**2)])
        starts = np.arange(0, len(weighted) - block + 1, step)
        powers = (squares[starts + block] - squares[starts]) / block
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(powers)
    gated = powers[levels > -70.0]
    if gated.size == 0:
        return float("-inf")
    relative_gate = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    with np.errstate(divide="ignore"):
        gated = gated[-0.691 + 10 * np.log10(gated) > relative_gate]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def normalise(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Scale to TARGET_LUFS, never letting a peak pass PEAK_CEILING."""
    level = loudness(samples, rate)
    if not math.isfinite(level):
        return samples
    gain = 10 ** ((TARGET_LUFS - level) / 20)
    peak = float(np.max(np.abs(samples)))
    if peak * gain > PEAK_CEILING:
        gain = PEAK_CEILING / peak
    return (samples * gain).astype(np.float32)


def encode_mp3(samples: np.ndarray) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_out_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def decode_mp3(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples and their rate from MP3 bytes (for engines that return MP3)."""
    import miniaudio

    info = miniaudio.mp3_get_info(data)
    decoded = miniaudio.decode(
        data, output_format=miniaudio.SampleFormat.FLOAT32, nchannels=1, sample_rate=info.sample_rate
    )
    return np.asarray(decoded.samples, dtype=np.float32), info.sample_rate


def finish(samples: np.ndarray, rate: int, prompt_id: str = "", slow: bool = False) -> tuple[bytes, float]:
    """An engine's samples -> (MP3 bytes, seconds of audio)."""
    ready = normalise(trim(resample(samples, rate), pad=pads(prompt_id, slow)))
    return encode_mp3(ready), round(len(ready) / SAMPLE_RATE, 3)
