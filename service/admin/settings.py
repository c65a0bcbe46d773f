"""The console's configuration: the secret key, cookies, rate limits and retention.

Every key is read from the environment once, unless the app's config (or a
test) already set it. Secrets stay strings and are never parsed.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from ..config import ConfigError, local_secret

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
DEV_KEY_FILENAME = "dev-secret-key"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more, not {value}")
    return value


def console_enabled(app: Flask) -> bool:
    """``ADMIN_CONSOLE``: ``on`` (refuse to start without a SECRET_KEY), ``off``, or ``auto``
    (the default): on when a SECRET_KEY is set (always in development and tests), otherwise
    off with a loud log line. The phone and SMS line must never go down for want of the
    console's key: callers come first."""
    value = str(app.config.get("ADMIN_CONSOLE") or _env("ADMIN_CONSOLE", "auto")).lower()
    if value not in ("on", "off", "auto"):
        raise ConfigError(f"ADMIN_CONSOLE must be 'on', 'off' or 'auto', not {value!r}")
    if value != "auto":
        return value == "on"
    if app.config.get("SECRET_KEY") or _env("SECRET_KEY") or app.config.get("DEV_MODE") or app.config.get("TESTING"):
        return True
    log.error("operator console is OFF: SECRET_KEY is not set. The phone and SMS line run as normal; "
              "set SECRET_KEY (64 random hex characters) to serve /admin and its commands.")
    return False


def configure(app: Flask) -> None:
    """Fill the console's config keys and refuse to start without a usable secret key."""
    config = app.config
    relaxed = bool(config.get("DEV_MODE") or config.get("TESTING"))
    config.setdefault("CALLBACK_RETENTION_DAYS",
                      _positive_int("CALLBACK_RETENTION_DAYS", _env("CALLBACK_RETENTION_DAYS", "30")))
    config.setdefault("ADMIN_LOGIN_RATE_LIMIT", _env("ADMIN_LOGIN_RATE_LIMIT", "5 per minute"))
    # Per account name, from any address: the limit that holds even when addresses can be spoofed.
    config.setdefault("ADMIN_LOGIN_NAME_RATE_LIMIT", _env("ADMIN_LOGIN_NAME_RATE_LIMIT", "20 per hour"))
    config.setdefault("RATELIMIT_STORAGE_URI", _env("RATELIMIT_STORAGE_URI", "memory://"))
    # How many proxies (the platform's router) put the caller's address in X-Forwarded-For.
    config.setdefault("ADMIN_PROXY_HOPS", _positive_int_or_zero("ADMIN_PROXY_HOPS", _env("ADMIN_PROXY_HOPS", "0")))
    config.setdefault("ADMIN_SESSION_HOURS",
                      _positive_int("ADMIN_SESSION_HOURS", _env("ADMIN_SESSION_HOURS", "8")))
    config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=config["ADMIN_SESSION_HOURS"])
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if not relaxed:
        config["SESSION_COOKIE_SECURE"] = True

    key = config.get("SECRET_KEY") or _env("SECRET_KEY")
    if not key and config.get("DEV_MODE"):
        key = development_secret_key(Path(app.instance_path))
    if not key and config.get("TESTING"):
        key = secrets.token_hex(32)
    if not key:
        raise ConfigError(
            "The ALL line cannot start:\n  - SECRET_KEY is not set: the operator console signs its "
            "login sessions and form tokens with it. Set it to a long random string, for example "
            "the output of `python -c 'import secrets; print(secrets.token_hex(32))'`, and keep it "
            "the same on every process and machine (or run `make run` for a local development line)."
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


def _positive_int_or_zero(name: str, raw: str) -> int:
    return 0 if raw == "0" else _positive_int(name, raw)


def development_secret_key(instance_path: Path) -> str:
    """The local console key of `make run` (kept beside the dev token)."""
    return local_secret(instance_path, DEV_KEY_FILENAME, 32)
