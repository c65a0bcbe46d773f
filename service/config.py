"""Configuration: a Config object filled from the environment.

Secrets are read from ``os.environ`` as strings and never parsed, so a token
made only of digits stays a token.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

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
    }
    rate = _env("SEND_RATE_PER_SECOND")
    if rate:
        try:
            settings["SEND_RATE_PER_SECOND"] = float(rate)
        except ValueError as exc:
            raise ConfigError(f"SEND_RATE_PER_SECOND must be a number, not {rate!r}") from exc
        if settings["SEND_RATE_PER_SECOND"] <= 0:
            raise ConfigError("SEND_RATE_PER_SECOND must be above 0")
    return settings


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
    if base and not base.startswith(("https://", "http://")):
        problems.append(f"PUBLIC_BASE_URL must start with https:// (got {base!r})")
    if problems:
        raise ConfigError("The ALL line cannot start:\n  - " + "\n  - ".join(problems))
