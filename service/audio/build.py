"""Build a clip per prompt and speed, incrementally, and write the manifest.

A clip's file name carries 12 hex digits of a cache key: the hash of the text
and of every setting that changes the bytes (engine, versions, voice, speed,
processing). A clip whose key is unchanged and whose file is present is kept;
everything else is synthesised. Files are written to a temporary name and
renamed, so an interrupted build never leaves a partial clip, and after every
build (finished or not) the manifest is rewritten and clips it does not name
are deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..basics import clock
from . import process
from .engines import Engine
from .manifest import CLIP_NAME, FORMAT, MANIFEST_NAME, SPEEDS, Manifest, ManifestError, spoken_live, text_sha256

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    built: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)


def clip_name(prompt_id: str, speed: str, text: str, settings: dict[str, Any]) -> str:
    key = hashlib.sha256(json.dumps({"text": text, "settings": settings}, sort_keys=True).encode("utf-8")).hexdigest()[
        :12
    ]
    name = f"{prompt_id}-{speed}-{key}.mp3"
    if not CLIP_NAME.match(name):
        raise ValueError(f"prompt id {prompt_id!r} cannot name a clip (use a-z, 0-9, _ and .)")
    return name


def build(
    texts: dict[str, str],
    audio_dir: Path,
    engine: Engine,
    only: Iterable[str] | None = None,
    progress: bool = False,
) -> BuildResult:
    """Bring ``audio_dir`` up to date with ``texts`` (prompt id -> words to speak)."""
    audio_dir = Path(audio_dir)
    audio_dir.mkdir(parents=True, exist_ok=True)
    try:
        old = Manifest.load(audio_dir)
    except ManifestError as exc:
        if (audio_dir / MANIFEST_NAME).exists():
            log.warning("%s; building every clip again", exc)
        old = Manifest.empty(audio_dir)

    result = BuildResult(live=spoken_live(texts))
    selected = set(texts) - set(result.live)
    if only is not None:
        only = set(only)
        unknown = only - set(texts)
        if unknown:
            raise ValueError(f"no such prompt: {', '.join(sorted(unknown))}")
        selected &= only

    # Prompts outside --only keep whatever they had; prompts that are gone are dropped.
    entries = {pid: old.prompts[pid] for pid in texts if pid in old.prompts and pid not in result.live}
    engines = dict(old.data.get("engines", {}))
    info = engine.info() if selected else {}
    todo: list[tuple[str, dict[str, Any]]] = []
    for prompt_id in sorted(selected):
        text = texts[prompt_id]
        old_entry = old.prompts.get(prompt_id, {})
        entry = {
            "text": text,
            "text_sha256": text_sha256(text),
            "engine": engine.name,
            "voice": engine.voice,
            "licence": f"{info['licence']}; voice: {info['voice_licence']}",
            "settings": {},
            "clips": {},
        }
        for speed in SPEEDS:
            settings = {**engine.settings(speed == "slow"), **process.settings(prompt_id, speed == "slow")}
            name = clip_name(prompt_id, speed, text, settings)
            entry["settings"][speed] = settings
            before = old_entry.get("clips", {}).get(speed)
            if before and before["file"] == name and (audio_dir / name).is_file():
                entry["clips"][speed] = before
                result.kept.append(name)
            else:
                entry["clips"][speed] = {"file": name, "seconds": None}
        if all(clip["seconds"] is not None for clip in entry["clips"].values()):
            entries[prompt_id] = entry
        else:
            todo.append((prompt_id, entry))

    if selected:
        engines[engine.name] = info
    try:
        for prompt_id, entry in tqdm(todo, desc="audio", unit="prompt", disable=not progress):
            for speed, clip in entry["clips"].items():
                if clip["seconds"] is not None:
                    continue
                samples, rate = engine.synthesize(entry["text"], slow=speed == "slow")
                data, clip["seconds"] = process.finish(samples, rate, prompt_id, speed == "slow")
                _write_atomically(audio_dir / clip["file"], data)
                result.built.append(clip["file"])
            entries[prompt_id] = entry
    finally:
        used = {entry["engine"] for entry in entries.values()}
        # When clips were last made (the console shows it): kept as it was when nothing was built,
        # so a build with nothing to do leaves the manifest byte for byte as it was.
        built_at = clock.now().isoformat(timespec="seconds") if result.built else old.data.get("built_at")
        manifest = {
            "format": FORMAT,
            **({"built_at": built_at} if built_at else {}),
            "engines": {name: details for name, details in engines.items() if name in used},
            "prompts": dict(sorted(entries.items())),
            "live": result.live,
        }
        _write_manifest(audio_dir, manifest)
        result.removed = _remove_unreferenced(audio_dir, Manifest(audio_dir, manifest).files())
    return result


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_manifest(audio_dir: Path, manifest: dict[str, Any]) -> None:
    path = audio_dir / MANIFEST_NAME
    data = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return
    _write_atomically(path, data)


def _remove_unreferenced(audio_dir: Path, referenced: set[str]) -> list[str]:
    removed = []
    for path in sorted(audio_dir.iterdir()):
        stray_clip = path.suffix == ".mp3" and path.name not in referenced
        leftover = path.name.startswith(".") and path.name.endswith(".part")
        if path.is_file() and (stray_clip or leftover):
            path.unlink()
            removed.append(path.name)
    return removed
