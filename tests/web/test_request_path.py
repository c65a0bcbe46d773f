"""Nothing on a webhook's path that need not be there: what a call step and a text cost the
database, TwiML built once per turn with the same bytes, and URLs as url_for writes them."""
from __future__ import annotations

import importlib

import pytest
from flask import url_for
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, text

from service import analytics, returning
from service.clock import now
from service.db import db, make_engine
from service.engine import CallState, Turn
from service.engine.effects import Transfer
from service.extensions import loaded
from service.models import ReturningCaller
from service.privacy import pseudonym
from service.twiml import render
from service.urls import external_url

from ..helpers import CALLER, Call, Texter, Twilio, parse, postgres_url


class Statements:
    """Every SQL statement an engine runs, as text."""

    def __init__(self, app):
        self.seen: list[str] = []
        event.listen(db.engine_for(app), "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(" ".join(statement.split()).upper())

    def clear(self) -> None:
        self.seen.clear()


def test_a_call_step_asks_the_database_nothing(app):
    statements = Statements(app)
    twilio = Twilio(app)
    parse(twilio.post("/voice", {"CallSid": "CA" + "0" * 32, "From": CALLER}))
    assert [s for s in statements.seen if "RETURNING_CALLERS" in s], "a process's first call loads the consents"
    analytics.events(app).flush()
    sid = "CA" + "1" * 32
    statements.clear()
    root = parse(twilio.post("/voice", {"CallSid": sid, "From": CALLER}))
    assert root.find("Gather") is not None
    parse(twilio.post("/voice/menu?node=main&slow=0&misses=0&silences=0",
                      {"CallSid": sid, "From": CALLER, "Digits": "2"}))
    assert statements.seen == [], "events are written by the background writer, and no one here has a consent"
    assert analytics.events(app).pending() == 3
    assert analytics.events(app).flush() == 3
    assert any(s.startswith("INSERT INTO USAGE_EVENTS") for s in statements.seen)


def test_a_text_is_two_statements_and_a_commit(any_db_app):
    statements = Statements(any_db_app)
    texter = Texter(any_db_app)
    texter.send("hi")
    statements.clear()
    texter.send("symptoms")
    work = [s for s in statements.seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))]
    expected = 2 if db.engine_for(any_db_app).dialect.name == "postgresql" else 3
    assert len(work) == expected, work
    assert work[-1].startswith("INSERT INTO SMS_SESSIONS") and "ON CONFLICT" in work[-1]
    statements.clear()
    assert texter.send("symptoms") == texter.cat.topic_sms("symptoms")
    again = [s for s in statements.seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))]
    assert len(again) == expected - 1, "the same place again: nothing to keep"
    assert texter.send("MORE") == texter.cat.prompts["sms_menu_symptoms_more"].text, "and the place is right"


def test_a_consent_stored_by_another_process_is_offered_after_the_refresh(app_factory, sqlite_only, clock):
    app = app_factory(sqlite_only, RETURNING_REFRESH_SECONDS=3600)
    first = Call(app)
    first.dial_in()  # this process has looked: nobody has a consent
    with app.app_context(), db.engine_for(app).begin() as connection:
        connection.execute(insert(ReturningCaller), [{"caller_hash": pseudonym(CALLER), "topic": "treatment",
                                                      "remembered_at": now()}])
    assert "returning_offer" not in Call(app, call_sid="CA" + "2" * 32).dial_in(), \
        "within the refresh interval another process's consent is not known yet: the usual welcome"
    returning.consents(app).refresh_seconds = 0.0
    returning.consents(app)._next_look = 0.0
    assert "returning_offer" in Call(app, call_sid="CA" + "3" * 32).dial_in()


def test_a_consent_given_on_this_process_is_offered_on_the_next_call(app):
    call = Call(app)
    call.dial_in()
    call.press("2")
    call.press("9")
    assert call.press("1") == ["remember_done", "goodbye"]
    assert "returning_offer" in Call(app, call_sid="CA" + "4" * 32).dial_in()


turns = st.builds(
    Turn,
    prompts=st.lists(st.sampled_from(["welcome", "keys", "menu_main", "topic.symptoms", "after_topic", "digit_0",
                                      "digit_7", "callback_read_back", "goodbye", "transfer"]),
                     min_size=1, max_size=6).map(tuple),
    state=st.builds(CallState, slow=st.booleans()),
    listen=st.booleans(),
    hangup=st.booleans(),
    effect=st.one_of(st.none(), st.just(Transfer("+448088080000"))),
    collect_number=st.booleans(),
)
urls = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=80).map(
    lambda tail: "https://line.example.org/voice/menu?node=main&x=" + tail + "\"<>&\n")


@settings(max_examples=150, deadline=None)
@given(turn=turns, action=urls, dial=urls)
def test_a_cached_template_gives_the_same_bytes_as_building_the_turn(turn, action, dial):
    app = _APP[0]
    parts = loaded(app)
    with app.test_request_context():
        cached = parts.templates.xml(turn, action_url=action, dial_action_url=dial)
        built = str(render(turn, parts.speaker, action_url=action, dial_action_url=dial, hints=parts.hints,
                           timeout=app.config["GATHER_TIMEOUT_SECONDS"],
                           dial_timeout=app.config["DIAL_TIMEOUT_SECONDS"]))
    assert cached == built


_APP: list = []


@pytest.fixture(autouse=True)
def _one_app(app):
    _APP[:] = [app]


@settings(max_examples=150, deadline=None)
@given(node=st.from_regex(r"[a-z_]{1,32}", fullmatch=True), slow=st.integers(0, 1), misses=st.integers(0, 3),
       topic=st.one_of(st.just(""), st.from_regex(r"[a-z_]{1,32}", fullmatch=True)),
       number=st.one_of(st.just(""), st.from_regex(r"[0-9a-f]{2,30}", fullmatch=True)))
def test_action_urls_are_the_bytes_url_for_writes(node, slow, misses, topic, number):
    app = _APP[0]
    args = {"node": node, "slow": slow, "misses": misses, "silences": 0}
    if topic:
        args["topic"] = topic
    if number:
        args["number"] = number
    with app.test_request_context():
        for endpoint in ("voice.menu", "voice.dial_done", "sms.delivery_status"):
            assert external_url(endpoint, **args) == app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **args)


def test_an_idle_connection_is_checked_before_use_and_a_busy_one_is_not(monkeypatch):
    """In place of a ping on every checkout (a round trip per webhook): only a connection that sat
    idle is checked, so one the server dropped meanwhile is replaced before anyone uses it."""
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (`.ci/run` sets it)")
    pool = make_engine(url)
    pings = []
    real_ping = pool.dialect.do_ping
    monkeypatch.setattr(pool.dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    try:
        with pool.connect() as connection:
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        for _ in range(20):
            with pool.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert pings == [], "a connection in steady use is not pinged"
        killer = make_engine(url)
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        killer.dispose()
        # The module, not the `db` object the package exports under the same name.
        monkeypatch.setattr(importlib.import_module("service.db"), "IDLE_PING_SECONDS", 0.0)
        with pool.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1, "the dropped connection was replaced"
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != backend
        assert pings
    finally:
        pool.dispose()
