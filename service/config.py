"""Configuration: a Config object filled from the environment.

Secrets are read from ``os.environ`` as strings and never parsed, so a token
made only of digits stays a token.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The operator's configuration cannot run the line; the message says why."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def normalise_database_url(url: str) -> str:
    """Heroku-style platforms hand out ``postgres://``; SQLAlchemy wants a driver name."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Defaults; every value can be overridden by the environment or by tests."""

    PROMPTS_DIR = PROJECT_ROOT / "prompts"
    AUDIO_DIR = PROJECT_ROOT / "audio"
    MAX_CONTENT_LENGTH = 64 * 1024
    # Twilio sends a few kilobytes at most; anything bigger is not Twilio.
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    GATHER_TIMEOUT_SECONDS = 6
    DIAL_TIMEOUT_SECONDS = 30
    SAY_VOICE = "Polly.Amy"
    SEND_RATE_PER_SECOND = 1.0
    SEND_BATCH_SIZE = 50
    # 1, 2, 4 ... 60 minutes apart: eight tries ride out about two hours of Twilio trouble.
    SEND_MAX_ATTEMPTS = 8


def from_environment(instance_path: Path, dev_mode: bool) -> dict:
    """Read the documented environment variables into config keys."""
    default_db = f"sqlite:///{instance_path / 'line.db'}"
    settings = {
        "DEV_MODE": dev_mode,
        "TWILIO_AUTH_TOKEN": _env("TWILIO_AUTH_TOKEN"),
        "TWILIO_ACCOUNT_SID": _env("TWILIO_ACCOUNT_SID"),
        "TWILIO_PHONE_NUMBER": _env("TWILIO_PHONE_NUMBER"),
        "TWILIO_MESSAGING_SERVICE_SID": _env("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_API_URL": _env("TWILIO_API_URL", "https://api.twilio.com"),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL").rstrip("/"),
        "AUDIO_BASE_URL": _env("AUDIO_BASE_URL").rstrip("/"),
        "DATABASE_URL": normalise_database_url(_env("DATABASE_URL", default_db)),
        "ANALYTICS_SALT": _env("ANALYTICS_SALT"),
        # The web simulator drives the webhooks with the auth token: on under `make run` only.
        "SIMULATOR_ENABLED": _env("SIMULATOR_ENABLED", "1" if dev_mode else "") == "1",
        # Host names besides PUBLIC_BASE_URL's that requests may name (a second domain).
        "ALLOWED_HOSTS": [h.strip().lower() for h in _env("ALLOWED_HOSTS").split(",") if h.strip()],
    }
    codes = _env("ALLOWED_COUNTRY_CODES", "44")
    try:
        settings["ALLOWED_COUNTRY_CODES"] = [int(code.strip().lstrip("+")) for code in codes.split(",") if code.strip()]
    except ValueError as exc:
        raise ConfigError(f"ALLOWED_COUNTRY_CODES must list calling codes like 44 or 44,353, not {codes!r}") from exc
    if not settings["ALLOWED_COUNTRY_CODES"]:
        raise ConfigError("ALLOWED_COUNTRY_CODES must list at least one calling code (44 for the UK)")
    retention = _env("OUTBOX_RETENTION_DAYS", "30")
    if not retention.isdigit() or int(retention) < 1:
        raise ConfigError(f"OUTBOX_RETENTION_DAYS must be a whole number of days, 1 or more, not {retention!r}")
    settings["OUTBOX_RETENTION_DAYS"] = int(retention)
    rate = _env("SEND_RATE_PER_SECOND")
    if rate:
        try:
            settings["SEND_RATE_PER_SECOND"] = float(rate)
        except ValueError as exc:
            raise ConfigError(f"SEND_RATE_PER_SECOND must be a number, not {rate!r}") from exc
        if settings["SEND_RATE_PER_SECOND"] <= 0:
            raise ConfigError("SEND_RATE_PER_SECOND must be above 0")
    return settings


def trusted_hosts(config: dict) -> list[str] | None:
    """Flask's TRUSTED_HOSTS: PUBLIC_BASE_URL's host, ALLOWED_HOSTS, and loopback in development.

    Every request naming another Host is refused (400), so a page on another name that resolves
    to this machine (DNS rebinding) cannot drive the simulator or the console. None (no check)
    only in tests that set no public origin."""
    hosts = list(config.get("ALLOWED_HOSTS") or ())
    base = config.get("PUBLIC_BASE_URL", "")
    if base:
        hosts.append(public_host(base))
    if config.get("DEV_MODE") or (base and is_loopback(base)):
        hosts += LOOPBACK_HOSTS
    if not hosts:
        return None
    # Werkzeug compares names without the port, and cannot match an IPv6 literal: [::1] is
    # accepted as a PUBLIC_BASE_URL for plain http, but requests must name 127.0.0.1 or localhost.
    return sorted(set(hosts) - {"::1"})


def local_secret(instance_path: Path, name: str, nbytes: int) -> str:
    """A secret for `make run`, made once and kept (owner-only) under instance/."""
    secret_file = instance_path / name
    if secret_file.exists():
        return secret_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(nbytes)
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    return secret


def development_token(instance_path: Path) -> str:
    """The local Twilio auth token of `make run`."""
    return local_secret(instance_path, "dev-twilio-auth-token", 16)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")


def public_host(base: str) -> str:
    """The host name of PUBLIC_BASE_URL ("" if it has none)."""
    return (urlsplit(base).hostname or "").lower()


def is_loopback(base: str) -> bool:
    return public_host(base) in LOOPBACK_HOSTS


def _origin_problems(base: str, dev_mode: bool) -> list[str]:
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return [f"PUBLIC_BASE_URL must start with https:// and name a host, like https://all-line.example.org "
                f"(got {base!r})"]
    if parts.path or parts.query or parts.fragment:
        return [f"PUBLIC_BASE_URL must be the origin only, with no path (got {base!r}): "
                f"use {parts.scheme}://{parts.netloc}"]
    if parts.scheme == "http" and not is_loopback(base):
        return [f"PUBLIC_BASE_URL must start with https:// (got {base!r}): plain http is only for "
                "127.0.0.1, localhost or [::1]. Twilio would send callers' numbers and keys in clear."]
    if dev_mode and not is_loopback(base):
        return [f"LINE_DEV_MODE=1 is set beside PUBLIC_BASE_URL={base}, a public origin: development mode "
                "turns the simulator on and the console cookie's Secure flag off. Unset LINE_DEV_MODE in "
                "production (it is for `make run` on a developer's machine)."]
    return []


def check(config: dict) -> None:
    """Refuse to run with a configuration that would fail callers later."""
    problems = []
    if not config.get("TWILIO_AUTH_TOKEN"):
        problems.append(
            "TWILIO_AUTH_TOKEN is not set: every webhook must be checked against it. "
            "Set it to the auth token of the Twilio account that owns the number "
            "(or run `make run` for a local development line)."
        )
    base = config.get("PUBLIC_BASE_URL", "")
    if not base and not (config.get("DEV_MODE") or config.get("TESTING")):
        problems.append(
            "PUBLIC_BASE_URL is not set: behind the platform's router the app cannot know the https "
            "address Twilio signed, so every webhook would be refused. Set it to the app's public "
            "origin, e.g. https://all-line.example.org")
    if base:
        problems += _origin_problems(base, bool(config.get("DEV_MODE")))
    for host in config.get("ALLOWED_HOSTS") or ():
        if not HOST_NAME.fullmatch(host):
            problems.append(f"ALLOWED_HOSTS: {host!r} is not a host name (list names, comma-separated, "
                            "like line.example.org,www.line.example.org)")
    if problems:
        raise ConfigError("The ALL line cannot start:\n  - " + "\n  - ".join(problems))
