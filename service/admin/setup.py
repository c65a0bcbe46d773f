"""The console's share of the configuration: whether it is on, its settings, and its secret key
(refused at start-up when missing or short, naming SECRET_KEY)."""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path

from flask import Flask

from ..config import CONSOLE, SETTINGS, ConfigError, _console_mode, local_secret, read

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
DEV_KEY_FILENAME = "dev-secret-key"


def console_enabled(app: Flask) -> bool:
    """``ADMIN_CONSOLE``: ``on`` (refuse to start without a SECRET_KEY), ``off``, or ``auto``
    (the default): on when a SECRET_KEY is set (always in development and tests), otherwise
    off with a loud log line. The phone and SMS line must never go down for want of the
    console's key: callers come first."""
    configured = app.config.get("ADMIN_CONSOLE")
    value = _console_mode(configured) if configured else read("ADMIN_CONSOLE")
    if value != "auto":
        return value == "on"
    if app.config.get("SECRET_KEY") or read("SECRET_KEY") or app.config.get("DEV_MODE") or app.config.get("TESTING"):
        return True
    log.error("operator console is OFF: SECRET_KEY is not set. The phone and SMS line run as normal; "
              "set SECRET_KEY (64 random hex characters) to serve /admin and its commands.")
    return False


def configure_console(app: Flask) -> None:
    """Fill the console's config keys (a test's own values win) and refuse to start without a
    usable secret key."""
    config = app.config
    relaxed = bool(config.get("DEV_MODE") or config.get("TESTING"))
    for setting in SETTINGS:
        if setting.when == CONSOLE and setting.name not in ("ADMIN_CONSOLE", "SECRET_KEY"):
            config.setdefault(setting.name, read(setting.name))
    config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=config["ADMIN_SESSION_HOURS"])
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if not relaxed:
        config["SESSION_COOKIE_SECURE"] = True

    key = config.get("SECRET_KEY") or read("SECRET_KEY")
    if not key and config.get("DEV_MODE"):
        key = development_secret_key(Path(app.instance_path))
    if not key and config.get("TESTING"):
        key = secrets.token_hex(32)
    if not key:
        raise ConfigError(
            "The ALL line cannot start:\n  - SECRET_KEY is not set: the operator console signs its "
            "login sessions and form tokens with it. Set it to a long random string, for example "
            "the output of `python3 -c 'import secrets; print(secrets.token_hex(32))'`, and keep it "
            "the same on every process and machine (for a local development line, as under `make run`, put "
            "LINE_DEV_MODE=1 before the command)."
        )
    # Also in development: a short key lets anyone forge a console session and read callers' numbers.
    length = len(key) if isinstance(key, str | bytes) else 0
    if length < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"The ALL line cannot start:\n  - SECRET_KEY is too short ({length} characters): use at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    config["SECRET_KEY"] = key


def development_secret_key(instance_path: Path) -> str:
    """The local console key of `make run` (kept beside the dev token)."""
    return local_secret(instance_path, DEV_KEY_FILENAME, 32)
