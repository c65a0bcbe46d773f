"""Start-up, configuration and the health check."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import event as sqlalchemy_event

from service import create_app
from service.config import ConfigError, normalise_database_url
from service.storage.db import db
from service.web.extensions import loaded

from ..helpers import TOKEN, Twilio, parse


def test_health_answers_json_with_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["topics"] == len(loaded(app).catalogue.topics) == 22


def test_health_is_503_when_the_database_is_unreachable(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_calls_keep_working_when_the_database_is_down(monkeypatch, clock):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "PUBLIC_BASE_URL": "https://line.example.org", "ALLOWED_HOSTS": ["localhost"]})
    twilio = Twilio(app)
    root = parse(twilio.post("/voice", {"CallSid": "CA1", "From": "+447400123456"}))
    assert root.find("Gather") is not None
    root = parse(twilio.post("/voice/menu?node=main&slow=0&misses=0&silences=0",
                             {"CallSid": "CA1", "From": "+447400123456", "Digits": "1"}))
    assert root.find("Gather") is not None
    root = parse(twilio.post("/sms", {"MessageSid": "SM1", "From": "+447400123456", "Body": "hi"}))
    assert "Sorry" in "".join(root.itertext())


def test_no_token_outside_development_refuses_to_start(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("LINE_DEV_MODE", raising=False)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is not set"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_gunicorn_exits_non_zero_and_says_why_without_a_token(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PORT": "0", "LINE_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import service; service.create_app()"], env=env, capture_output=True,
        text=True, timeout=60)
    assert result.returncode != 0
    assert "TWILIO_AUTH_TOKEN is not set" in result.stderr


def test_a_numeric_token_stays_a_string(monkeypatch, tmp_path):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "0012345")
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    app = create_app({"DATABASE_URL": "sqlite://", "PUBLIC_BASE_URL": "https://line.example.org"})
    assert app.config["TWILIO_AUTH_TOKEN"] == "0012345"


def test_development_mode_makes_and_keeps_a_local_token(monkeypatch, tmp_path):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("LINE_DEV_MODE", "1")
    monkeypatch.setenv("LINE_INSTANCE_PATH", str(tmp_path))
    first = create_app({"DATABASE_URL": "sqlite://"}).config["TWILIO_AUTH_TOKEN"]
    second = create_app({"DATABASE_URL": "sqlite://"}).config["TWILIO_AUTH_TOKEN"]
    assert first == second and len(first) == 32
    assert (tmp_path / "dev-twilio-auth-token").stat().st_mode & 0o077 == 0


def test_heroku_style_database_urls_get_a_driver():
    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_public_base_url_is_refused(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    monkeypatch.setenv("PUBLIC_BASE_URL", "line.example.org")
    monkeypatch.delenv("LINE_DEV_MODE", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must start with https://"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_oversized_request_is_refused_without_content(app):
    twilio = Twilio(app)
    params = {"CallSid": "CA1", "From": "+447400123456", "SpeechResult": "x" * 100_000}
    response = twilio.post("/voice/menu?node=main", params)
    assert response.status_code == 413
    assert response.data == b""


def test_usage_events_never_wait_on_a_dead_database(monkeypatch, clock):
    """Recording an event touches no database: with the server away, callers are answered at once and
    the events wait in memory for the writer, which tries again later."""
    from service.storage import analytics

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "USAGE_EVENTS_INTERVAL_SECONDS": 3600})
    connects = []
    engine = db.engine_for(app)
    # do_connect: every attempt, before the server answers (or does not).
    sqlalchemy_event.listen(engine, "do_connect", lambda *args: connects.append(1))
    for _ in range(5):
        with app.test_request_context():
            analytics.record("voice", "+447400123456", "CA1", "reached", "main")
    assert connects == [] and analytics.events(app).pending() == 5
    assert analytics.events(app).flush() == 0, "the server is away: nothing written"
    assert connects, "the writer did reach for the server (so the count above could have caught a request)"
    assert analytics.events(app).pending() == 5, "and nothing lost: they wait for the next try"
    engine.dispose()


def test_production_without_public_base_url_refuses_to_start(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("LINE_DEV_MODE", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL is not set"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_the_favicon_is_served_as_an_icon(app):
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age=86400" in response.headers["Cache-Control"]
