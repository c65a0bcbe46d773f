"""Operator commands: `flask --app service db upgrade`, `... serve` (development)."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .. import config
from ..storage.db import db
from ..web.extensions import loaded

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version (the Procfile's release step)."""
    db.upgrade()
    click.echo("database schema is up to date")


@click.command("serve")
@click.option("--port", type=int, default=lambda: config.read("PORT"), show_default="$PORT or 5000")
@with_appcontext
def serve(port: int) -> None:
    """Run the line locally: schema up to date, token and webhook URLs printed, then serve."""
    app = current_app._get_current_object()
    db.upgrade()
    print_dev_banner(app, port)
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, app, threaded=True)


# Typed as printed in the project folder of a fresh clone, beside `make run` (tests/web/test_banner.py).
USER_COMMAND = "make user NAME=alice"


def print_dev_banner(app: Flask, port: int) -> None:
    base = app.config["PUBLIC_BASE_URL"] or f"http://127.0.0.1:{port}"
    click.echo(
        "\nThe ALL information line (development mode)\n"
        f"  Twilio auth token (local, kept in {app.instance_path}): {app.config['TWILIO_AUTH_TOKEN']}\n"
        f"  Voice webhook: {base}/voice\n"
        f"  SMS webhook:   {base}/sms\n"
        f"  Health:        {base}/healthz\n"
        + (f"  Simulator:     {base}/simulator\n" if app.config.get("SIMULATOR_ENABLED") else "")
        + f"  Console:       {base}/admin (make an account, in another terminal: {USER_COMMAND})\n"
        f"  Database:      {app.config['DATABASE_URL']}\n",
        err=True,
    )


content_cli = AppGroup("content", help="The words of the line.")


@content_cli.command("check")
@with_appcontext
def content_check() -> None:
    """Report every prompt; exit 1 if any would not be fit to say or send."""
    from ..basics import clock
    from ..content import check, format_table

    app = current_app._get_current_object()
    parts = loaded(app)
    rows, failures, warnings = check(parts.catalogue, parts.clips.durations, clock.now().date())
    from pathlib import Path

    from ..content.approvals import ApprovalError, load, summarise
    try:
        approvals = load(Path(app.config["PROMPTS_DIR"]), parts.catalogue)
    except ApprovalError as error:
        failures += error.problems
    else:
        for state in summarise(parts.catalogue, approvals, clock.now().date()).not_approved:
            warnings.append(f"{state.describe()}: the release command refuses it until it is approved")
    click.echo(format_table(rows))
    click.echo("(~ = estimated at 150 words a minute; no clip measured)")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for failure in failures:
        click.echo(f"FAIL: {failure}", err=True)
    if failures:
        raise SystemExit(1)
    cat = parts.catalogue
    never = sorted(set(cat.topics) - cat.asks_in_text)
    click.echo(f"'did this help?' can be texted with {len(cat.asks_in_text)} of {len(cat.topics)} topics"
               + (f" (not: {', '.join(never)}; urgent, or no room in two segments)" if never else ""))
    click.echo(f"content check passed: {len(rows)} prompts")


sms_cli = AppGroup("sms", help="Outbound texts.")


@sms_cli.command("send-due")
@click.option("--loop", is_flag=True, help="Keep running (a worker process) instead of exiting when done.")
@click.option("--idle", default=30.0, show_default=True, help="Seconds to wait between runs with --loop.")
@with_appcontext
def send_due(loop: bool, idle: float) -> None:
    """Send every text that is due, wait for each to finish, and exit 0.

    Several copies may run at once on PostgreSQL; each text still goes out once.
    SIGTERM (a platform stopping the worker) finishes the text in hand and stops.
    """
    import signal
    import socket
    import threading

    from .sender import Sender, SenderConfigError

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    app = current_app._get_current_object()
    try:
        sender = Sender(app, name=f"{socket.gethostname()[:40]}-{os.getpid()}", stop=stop)
    except SenderConfigError as error:
        raise click.ClickException(str(error)) from error
    counts = sender.run_forever(idle) if loop else sender.run_once()
    click.echo("send-due: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"))


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete what the line no longer needs (schedule daily): returning-caller consents past
    30 days; inbound MessageSids past 30 days (Twilio redelivers within hours); texters' places in
    the menus unchanged for 30 days; numbers that never joined, never said YES or finished the series, unchanged
    for SUBSCRIBER_RETENTION_DAYS (an opted-out number is kept, with nothing else, to honour the STOP);
    and texts sent, cancelled or parked more than OUTBOX_RETENTION_DAYS ago (with the numbers and
    words in them)."""
    from ..storage import inbound, outbox, returning, sms_sessions, subscriptions, texting

    days = current_app.config["OUTBOX_RETENTION_DAYS"]
    subscriber_days = current_app.config["SUBSCRIBER_RETENTION_DAYS"]
    forgotten = returning.purge_expired()
    with db.session() as session:
        old_ids = inbound.purge_old(session)
        menus = sms_sessions.purge_old(session)
        numbers, trimmed = subscriptions.purge_inactive(session, subscriber_days)
        old_texts = outbox.purge_finished(session, days)
        texting.purge_slots(session)
    click.echo(f"purged {forgotten} returning-caller records, {old_ids} old message ids, {menus} texters' menus, "
               f"{numbers} numbers not subscribed for {subscriber_days} days ({trimmed} opted-out numbers "
               f"trimmed to the STOP alone) and {old_texts} texts sent, cancelled or parked more than {days} days ago")


def register_commands(app: Flask) -> None:
    from .audio import audio_cli
    from .signoff import content_approve, content_review_pack, content_status, release

    for command in (content_status, content_approve, content_review_pack):
        content_cli.add_command(command)
    app.cli.add_command(release)

    app.cli.add_command(audio_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(sms_cli)
    app.cli.add_command(purge)
    app.cli.add_command(serve)
