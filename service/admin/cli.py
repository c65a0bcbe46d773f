"""Console commands: `flask --app service admin create-user NAME`, `... admin purge-callbacks`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..storage.db import db
from . import queries
from .auth import AccountError, check_name, create_user, password_problem

admin_cli = AppGroup("admin", help="The operator console: accounts and callback requests.")


@admin_cli.command("create-user")
@click.argument("name")
def create_user_command(name: str) -> None:
    """Make a console account. Asks for the password twice; it is stored hashed (scrypt)."""
    try:
        name = check_name(name)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    problem = password_problem(name, password)
    if problem:
        raise click.ClickException(problem + " No account was made.")
    try:
        create_user(name, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"account {name!r} created: log in at /admin/login")


@admin_cli.command("purge-callbacks")
def purge_callbacks_command() -> None:
    """Delete callback requests marked done more than CALLBACK_RETENTION_DAYS days ago."""
    days = current_app.config["CALLBACK_RETENTION_DAYS"]
    with db.session() as session:
        deleted = queries.purge_callbacks(session, days)
    click.echo(f"purge-callbacks: deleted {deleted} done request(s) older than {days} days")
