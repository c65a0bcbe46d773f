"""``flask audio build`` and ``flask audio check``.

``check`` needs only the web process's requirements (it runs in ``make test``);
``build`` imports the engines and encoders from ``requirements-audio.txt``.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from .engines import ENGINE_CHOICES
from .manifest import Manifest, ManifestError, spoken_live
from .serve import audio_dir

audio_cli = AppGroup("audio", help="Build and check the pre-generated audio clips.")


def _spoken_texts() -> dict[str, str]:
    """The words of every voice prompt, from the catalogue the app loaded (and checked) at start-up."""
    from ..extensions import current_catalogue

    return current_catalogue().spoken_texts()


@audio_cli.command("build")
@click.option(
    "--engine",
    type=click.Choice(ENGINE_CHOICES),
    default="offline",
    show_default=True,
    help="offline: Kokoro-82M with a British voice, built offline; hibari: hibari-tts's American voice "
    "(a fallback); gtts: Google's British voice (needs the internet); espeak: espeak-ng, a last resort.",
)
@click.option("--voice", default=None,
              help="The engine's voice (offline: bf_emma, or another file in service/audio/voices/; "
              "hibari: heart; espeak: en-gb).")
@click.option("--only", "only", multiple=True, metavar="ID", help="Build only this prompt (repeatable).")
def build_command(engine: str, voice: str | None, only: tuple[str, ...]) -> None:
    """Make a normal and a slow clip for every voice prompt that needs one."""
    from .build import build
    from .engines import EngineError, make_engine

    texts = _spoken_texts()
    try:
        result = build(texts, audio_dir(), make_engine(engine, voice), only=only or None, progress=sys.stderr.isatty())
    except (EngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"built {len(result.built)} clips, kept {len(result.kept)}, removed {len(result.removed)} in {audio_dir()}"
    )
    for prompt_id in result.live:
        click.echo(f"spoken live: {prompt_id}")


@audio_cli.command("check")
def check_command() -> None:
    """Fail, naming each prompt, when a clip is missing, stale or orphaned."""
    texts = _spoken_texts()
    try:
        problems = Manifest.load(audio_dir()).problems(texts)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from exc
    live = spoken_live(texts)
    for prompt_id in live:
        click.echo(f"spoken live: {prompt_id}")
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} audio problem(s); run `flask --app service audio build`")
    click.echo(f"audio ok: {len(texts) - len(live)} prompts, 2 clips each")
