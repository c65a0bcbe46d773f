"""Every command the `make run` banner and a start-up error print works when pasted as printed."""
from __future__ import annotations

import os
import re
import shlex
import subprocess

import pytest

from service import config
from service.admin import setup
from service.cli.commands import print_dev_banner
from service.config import PROJECT_ROOT

PASSWORD = "a long enough passphrase 42"


def as_typed(command: str, tmp_path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run a printed command in the project folder, as a person pastes it into a shell, on a
    local line of its own (its instance folder under tmp_path, never the developer's)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "LINE_DEV_MODE", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL",
                        "DATABASE_URL")}
    env["LINE_INSTANCE_PATH"] = str(tmp_path / "instance")
    return subprocess.run(["bash", "-c", command], cwd=PROJECT_ROOT, env=env, capture_output=True,  # noqa: S603,S607
                          text=True, timeout=300, input=stdin)


def test_the_banner_prints_an_account_command_that_works_as_printed(app, capsys, tmp_path):
    app.config["SIMULATOR_ENABLED"] = True
    print_dev_banner(app, 5000)
    banner = capsys.readouterr().err
    command = re.search(r"make an account, in another terminal: ([^)]+)\)", banner).group(1)
    assert command == "make user NAME=alice"
    made = as_typed(command, tmp_path, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "account 'alice' created" in made.stdout
    again = as_typed(command, tmp_path, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.returncode != 0 and "alice" in again.stdout + again.stderr


def test_make_user_without_a_name_says_how(tmp_path):
    refused = as_typed("make user", tmp_path)
    assert refused.returncode != 0
    assert "NAME is missing: make user NAME=alice" in refused.stderr


@pytest.mark.parametrize("problem", ["TWILIO_AUTH_TOKEN", "SECRET_KEY"])
def test_the_commands_a_start_up_error_suggests_work_as_printed(tmp_path, problem):
    if problem == "TWILIO_AUTH_TOKEN":
        with pytest.raises(config.ConfigError) as refused:
            config.check({"PUBLIC_BASE_URL": "https://line.example.org"})
    else:
        from flask import Flask

        app = Flask(__name__, instance_path=str(tmp_path))
        app.config.update(DEV_MODE=False, TESTING=False, SECRET_KEY="")
        with pytest.raises(config.ConfigError) as refused:
            setup.configure_console(app)
    message = str(refused.value)
    commands = re.findall(r"`((?:LINE_DEV_MODE=1 \.venv/bin/flask|python3) [^`]+)`", message)
    assert commands, message
    for command in commands:
        done = as_typed(command, tmp_path)
        assert done.returncode == 0, (command, done.stdout + done.stderr)
    assert "make run` for a local" not in message
    assert all(shlex.split(c) for c in commands)
