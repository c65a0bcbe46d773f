"""A STOP that arrives during a long database outage is never lost: it is spooled to disk,
confirmed, and replayed before `send-due` sends anything, so no text reaches that number."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from service.cli.sender import Sender
from service.storage import stop_spool
from service.storage.db import Database, db
from service.storage.models import OutboxMessage, Subscriber
from service.web.extensions import loaded

from ..helpers import CALLER, Texter

MORNING = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def outage(monkeypatch):
    """Stop the database: every transaction fails as with a server that is down, until ``end()``."""
    real = Database.session

    class Outage:
        def start(self):
            def refused(self, *args, **kwargs):
                raise OperationalError("SELECT 1", {}, Exception("connection refused: the server is down"))
            monkeypatch.setattr(Database, "session", refused)

        def end(self):
            monkeypatch.setattr(Database, "session", real)

    return Outage()


def subscriber(app) -> Subscriber:
    with app.app_context(), db.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.phone == CALLER)).first()


def test_a_stop_during_a_five_minute_outage_is_honoured_before_anything_is_sent(sender_app, fake, clock, outage):
    clock.set(MORNING)
    texter = Texter(sender_app)
    texter.send("JOIN")
    texter.send("YES")
    with sender_app.app_context(), db.session() as session:
        assert session.scalars(select(OutboxMessage.state)).all() == ["queued"]  # week 1, due now

    outage.start()
    stop = loaded(sender_app).catalogue.prompts["sms_stop"].text
    assert texter.send("STOP", sid="SM" + "9" * 32) == stop
    for _ in range(5):  # five minutes: Twilio would have given up on a 503 long before
        clock.advance(minutes=1)
        assert Sender(sender_app).run_once() == {}  # the spool cannot be replayed: nothing is sent
    assert fake.bodies_to(CALLER) == []
    outage.end()

    Sender(sender_app).run_once()
    assert fake.bodies_to(CALLER) == []
    assert subscriber(sender_app).state == "opted_out"
    with sender_app.app_context(), db.session() as session:
        assert session.scalars(select(OutboxMessage.state)).all() == ["cancelled"]
    assert stop_spool.spool_path(sender_app).read_text() == ""
    clock.advance(days=8)
    Sender(sender_app).run_once()
    assert fake.bodies_to(CALLER) == []


def test_a_start_sent_after_the_outage_wins_over_the_spooled_stop(sender_app, fake, clock, outage):
    clock.set(MORNING)
    texter = Texter(sender_app)
    texter.send("symptoms")
    outage.start()
    texter.send("STOP")
    outage.end()
    # The web process was not restarted, and no send-due has run yet: the texter changes their mind.
    clock.advance(minutes=10)
    texter.send("START")
    assert stop_spool.replay(sender_app)
    assert subscriber(sender_app).state != "opted_out"


def test_the_web_process_replays_the_spool_when_it_starts(sender_app, app_factory, database_url, clock, outage):
    clock.set(MORNING)
    outage.start()
    Texter(sender_app).send("STOP")
    outage.end()
    path = stop_spool.spool_path(sender_app)
    assert path.read_text().count("\n") == 1
    restarted = app_factory(database_url, STOP_SPOOL_PATH=str(path))
    assert path.read_text() == ""
    assert subscriber(restarted).state == "opted_out"


def test_a_spool_line_that_is_no_stop_is_skipped_and_never_blocks_sending(sender_app, clock):
    path = stop_spool.spool_path(sender_app)
    path.write_text('{"phone": null, "at": "2026-12-02T10:00:00+00:00", "sid": "SM1"}\nnot json\n'
                    f'{{"phone": "{CALLER}", "at": "2026-12-02T10:00:00+00:00", "sid": "SM2"}}\n')
    assert stop_spool.replay(sender_app)
    assert path.read_text() == ""
    assert subscriber(sender_app).state == "opted_out"
