"""The database stops in the middle of a run, then comes back.

Runs the Procfile's web process on a PostgreSQL cluster of its own (initdb and
pg_ctl as the postgres user, on a free loopback port, in a temporary folder,
stopped and removed at the end whatever happens): the shared server that other
tests use is never touched.

What "no inbound message is lost" means here. Twilio delivers a text to the
webhook and, if the webhook fails (no answer, or a connection override such as
``#rc=2&rp=ct,rt`` on a 5xx or time-out), delivers the same MessageSid again.
The app records a MessageSid in the same transaction as the text's effects
(opt-out, menu position, subscription), so either both are committed or
neither is. While the database is down a text gets the short apology and leaves
no record, so:

1. every text is answered (the apology while the database is down: 200 and
   valid TwiML, never a hang), except a STOP: it is spooled to disk and
   confirmed, and stored when the database is back (a redelivery is honoured too);
2. a text answered with the apology is not marked processed: when the same
   MessageSid arrives again after recovery (a redelivery, or the person
   texting again), it gets its real answer and its effect (a STOP opts out);
3. a text answered for real before the outage stays answered: its redelivery
   gets nothing, during and after the outage is not double-counted;
4. afterwards every MessageSid that got a real answer is recorded exactly once.

So nothing a texter sent is silently dropped: it was either handled, or the
texter was told to try again and a retry is handled in full. (The apology does
end Twilio's own retries, because it is a 200: a retry comes from the texter,
or from Twilio only where the webhook failed outright.)
"""
from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import create_engine, select

from service.config import PROJECT_ROOT
from service.content import load_catalogue
from service.storage.models import ProcessedMessage, Subscriber

from .soak.harness import (
    SignedClient,
    ThrowawayCluster,
    WebProcess,
    app_env,
    call_sid,
    get,
    initdb_missing_reason,
    message_sid,
    release,
    sms_messages,
    voice_twiml,
)

CALLER = "+447400123456"
TEXTER = "+447400654321"
STOPPER = "+447400777888"

missing = initdb_missing_reason()
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(PROJECT_ROOT / "prompts")


def call_reaches_a_summary(client: SignedClient) -> tuple[float, float]:
    """Dial in, press 1 (symptoms): a menu, then the summary. Returns the two latencies."""
    params = {"CallSid": call_sid(), "From": CALLER, "To": "+441632960000"}
    welcome = client.post("/voice", params)
    root = voice_twiml(welcome)
    gather = root.find("Gather")
    assert gather is not None, "the welcome offers a menu"
    summary = client.post(gather.get("action"), dict(params, Digits="1"))
    root = voice_twiml(summary)
    assert "node=symptoms" in root.find("Gather").get("action"), summary.body[:300]
    return welcome.seconds, summary.seconds


def text(client: SignedClient, sid: str, body: str, sender: str = TEXTER) -> list[str]:
    return sms_messages(client.post("/sms", {"MessageSid": sid, "From": sender, "Body": body}))


def health(port: int) -> tuple[int, dict]:
    status, body = get(port, "/healthz")
    return status, json.loads(body)


def test_the_line_rides_out_a_database_outage(tmp_path, catalogue):
    apology = catalogue.prompts["sms_error"].text
    with ThrowawayCluster() as cluster:
        env = app_env(cluster.url, tmp_path)
        release(env)
        with WebProcess(env, tmp_path / "web.log", workers=2) as web:
            client = SignedClient(web.port, timeout=15)
            assert health(web.port)[0] == 200
            call_reaches_a_summary(client)
            before = [message_sid() for _ in range(3)]
            for sid in before:
                replies = text(client, sid, "symptoms")
                assert len(replies) == 1 and replies[0] != apology

            cluster.stop()

            status, body = health(web.port)
            assert status == 503 and body["database"] == "unreachable", body
            for _ in range(4):  # each worker, more than once
                welcome_s, summary_s = call_reaches_a_summary(client)
                assert max(welcome_s, summary_s) < 5, "a call step waited on the dead database"
            during = [message_sid() for _ in range(4)]
            for sid, body_text in zip(during, ["MENU", "1", "symptoms", "JOIN"], strict=True):
                assert text(client, sid, body_text) == [apology]
            stop_sid = message_sid()
            # A STOP the database cannot store is spooled to disk and confirmed (stop_spool).
            assert text(client, stop_sid, "STOP", sender=STOPPER) == [catalogue.prompts["sms_stop"].text]
            # A text answered before the outage, delivered again now: the app cannot tell,
            # so it apologises; no effect is applied twice.
            assert text(client, before[0], "symptoms") == [apology]

            cluster.start()

            deadline = time.monotonic() + 30
            while health(web.port)[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert health(web.port)[0] == 200, "healthz recovers"
            call_reaches_a_summary(client)
            # Redelivered (or re-sent) after recovery: each gets its real answer, once.
            for sid, body_text in zip(during, ["MENU", "1", "symptoms", "JOIN"], strict=True):
                replies = text(client, sid, body_text)
                assert len(replies) == 1 and replies[0] != apology, (body_text, replies)
                assert text(client, sid, body_text) == [], "a second redelivery gets nothing"
            assert text(client, stop_sid, "STOP", sender=STOPPER) == [catalogue.prompts["sms_stop"].text]
            assert text(client, message_sid(), "symptoms", sender=STOPPER) == [], "the STOP took effect"
            for sid in before:
                assert text(client, sid, "symptoms") == [], "answered before the outage: still answered"
            fresh = text(client, message_sid(), "treatment")
            assert len(fresh) == 1 and fresh[0] != apology

        engine = create_engine(cluster.url)
        try:
            with engine.connect() as conn:
                processed = list(conn.scalars(select(ProcessedMessage.message_sid)))
                stopper = conn.execute(select(Subscriber.state).where(Subscriber.phone == STOPPER)).scalar()
        finally:
            engine.dispose()
    assert set(before + during + [stop_sid]) <= set(processed)
    assert len(processed) == len(set(processed))
    assert stopper == "opted_out"
    log = web.log()
    assert "Traceback" not in log or "OperationalError" in log, "only database errors were logged"
    assert not re.search(r"7400(123456|654321|777888)", log), "a full number reached the log"
