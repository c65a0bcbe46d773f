"""Configuration, in one place: every environment variable the line reads is a row of ``SETTINGS``
(its name, default, parser and meaning), and docs/configuration.md's Environment table documents the same
rows (tests/test_readme.py holds the two together). Nothing else in the line reads ``os.environ``.

Values reach ``app.config`` in this order, each over the one before: ``Config`` (fixed values),
the environment through ``SETTINGS``, then a test's own config. The operator console's rows are
read only when the console is on. Secrets are read as strings and never parsed, so a token made
only of digits stays a token.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The operator's configuration cannot run the line; the message says why."""


class Config:
    """Fixed values; tests may override any of them."""

    PROMPTS_DIR = PROJECT_ROOT / "prompts"
    AUDIO_DIR = PROJECT_ROOT / "audio"
    MAX_CONTENT_LENGTH = 64 * 1024
    # Twilio sends a few kilobytes at most; anything bigger is not Twilio.
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    GATHER_TIMEOUT_SECONDS = 6
    DIAL_TIMEOUT_SECONDS = 30
    SAY_VOICE = "Polly.Amy"
    SEND_BATCH_SIZE = 50
    # Usage events are written in batches this often (a killed worker loses at most the last second).
    USAGE_EVENTS_INTERVAL_SECONDS = 0.25
    # A returning caller's consent stored by another process reaches this one's index within this.
    RETURNING_REFRESH_SECONDS = 5.0
    # 1, 2, 4 ... 60 minutes apart: eight tries ride out about two hours of Twilio trouble.
    SEND_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Startup:
    """What is known before the app exists: its instance folder, and whether this is development."""

    instance_path: Path
    dev_mode: bool


# When a row is read: before the app exists, by create_app, only when the console is on, by
# `flask serve`, or not by the line at all (the Procfile hands it to gunicorn).
STARTUP, LINE, CONSOLE, SERVE, PLATFORM = "startup", "line", "console", "serve", "platform"


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, parser and meaning, and when it is read."""

    name: str
    # As it would be written in the environment; a function of the Startup where it depends on it.
    default: str | Callable[[Startup], str]
    # The text in the environment -> the value; None for a variable only another program reads.
    parse: Callable[[str], Any] | None
    description: str
    # LINE and CONSOLE rows are kept in app.config under their own names.
    when: str = LINE
    # An empty value counts as unset (elsewhere empty is a value: SIMULATOR_ENABLED= is off).
    blank_is_default: bool = False


# -- parsers ----------------------------------------------------------------------------

def normalise_database_url(url: str) -> str:
    """Heroku-style platforms hand out ``postgres://``; SQLAlchemy wants a driver name."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _database_url(raw: str) -> str:
    return normalise_database_url(raw.strip())


def _text(raw: str) -> str:
    return raw.strip()


def _origin(raw: str) -> str:
    return raw.strip().rstrip("/")


def _flag(raw: str) -> bool:
    return raw.strip() == "1"


def _host_names(raw: str) -> list[str]:
    return [host.strip().lower() for host in raw.strip().split(",") if host.strip()]


def _calling_codes(raw: str) -> list[int]:
    codes = raw.strip()
    try:
        found = [int(code.strip().lstrip("+")) for code in codes.split(",") if code.strip()]
    except ValueError as exc:
        raise ConfigError(f"ALLOWED_COUNTRY_CODES must list calling codes like 44 or 44,353, not {codes!r}") from exc
    if not found:
        raise ConfigError("ALLOWED_COUNTRY_CODES must list at least one calling code (44 for the UK)")
    return found


def _whole_number(name: str, minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{name} must be a whole number, not {raw.strip()!r}") from exc
        if value < minimum:
            raise ConfigError(f"{name} must be {minimum} or more, not {value}")
        return value

    return parse


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed logins in ``window`` seconds."""

    failures: int
    window: float


_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+\s+)?(second|minute|hour|day)s?\s*$", re.IGNORECASE)


@cache
def parse_limit(text: str) -> Limit:
    """ "20 per hour", "5 per minute", "10 per 15 minutes" -> a Limit; ValueError says what is wrong."""
    match = _LIMIT.match(text or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a limit like '20 per hour' or '10 per 15 minutes'")
    return Limit(int(match.group(1)), int(match.group(2) or 1) * _UNITS[match.group(3).lower()])


def _login_limit(name: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        try:
            parse_limit(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from exc
        return raw.strip()

    return parse


def _texts_per_second(raw: str) -> float:
    try:
        rate = float(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"SEND_RATE_PER_SECOND must be a number, not {raw.strip()!r}") from exc
    if rate <= 0:
        raise ConfigError("SEND_RATE_PER_SECOND must be above 0")
    return rate


def _console_mode(raw: str) -> str:
    value = str(raw).strip().lower()
    if value not in ("on", "off", "auto"):
        raise ConfigError(f"ADMIN_CONSOLE must be 'on', 'off' or 'auto', not {value!r}")
    return value


# -- the table --------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    Setting("LINE_DEV_MODE", "", lambda raw: raw == "1",
            "1 is development (`make run`): a local token and console key, the simulator on",
            when=STARTUP),
    Setting("LINE_INSTANCE_PATH", lambda start: str(PROJECT_ROOT / "instance"), Path,
            "the folder for local files: development secrets and the default SQLite database",
            when=STARTUP, blank_is_default=True),
    Setting("TWILIO_AUTH_TOKEN", "", _text, "checks X-Twilio-Signature on every webhook; required"),
    Setting("TWILIO_ACCOUNT_SID", "", _text, "the Twilio account that sends texts"),
    Setting("TWILIO_PHONE_NUMBER", "", _text, "the number outbound texts come from"),
    Setting("TWILIO_MESSAGING_SERVICE_SID", "", _text, "a Messaging Service that sends instead of a number"),
    Setting("TWILIO_API_URL", "https://api.twilio.com", _text, "Twilio's REST base URL (a fake, in tests)"),
    Setting("PUBLIC_BASE_URL", "", _origin, "the https origin Twilio calls: signed URLs and action URLs"),
    Setting("AUDIO_BASE_URL", "", _origin, "a copy of audio/ on a CDN, for <Play>"),
    Setting("DATABASE_URL", lambda start: f"sqlite:///{start.instance_path / 'line.db'}", _database_url,
            "the database (SQLite under the instance folder by default)"),
    Setting("STOP_SPOOL_PATH", lambda start: str(start.instance_path / "stop-spool.jsonl"), _text,
            "where a STOP the database cannot store is kept until it is replayed", blank_is_default=True),
    Setting("ANALYTICS_SALT", "", _text, "the salt of every pseudonym (else derived from the auth token)"),
    Setting("SIMULATOR_ENABLED", lambda start: "1" if start.dev_mode else "", _flag,
            "1 serves the web simulator (on in development)"),
    Setting("ALLOW_UNAPPROVED_CONTENT", "", _flag,
            "1 serves words that differ from prompts/approvals.yaml in production (an error at every start)"),
    Setting("ALLOWED_HOSTS", "", _host_names, "more host names requests may use, comma-separated"),
    Setting("ALLOWED_COUNTRY_CODES", "44", _calling_codes, "the calling codes the line texts with"),
    Setting("TEXTS_PER_CALL", "3", _whole_number("TEXTS_PER_CALL", 0),
            "topic texts one call may ask for (\"text me this\")"),
    Setting("TEXTS_PER_NUMBER_PER_DAY", "5", _whole_number("TEXTS_PER_NUMBER_PER_DAY", 0),
            "topic texts one number may be sent in a London day, across calls"),
    Setting("OUTBOX_RETENTION_DAYS", "30", _whole_number("OUTBOX_RETENTION_DAYS", 1),
            "days a finished text is kept before `purge` deletes it"),
    Setting("SUBSCRIBER_RETENTION_DAYS", "30", _whole_number("SUBSCRIBER_RETENTION_DAYS", 1),
            "days a number that is not subscribed (nor opted out) is kept before `purge`"),
    Setting("SEND_RATE_PER_SECOND", "1", _texts_per_second, "texts a second, per worker process",
            blank_is_default=True),
    Setting("ADMIN_CONSOLE", "auto", _console_mode, "auto, on or off: the operator console", when=CONSOLE),
    Setting("SECRET_KEY", "", _text, "signs the console's sessions and form tokens", when=CONSOLE),
    Setting("CALLBACK_RETENTION_DAYS", "30", _whole_number("CALLBACK_RETENTION_DAYS", 1),
            "days a done callback request is kept", when=CONSOLE),
    # Failed logins only; after 3 a growing wait (1 s, doubling, at most 15 minutes), at the limit a block.
    Setting("ADMIN_LOGIN_RATE_LIMIT", "30 per hour", _login_limit("ADMIN_LOGIN_RATE_LIMIT"),
            "failed console logins one address may make", when=CONSOLE),
    # Per account name, from any address (a browser that has logged in as that name is counted apart).
    Setting("ADMIN_LOGIN_NAME_RATE_LIMIT", "20 per hour", _login_limit("ADMIN_LOGIN_NAME_RATE_LIMIT"),
            "failed console logins for one account name", when=CONSOLE),
    Setting("REDIS_URL", "", _text, "the Redis failed console logins are counted in", when=CONSOLE),
    # How many proxies (the platform's router) put the caller's address in X-Forwarded-For.
    Setting("ADMIN_PROXY_HOPS", "0", _whole_number("ADMIN_PROXY_HOPS", 0),
            "proxies whose X-Forwarded-For entry is believed", when=CONSOLE),
    Setting("ADMIN_SESSION_HOURS", "8", _whole_number("ADMIN_SESSION_HOURS", 1),
            "hours a console login lasts, however busy", when=CONSOLE),
    Setting("ADMIN_IDLE_MINUTES", "30", _whole_number("ADMIN_IDLE_MINUTES", 1),
            "minutes without a console page that end a login", when=CONSOLE),
    Setting("PORT", "5000", int, "the port `flask serve` binds (gunicorn's, in the Procfile)", when=SERVE),
    Setting("WEB_CONCURRENCY", "2", None, "gunicorn's worker processes (the Procfile reads it)", when=PLATFORM),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def read(name: str, start: Startup | None = None) -> Any:
    """One variable from the environment, parsed (its default when it is unset)."""
    setting = BY_NAME[name]
    raw = os.environ.get(name)
    if raw is None or (setting.blank_is_default and not raw):
        raw = setting.default(start) if callable(setting.default) else setting.default
    return setting.parse(raw)


def startup() -> Startup:
    return Startup(read("LINE_INSTANCE_PATH"), read("LINE_DEV_MODE"))


def from_environment(start: Startup) -> dict:
    """The line's settings, as config keys (LINE_DEV_MODE is kept as DEV_MODE)."""
    found = {"DEV_MODE": start.dev_mode}
    for setting in SETTINGS:
        if setting.when == LINE:
            found[setting.name] = read(setting.name, start)
    return found


def finish(app: Flask) -> None:
    """After the environment and a test's config: the development token, the checks that refuse
    to run, and the hosts requests may name."""
    if app.config["DEV_MODE"] and not app.config["TWILIO_AUTH_TOKEN"]:
        app.config["TWILIO_AUTH_TOKEN"] = development_token(Path(app.instance_path))
    check(app.config)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)


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
            "(for a local development line, as under `make run`, put LINE_DEV_MODE=1 before the command, "
            "for example `LINE_DEV_MODE=1 .venv/bin/flask --app service content status`)."
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


# -- the operator console ---------------------------------------------------------------
