"""Fixtures: an app on a fresh database, and a client that signs requests like Twilio."""
from __future__ import annotations

import datetime as dt
import os
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine
from twilio.request_validator import RequestValidator

from service import create_app
from service.clock import set_clock
from service.config import normalise_database_url
from service.db import upgrade

pytest_plugins = ["tests.browser"]

TOKEN = "12345678901234567890123456789012"  # digits only: must stay a string
PUBLIC = "https://line.example.org"
# `make run`'s origin: development mode is refused beside a public one.
DEV_ORIGIN = "http://127.0.0.1:5000"
CALLER = "+447400123456"  # a valid UK mobile
LANDLINE = "+442079460000"
LINE_NUMBER = "+441632960000"
LONDON = dt.timezone(dt.timedelta(0))
# A Wednesday afternoon in winter (London = UTC): the support line is open.
OPEN_TIME = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
# A Wednesday at 3am: closed.
CLOSED_TIME = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)

_prepared: set[str] = set()


def _prepare(url: str) -> None:
    """Build the schema with the real migrations, once per database per test run."""
    if url in _prepared:
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        # Every table there, not just the models': a run of an older schema may have left others.
        existing = MetaData()
        existing.reflect(conn)
        existing.drop_all(conn)
    engine.dispose()
    upgrade(url)
    _prepared.add(url)


def _empty(url: str) -> None:
    engine = create_engine(url)
    existing = MetaData()
    with engine.begin() as conn:
        existing.reflect(conn)
        for table in reversed(existing.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'line.db'}"


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, sqlite_url) -> str:
    """Runs a test on SQLite and, where TEST_DATABASE_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (`.ci/run` sets it)")
    return url


@pytest.fixture
def sqlite_only(sqlite_url) -> str:
    return sqlite_url


def make_app(url: str, tmp_path: Path, **overrides):
    _prepare(url)
    _empty(url)
    config = {
        "TESTING": True,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_PHONE_NUMBER": LINE_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC,
        "DATABASE_URL": url,
        "ANALYTICS_SALT": "test-salt",
        # Flask's test client names the host "localhost", the browser tests' server 127.0.0.1;
        # the public origin's host is trusted anyway.
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1"],
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def clock():
    """Move the application's clock: ``clock.set(datetime)``."""

    class Clock:
        def __init__(self):
            self.value = OPEN_TIME

        def set(self, value: dt.datetime) -> None:
            self.value = value

        def advance(self, **delta) -> None:
            self.value += dt.timedelta(**delta)

    fake = Clock()
    set_clock(lambda: fake.value)
    yield fake
    set_clock(None)


@pytest.fixture
def app_factory(tmp_path, clock):
    """``app_factory(url, **config)``: an app on a fresh database; its engine is closed after the test."""
    made = []

    def factory(url: str, **overrides):
        made.append(make_app(url, tmp_path, **overrides))
        return made[-1]

    yield factory
    for app in made:
        app.extensions["line.db"].engine.dispose()


@pytest.fixture
def app(sqlite_only, app_factory):
    return app_factory(sqlite_only)


@pytest.fixture
def any_db_app(database_url, app_factory):
    return app_factory(database_url)


class Twilio:
    """Posts to the app exactly as Twilio would: form-encoded and signed."""

    def __init__(self, app, token: str = TOKEN):
        self.app = app
        self.client = app.test_client()
        self.validator = RequestValidator(token)

    def post(self, url: str, params: dict, signature: str | None = None, headers: dict | None = None):
        """``url`` is absolute on the public origin, or a path."""
        if url.startswith("/"):
            url = PUBLIC + url
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = self.validator.compute_signature(url, params) if signature is None else signature
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": sig, **(headers or {})})


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


@pytest.fixture
def twilio(app) -> Twilio:
    return Twilio(app)


@pytest.fixture(autouse=True)
def _analytics_not_paused(monkeypatch):
    """A database fault in one test pauses usage events in this process; never carry it over."""
    from service import analytics

    monkeypatch.setattr(analytics, "_paused_until", 0.0)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests configure the app themselves: nothing from the shell (`make` sets LINE_DEV_MODE=1)
    may change what they see."""
    for name in ("LINE_DEV_MODE", "SIMULATOR_ENABLED", "SECRET_KEY", "ADMIN_CONSOLE", "TWILIO_AUTH_TOKEN",
                 "PUBLIC_BASE_URL", "DATABASE_URL", "AUDIO_BASE_URL", "ANALYTICS_SALT", "LINE_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
