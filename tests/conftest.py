"""Fixtures: an app on a fresh database, a clock the tests move, a pinned wall clock (see
wall_clock.py) and a clean environment. Everything else the tests share is in helpers.py."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import responses

from service import create_app
from service.basics.clock import set_clock
from service.storage import analytics
from service.storage.db import db

from . import wall_clock
from .fake_twilio import ACCOUNT, API, FakeTwilio
from .helpers import LINE_NUMBER, OPEN_TIME, PUBLIC, TOKEN, Twilio, empty_database, postgres_url, prepare_database

pytest_plugins = ["tests.browser"]
# The wall clock of this run (pytest_configure pins it): what ``service.basics.clock`` reads whenever a
# test has not set a time of its own.
_wall = None


def pytest_addoption(parser):
    group = parser.getgroup("wall clock")
    group.addoption("--wall-time", default=wall_clock.DEFAULT_WALL,
                    help="the time of day the suite runs at: open (Monday 13:00 London, the support line "
                         "open), closed (Monday 03:00) or an ISO 8601 time with a UTC offset")
    group.addoption("--unpinned-only", action="store_true",
                    help="run only the tests that do not set the application's clock themselves (the "
                         "`clock` fixture): those whose answers could follow the wall clock")


def pytest_configure(config):
    global _wall
    try:
        at = wall_clock.parse_wall(config.getoption("--wall-time"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    _wall = wall_clock.install(at)
    set_clock(_wall)


def pytest_report_header(config):
    return f"wall clock pinned at {wall_clock.parse_wall(config.getoption('--wall-time')).isoformat()}"


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--unpinned-only"):
        return
    pinned = [item for item in items if "clock" in getattr(item, "fixturenames", ())]
    if pinned:
        config.hook.pytest_deselected(items=pinned)
        keep = {id(item) for item in items} - {id(item) for item in pinned}
        items[:] = [item for item in items if id(item) in keep]


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'line.db'}"


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
    prepare_database(url)
    empty_database(url)
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
        "STOP_SPOOL_PATH": str(tmp_path / "stop-spool.jsonl"),
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
    set_clock(_wall)


@pytest.fixture
def app_factory(tmp_path, clock):
    """``app_factory(url, **config)``: an app on a fresh database; its engine is closed after the test."""
    made = []

    def factory(url: str, **overrides):
        made.append(make_app(url, tmp_path, **overrides))
        return made[-1]

    yield factory
    for app in made:
        analytics.events(app).close()
        db.engine_for(app).dispose()


@pytest.fixture
def app(sqlite_only, app_factory):
    return app_factory(sqlite_only)


@pytest.fixture
def any_db_app(database_url, app_factory):
    return app_factory(database_url)


@pytest.fixture
def sender_app(database_url, app_factory):
    """An app whose sender talks to the fake Twilio API (``fake``), on each database."""
    return app_factory(database_url, TWILIO_API_URL=API, TWILIO_ACCOUNT_SID=ACCOUNT, SEND_RATE_PER_SECOND=10_000.0)


@pytest.fixture
def fake():
    """Twilio's REST API, faked at the HTTP layer: the real client code runs through it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeTwilio(mock)


@pytest.fixture
def twilio(app) -> Twilio:
    return Twilio(app)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests configure the app themselves: nothing from the shell (`make` sets LINE_DEV_MODE=1)
    may change what they see."""
    for name in ("LINE_DEV_MODE", "SIMULATOR_ENABLED", "SECRET_KEY", "ADMIN_CONSOLE", "TWILIO_AUTH_TOKEN",
                 "PUBLIC_BASE_URL", "DATABASE_URL", "AUDIO_BASE_URL", "ANALYTICS_SALT", "LINE_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
