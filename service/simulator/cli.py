"""Try the line in a terminal: `flask --app service line call` and `... line text "symptoms"`.

Both drive the real webhooks in-process with signed requests (``phone``);
nothing here knows the menu.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..storage.db import db
from .phone import DEFAULT_CALLER, KEYPAD, Call, CallStep, Heard, Line, SimulatorError, Texter

line_cli = AppGroup("line", help="Try the line without a phone: a call or a text, through the real webhooks.")

# Tried in order; each plays one MP3 file and exits when it is done.
PLAYERS = (
    ("mpg123", ["-q"]),
    ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]),
    ("mpv", ["--no-video", "--really-quiet"]),
    ("cvlc", ["--play-and-exit", "--quiet"]),
    ("afplay", []),
    ("paplay", []),
)
LONGEST_CLIP_SECONDS = 120


def find_player() -> list[str] | None:
    for name, args in PLAYERS:
        path = shutil.which(name)
        if path:
            return [path, *args]
    return None


class ClipPlayer:
    """Plays each clip through a local player, one after another; silently does nothing without one."""

    def __init__(self, audio_dir: Path, command: list[str] | None):
        self.audio_dir = audio_dir
        self.command = command

    def play(self, heard: Heard) -> None:
        if not (self.command and heard.clip):
            return
        path = self.audio_dir / urllib.parse.urlsplit(heard.clip).path.rsplit("/", 1)[-1]
        if not path.is_file():
            return
        try:
            subprocess.run([*self.command, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                           stderr=subprocess.DEVNULL, timeout=LONGEST_CLIP_SECONDS, check=False)
        except (OSError, subprocess.SubprocessError) as error:
            click.echo(f"(could not play {path.name}: {error}; carrying on without sound)", err=True)
            self.command = None


@contextlib.contextmanager
def _quiet_logs(verbose: bool):
    """The webhooks log each request; in a transcript that is noise."""
    loggers = [logging.getLogger(name) for name in ("service", "alembic")]
    before = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)


class Terminal:
    """Prints what the line says, plays it, and reads what the person types."""

    def __init__(self, line: Line, player: ClipPlayer):
        self.line = line
        self.player = player
        # One reader for the whole call: a new one per line would lose what the last one buffered.
        self.keyboard = click.get_text_stream("stdin")

    def show(self, step: CallStep) -> None:
        for heard in step.heard:
            speed = " (slow)" if heard.slow else ""
            click.echo(f"Line: {heard.text}")
            click.echo(f"      [{heard.prompt_id or 'unknown prompt'}{speed}: {self._clip(heard)}]")
            self.player.play(heard)

    def _clip(self, heard: Heard) -> str:
        if not heard.clip:
            return "spoken live, no clip"
        if heard.clip.startswith(self.line.base + "/"):
            return "clip " + heard.clip.rsplit("/", 1)[-1]
        return "clip " + heard.clip

    def read(self, prompt: str) -> str | None:
        """One line typed by the person; None at the end of input (Ctrl-D)."""
        click.echo(prompt, nl=False)
        typed = self.keyboard.readline()
        return None if typed == "" else typed.strip()


@line_cli.command("call")
@click.option("--from", "caller", default=DEFAULT_CALLER, show_default=True,
              help="The number you pretend to call from (a UK mobile can get 'text me this').")
@click.option("--no-audio", is_flag=True, help="Do not play the clips, only print them.")
@click.option("--verbose", is_flag=True, help="Show the app's log lines too.")
@with_appcontext
def call(caller: str, no_audio: bool, verbose: bool) -> None:
    """Ring the line: type keys (0-9, * or #), words to say them, or Enter to stay silent.

    Keys typed together are pressed one after another: "1*9" is 1, then *, then 9;
    where the line asks for a phone number, type it and end it with #. A topic comes a part at a
    time, as on a phone: Enter (silence) plays the next part, 6 skips to it, star twice goes back."""
    app = current_app._get_current_object()
    with _quiet_logs(verbose):
        _schema_up_to_date(app)
    command = None if no_audio else find_player()
    if not no_audio and command is None:
        click.echo("(no audio player found, so the clips are only named: install mpg123 or ffmpeg to hear them)")
    player = ClipPlayer(Path(app.config["AUDIO_DIR"]), command)
    line = Line(app)
    ongoing = Call(line, caller, through_parts=False)
    click.echo(f"Calling the line from {caller} (call {ongoing.sid}).")
    click.echo("Type a key (0-9, * or #) or several, or words to say them; an empty line is silence; "
               "Ctrl-D hangs up.")
    try:
        with _quiet_logs(verbose):
            ended = _converse(ongoing, Terminal(line, player))
    except SimulatorError as error:
        raise click.ClickException(str(error)) from error
    if ended:
        click.echo("The line hung up. Call ended.")
    else:
        ongoing.hang_up()
        click.echo("You hung up. Call ended.")


def _schema_up_to_date(app) -> None:
    """On a development line (as `make run` does): the tables are made or migrated first, so a fresh
    clone can ring or text the line before it has ever been served."""
    if app.config.get("DEV_MODE"):
        db.upgrade()


def _converse(ongoing: Call, terminal: Terminal) -> bool:
    """Follow the call until the line hangs up (True) or the person does (False)."""
    step = ongoing.dial_in()
    while True:
        terminal.show(step)
        if step.ended:
            return True
        if step.transfer_to:
            click.echo(f"[Transferring you to {step.transfer_to}. The simulator cannot connect a real call.]")
            typed = terminal.read("Did someone answer? Type y for yes, or Enter for no answer: ")
            if typed is None:
                return False
            step = ongoing.transfer_ended(answered=typed.lower().startswith("y"))
            continue
        typed = terminal.read("[waiting] > ")
        if typed is None:
            return False
        if KEYPAD.fullmatch(typed):
            click.echo(f"You press {' '.join(typed)}.")
            steps = ongoing.type_keys(typed)
            for earlier in steps[:-1]:
                terminal.show(earlier)
            step = steps[-1]
        elif typed:
            if ongoing.listening and not ongoing.listening.speech:
                click.echo(f'You say "{typed}", but the line is listening for keys only here.')
            else:
                click.echo(f'You say "{typed}".')
            step = ongoing.say(typed)
        else:
            click.echo("You stay silent.")
            step = ongoing.silence()


@line_cli.command("text")
@click.argument("message")
@click.option("--from", "sender", default=DEFAULT_CALLER, show_default=True,
              help="The number you pretend to text from; the line remembers its menu between texts.")
@click.option("--verbose", is_flag=True, help="Show the app's log lines too.")
@with_appcontext
def text(message: str, sender: str, verbose: bool) -> None:
    """Send the line one text and print its reply."""
    with _quiet_logs(verbose):
        _schema_up_to_date(current_app._get_current_object())
    try:
        with _quiet_logs(verbose):
            replies = Texter(Line(current_app._get_current_object()), sender).send(message)
    except SimulatorError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"You ({sender}): {message}")
    for reply in replies:
        click.echo(f"Line: {reply}")
    if not replies:
        with _quiet_logs(verbose):
            click.echo(f"({Texter(Line(current_app._get_current_object()), sender).why_silent()})")
