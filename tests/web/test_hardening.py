"""Production hardening: unsafe configuration refused at start-up (naming the variable), side
doors locked, less data kept. Each test fails on the line as it was before."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from service import create_app
from service.config import PROJECT_ROOT, ConfigError
from service.storage.db import db
from service.web.extensions import loaded

from ..helpers import DEV_ORIGIN, PUBLIC, TOKEN, Texter, Twilio, log_in, make_user

HEADERS = {"X-Simulator-Request": "1"}


def start(monkeypatch, tmp_path, **environment):
    """create_app as the Procfile's web process would, from the environment alone."""
    monkeypatch.setenv("LINE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'line.db'}")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app()


# -- refuse to start ---------------------------------------------------------------

def test_development_mode_beside_a_public_origin_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="LINE_DEV_MODE=1 is set beside PUBLIC_BASE_URL=https://line"):
        start(monkeypatch, tmp_path, LINE_DEV_MODE="1", PUBLIC_BASE_URL=PUBLIC)


def test_development_mode_on_loopback_still_starts(monkeypatch, tmp_path):
    app = start(monkeypatch, tmp_path, LINE_DEV_MODE="1", PUBLIC_BASE_URL=DEV_ORIGIN)
    assert app.config["DEV_MODE"] and app.config["SIMULATOR_ENABLED"]
    db.engine_for(app).dispose()


@pytest.mark.parametrize("origin", ["http://line.example.org", "http://10.0.0.7:8000", "http://127.0.0.1.evil.io"])
def test_plain_http_is_refused_except_on_loopback(monkeypatch, tmp_path, origin):
    with pytest.raises(ConfigError, match=r"PUBLIC_BASE_URL must start with https:// \(got 'http"):
        start(monkeypatch, tmp_path, PUBLIC_BASE_URL=origin)


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5000", "http://localhost:8000", "http://[::1]:5000"])
def test_plain_http_on_loopback_starts(monkeypatch, tmp_path, origin):
    app = start(monkeypatch, tmp_path, PUBLIC_BASE_URL=origin, ADMIN_CONSOLE="off")
    db.engine_for(app).dispose()


def test_a_public_origin_with_a_path_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be the origin only"):
        start(monkeypatch, tmp_path, PUBLIC_BASE_URL=PUBLIC + "/voice")


@pytest.mark.parametrize("dev", ["1", ""])
def test_a_short_secret_key_is_refused_whenever_the_console_is_on(monkeypatch, tmp_path, dev):
    origin = DEV_ORIGIN if dev else PUBLIC
    with pytest.raises(ConfigError, match=r"SECRET_KEY is too short \(1 characters\)"):
        start(monkeypatch, tmp_path, LINE_DEV_MODE=dev, PUBLIC_BASE_URL=origin, SECRET_KEY="x")


def test_the_web_process_exits_non_zero_naming_the_variable(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LINE_INSTANCE_PATH": str(tmp_path), "TWILIO_AUTH_TOKEN": TOKEN,
           "PUBLIC_BASE_URL": "http://line.example.org", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run([sys.executable, "-c", "import service; service.create_app()"], env=env,  # noqa: S603
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "PUBLIC_BASE_URL must start with https://" in done.stderr


# -- the simulator and other side doors --------------------------------------------

def test_the_simulator_needs_the_console_outside_development(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="SIMULATOR_ENABLED=1 outside development needs the operator console"):
        start(monkeypatch, tmp_path, PUBLIC_BASE_URL=PUBLIC, SIMULATOR_ENABLED="1", ADMIN_CONSOLE="off")


@pytest.fixture
def production_simulator(sqlite_only, app_factory):
    return app_factory(sqlite_only, SIMULATOR_ENABLED=True)


def test_outside_development_the_simulator_page_and_api_need_a_login(production_simulator):
    client = production_simulator.test_client()
    page = client.get("/simulator")
    assert page.status_code == 302 and "/admin/login" in page.headers["Location"]
    for path, body in (("/simulator/api/call", {"from": "+447400123456"}),
                       ("/simulator/api/text", {"from": "+447400123456", "body": "STOP"})):
        response = client.post(path, json=body, headers=HEADERS)
        assert response.status_code == 401, path
        assert response.json["error"] == "log in to the operator console first"


def test_a_logged_in_operator_can_use_the_simulator_with_a_drama_number(production_simulator):
    make_user(production_simulator)
    client = log_in(production_simulator)
    assert client.get("/simulator").status_code == 200
    response = client.post("/simulator/api/text", json={"from": "+447700900555", "body": "symptoms"},
                           headers=HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_outside_development_the_simulator_cannot_act_as_a_real_number(production_simulator):
    from sqlalchemy import func, select

    from service.storage.db import db
    from service.storage.models import OutboxMessage, Subscriber

    make_user(production_simulator)
    client = log_in(production_simulator)
    for body in ("JOIN", "YES", "STOP"):
        refused = client.post("/simulator/api/text", json={"from": "+447400999888", "body": body}, headers=HEADERS)
        assert refused.status_code == 400, body
        assert "only Ofcom's drama numbers, 07700 900000 to 07700 900999" in refused.json["error"]
    call = client.post("/simulator/api/call", json={"from": "07400 999888"}, headers=HEADERS)
    assert call.status_code == 400
    with production_simulator.app_context(), db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    for body in ("JOIN", "YES"):
        assert client.post("/simulator/api/text", json={"from": "+447700900999", "body": body},
                           headers=HEADERS).status_code == 200
    with production_simulator.app_context(), db.session() as session:
        assert session.scalars(select(OutboxMessage.to_number)).all() == ["+447700900999"]


def test_behind_tls_the_simulator_takes_its_own_pages_https_origin(production_simulator):
    """The router speaks plain http to the app; the page's Origin is the public https origin."""
    make_user(production_simulator)
    client = log_in(production_simulator)
    public = production_simulator.config["PUBLIC_BASE_URL"]
    assert public.startswith("https://")
    ok = client.post("/simulator/api/text", json={"from": "+447700900555", "body": "symptoms"},
                     headers={**HEADERS, "Origin": public, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    other = client.post("/simulator/api/text", json={"from": "+447700900555", "body": "symptoms"},
                        headers={**HEADERS, "Origin": public.replace("https://", "http://"),
                                 "Sec-Fetch-Site": "same-origin"})
    assert other.status_code == 403


@pytest.mark.parametrize("path", ["/healthz", "/simulator", "/admin/login", "/voice"])
def test_a_request_for_another_host_is_refused(sqlite_only, app_factory, path):
    """DNS rebinding: a page on evil.example that resolves to this machine names its own host."""
    app = app_factory(sqlite_only, SIMULATOR_ENABLED=True, DEV_MODE=True, PUBLIC_BASE_URL=DEV_ORIGIN,
                      ALLOWED_HOSTS=[])
    client = app.test_client()
    refused = client.get(path, headers={"Host": "evil.example:5000"})
    assert refused.status_code == 400
    assert client.get("/healthz", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_the_public_host_and_allowed_hosts_are_trusted(sqlite_only, app_factory):
    app = app_factory(sqlite_only, ALLOWED_HOSTS=["www.line.example.org"])
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "line.example.org"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "www.line.example.org"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "127.0.0.1"}).status_code == 400


# -- console: HSTS, CSP, logging out -------------------------------------------------

def test_every_response_carries_hsts_on_an_https_origin(app):
    client = app.test_client()
    for path in ("/healthz", "/admin/login", "/audio/manifest.json"):
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), path


def test_no_hsts_on_a_loopback_http_origin(sqlite_only, app_factory):
    app = app_factory(sqlite_only, DEV_MODE=True, PUBLIC_BASE_URL=DEV_ORIGIN)
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers


@pytest.mark.parametrize("path", ["/admin/login", "/simulator"])
def test_pages_have_a_content_security_policy(sqlite_only, app_factory, path):
    app = app_factory(sqlite_only, SIMULATOR_ENABLED=True, DEV_MODE=True, PUBLIC_BASE_URL=DEV_ORIGIN,
                      AUDIO_BASE_URL="https://cdn.example.net/all-line")
    policy = app.test_client().get(path).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["media-src"] == "'self' https://cdn.example.net"
    assert directives["frame-ancestors"] == "'none'" and "unsafe-inline" not in policy


def test_logging_out_ends_the_session_on_the_server(app):
    make_user(app)
    client = log_in(app)
    assert client.get("/admin/usage").status_code == 200
    copied = client.get_cookie("session").value
    page = client.get("/admin/usage").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied, domain="localhost")
    response = thief.get("/admin/usage")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert log_in(app).get("/admin/usage").status_code == 200, "a new login works again"


# -- nothing lost -----------------------------------------------------------------

def test_a_stop_the_database_cannot_store_is_spooled_and_confirmed(monkeypatch, clock, tmp_path):
    import json

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    spool = tmp_path / "spool" / "stop-spool.jsonl"
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "PUBLIC_BASE_URL": PUBLIC, "ALLOWED_HOSTS": ["localhost"], "STOP_SPOOL_PATH": str(spool)})
    twilio = Twilio(app)
    confirmation = loaded(app).catalogue.prompts["sms_stop"].text
    for body, extra in (("STOP", {}), (" stop ", {}), ("Unsubscribe", {}), ("stop", {"OptOutType": "STOP"})):
        response = twilio.post("/sms", {"MessageSid": "SM" + "5" * 32, "From": "+447400123456", "Body": body,
                                        **extra})
        assert response.status_code == 200 and confirmation in response.get_data(as_text=True), body
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert [(e["phone"], e["sid"]) for e in lines] == [("+447400123456", "SM" + "5" * 32)] * 4
    assert oct(spool.stat().st_mode & 0o777) == "0o600"
    # With nowhere to spool it either, Twilio is asked to deliver it again.
    app.config["STOP_SPOOL_PATH"] = "/proc/no-such-place/stop-spool.jsonl"
    again = twilio.post("/sms", {"MessageSid": "SM" + "7" * 32, "From": "+447400123456", "Body": "STOP"})
    assert again.status_code == 503 and again.data == b""
    apology = twilio.post("/sms", {"MessageSid": "SM" + "6" * 32, "From": "+447400123456", "Body": "symptoms"})
    assert apology.status_code == 200 and "Sorry" in apology.get_data(as_text=True)


# -- cost and data -------------------------------------------------------------------

ABROAD = "+12025550143"  # a US number


def test_a_number_outside_the_allowed_countries_gets_one_short_reply_and_nothing_more(any_db_app):
    from sqlalchemy import func, select

    from service.storage.db import db
    from service.storage.models import OutboxMessage, Subscriber

    texter = Texter(any_db_app, ABROAD)
    cat = loaded(any_db_app).catalogue
    assert texter.send("hi") == cat.prompts["sms_abroad"].text
    for body in ("JOIN", "YES", "symptoms", "MENU", "HELP", "I have a fever"):
        assert texter.send(body) is None, body
    assert texter.send("STOP") is None
    with any_db_app.app_context(), db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        states = session.scalars(select(Subscriber.state).where(Subscriber.phone == ABROAD)).all()
    assert states == ["opted_out"], "STOP is still honoured, and nothing else is kept"


def test_allowed_country_codes_can_widen_the_line(sqlite_only, app_factory):
    app = app_factory(sqlite_only, ALLOWED_COUNTRY_CODES=[44, 1])
    reply = Texter(app, ABROAD).send("symptoms")
    assert reply == loaded(app).catalogue.topic_sms("symptoms")


def test_a_bad_country_code_list_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="ALLOWED_COUNTRY_CODES must list calling codes"):
        start(monkeypatch, tmp_path, PUBLIC_BASE_URL=PUBLIC, ALLOWED_COUNTRY_CODES="UK")


def test_the_sender_never_texts_a_number_outside_the_allowed_countries(sqlite_only, app_factory, clock):
    import responses

    from service.cli.sender import Sender
    from service.storage.db import db
    from service.storage.outbox import enqueue

    from ..fake_twilio import API, FakeTwilio

    app = app_factory(sqlite_only, TWILIO_API_URL=API, SEND_RATE_PER_SECOND=10_000.0)
    with app.app_context(), db.session() as session:
        enqueue(session, kind="topic", dedupe_key="x", to_number=ABROAD, body="Hello")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeTwilio(mock)
        assert dict(Sender(app).run_once()) == {"parked": 1}
        assert fake.received == []


def test_purge_deletes_old_finished_texts_with_their_numbers(any_db_app, clock):
    import datetime as dt

    from sqlalchemy import select

    from service.storage.db import db
    from service.storage.models import OutboxMessage
    from service.storage.outbox import enqueue

    with any_db_app.app_context(), db.session() as session:
        for key, state in (("old-sent", "sent"), ("old-cancelled", "cancelled"), ("old-parked", "parked"),
                           ("old-queued", "queued")):
            enqueue(session, kind="topic", dedupe_key=key, to_number="+447400123456", body="words")
            session.flush()
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()
            row.state = state
    clock.advance(days=31)
    with any_db_app.app_context(), db.session() as session:
        enqueue(session, kind="topic", dedupe_key="new-sent", to_number="+447400123456", body="words")
        session.flush()
        session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "new-sent")).one().state = "sent"
    result = any_db_app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "3 texts sent, cancelled or parked more than 30 days ago" in result.output
    with any_db_app.app_context(), db.session() as session:
        left = sorted(session.scalars(select(OutboxMessage.dedupe_key)))
    assert left == ["new-sent", "old-queued"]
    assert dt.timedelta(days=any_db_app.config["OUTBOX_RETENTION_DAYS"]) == dt.timedelta(days=30)


# -- the login limit -------------------------------------------------------------------

def login_attempt(client, token, name, password, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/admin/login", data={"name": name, "password": password, "csrf_token": token},
                       headers=headers)


def test_a_forwarded_chain_shorter_than_the_hops_counts_the_connection(sqlite_only, app_factory):
    from service.admin.lockout import client_address

    app = app_factory(sqlite_only, ADMIN_PROXY_HOPS=2)
    with app.test_request_context("/admin/login", headers={"X-Forwarded-For": "203.0.113.5"},
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        assert client_address() == "10.1.2.3"
    with app.test_request_context("/admin/login", headers={"X-Forwarded-For": "203.0.113.5, 10.9.9.9"},
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        assert client_address() == "203.0.113.5"
