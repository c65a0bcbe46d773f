"""Audio build benchmark: size and length of the clips, full and no-op build times.

    python bench/audio_bench.py                 # offline engine, into a fresh temporary folder
    python bench/audio_bench.py --engine espeak

Builds every voice prompt from prompts/ from scratch, then runs the build again
in a new process (a no-op: what `flask audio build` costs when nothing changed,
imports included), and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.audio.build import build  # noqa: E402
from service.audio.engines import ENGINE_CHOICES, make_engine  # noqa: E402
from service.audio.manifest import Manifest  # noqa: E402
from service.content import load_catalogue  # noqa: E402

NO_OP = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from service.audio.build import build
from service.audio.engines import make_engine
from service.content import load_catalogue
result = build(load_catalogue().spoken_texts(), Path({out!r}), make_engine({engine!r}))
assert not result.built, result.built
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default="offline")
    args = parser.parse_args()
    texts = load_catalogue().spoken_texts()

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        build(texts, out, make_engine(args.engine), progress=True)
        full = time.perf_counter() - started

        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", NO_OP.format(root=str(ROOT), out=str(out), engine=args.engine)], check=True
        )
        no_op = time.perf_counter() - started

        manifest = Manifest.load(out)
        clips = sorted(out.glob("*.mp3"))
        size = sum(path.stat().st_size for path in clips)
        rows = [
            ("engine", args.engine),
            ("prompts", str(len(manifest.prompts))),
            ("clips", str(len(clips))),
            ("total size", f"{size / 1024:.0f} KiB"),
        ]
        for speed in ("normal", "slow"):
            seconds = [entry["clips"][speed]["seconds"] for entry in manifest.prompts.values()]
            longest = max(manifest.prompts, key=lambda pid: manifest.prompts[pid]["clips"][speed]["seconds"])
            rows += [
                (f"{speed}: total audio", f"{sum(seconds):.1f} s"),
                (f"{speed}: median clip", f"{statistics.median(seconds):.2f} s"),
                (f"{speed}: longest clip", f"{max(seconds):.2f} s ({longest})"),
            ]
        rows += [("full build", f"{full:.1f} s"), ("no-op rebuild (new process)", f"{no_op:.2f} s")]

    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
