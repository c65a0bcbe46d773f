"""Nothing on a webhook's path that need not be there: what a call step and a text cost the
database, TwiML built once per turn with the same bytes, and URLs as url_for writes them."""
from __future__ import annotations

import importlib
import threading

import pytest
from flask import url_for
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, text

from service.basics.clock import now
from service.basics.privacy import pseudonym
from service.engine import CallState, Turn
from service.engine.effects import Transfer
from service.storage import analytics, returning
from service.storage.db import db, make_engine
from service.storage.models import ReturningCaller
from service.web.extensions import loaded
from service.web.twiml import render
from service.web.urls import external_url

from ..helpers import CALLER, Call, Texter, Twilio, parse, postgres_url


class Statements:
    """Every SQL statement an engine runs for this thread (the requests), as text: the background
    threads' own (usage events, the consent index) are theirs, not a request's."""

    def __init__(self, app):
        self.seen: list[str] = []
        self._thread = threading.get_ident()
        event.listen(db.engine_for(app), "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == self._thread:
            self.seen.append(" ".join(statement.split()).upper())

    def clear(self) -> None:
        self.seen.clear()


def test_a_call_step_asks_the_database_nothing(app):
    statements = Statements(app)
    twilio = Twilio(app)
    parse(twilio.post("/voice", {"CallSid": "CA" + "0" * 32, "From": CALLER}))
    returning.consents(app)._loading.join(30)
    analytics.events(app).flush()
    sid = "CA" + "1" * 32
    statements.clear()
    root = parse(twilio.post("/voice", {"CallSid": sid, "From": CALLER}))
    assert root.find("Gather") is not None
    parse(twilio.post("/voice/menu?node=main&slow=0&misses=0&silences=0",
                      {"CallSid": sid, "From": CALLER, "Digits": "2"}))
    assert statements.seen == [], "events are written by the background writer, and no one here has a consent"
    assert analytics.events(app).flush() >= 3, "the three events of these two steps were waiting"
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
    returning.consents(app).refresh()  # what the index's own thread does every few seconds
    assert "returning_offer_unnamed" in Call(app, call_sid="CA" + "3" * 32).dial_in()


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
    lambda tail: "https://line.example.org/voice/menu?node=main&x=" + tail + "\"<>&\n\r\t")


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


def test_a_callback_number_read_back_is_never_kept_as_a_template(app):
    templates = loaded(app).templates
    read_back = Turn(("callback_read_back", "digit_0", "digit_7", "digit_9", "callback_confirm_keys"), CallState())
    before = templates._template.cache_info().currsize
    with app.test_request_context():
        xml = templates.xml(read_back, action_url="https://line.example.org/voice/menu?node=x",
                            dial_action_url="https://line.example.org/voice/dial-done")
    assert "digit_7" in xml or "seven" in xml
    assert templates._template.cache_info().currsize == before


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
        monkeypatch.setattr(importlib.import_module("service.storage.db"), "IDLE_PING_SECONDS", 0.0)
        with pool.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1, "the dropped connection was replaced"
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != backend
        assert pings
    finally:
        pool.dispose()


def test_a_text_on_a_connection_the_server_just_dropped_is_still_answered(database_url, app_factory):
    """A server restart kills the pooled connections; one used within the last second is not pinged,
    so its text fails once, and is taken again on a fresh connection: the texter is answered."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that drops connections is a PostgreSQL matter")
    app = app_factory(database_url)
    texter = Texter(app)
    assert texter.send("hi") == texter.cat.greeting_with_menu()
    killer = make_engine(database_url)
    with killer.connect() as connection:
        dropped = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    assert dropped >= 1
    assert texter.send("symptoms") == texter.cat.topic_sms("symptoms")
