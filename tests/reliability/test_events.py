"""Usage events are written off the request path: what a clean shutdown and a crash may cost.

The Procfile's web process (gunicorn, as a platform runs it) answers real signed calls and texts
over loopback. After a clean shutdown (SIGTERM, as a platform stops or redeploys it) every usage
event and every delivery id that was answered is in the database. A worker killed outright
(SIGKILL, an out-of-memory kill) loses at most the last second of usage events, and never a
delivery id: that one is written before the text is answered.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import signal
import threading
import time

from sqlalchemy import create_engine, func, select

from service.storage.models import ProcessedMessage, UsageEvent

from .soak.harness import SignedClient, WebProcess, app_env, call_sid, message_sid, release

SALT = b"reliability-salt"  # app_env's ANALYTICS_SALT
LOSS_BOUND_SECONDS = 1.0


def pseudonym(value: str) -> str:
    return hmac.new(SALT, value.encode(), hashlib.sha256).hexdigest()


def counts(url: str) -> tuple[set[str], int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            sessions = set(connection.scalars(select(UsageEvent.session_hash).where(UsageEvent.event == "reached")))
            delivered = connection.scalar(select(func.count()).select_from(ProcessedMessage))
    finally:
        engine.dispose()
    return sessions, delivered


def test_after_a_clean_shutdown_every_answered_event_and_delivery_id_is_stored(own_database_url, tmp_path):
    env = app_env(own_database_url, tmp_path)
    release(env)
    calls, texts = [], []
    with WebProcess(env, tmp_path / "web.log", workers=2) as web:
        client = SignedClient(web.port)
        for i in range(60):
            sid = call_sid()
            assert client.post("/voice", {"CallSid": sid, "From": f"+4474005{i:05d}"}).status == 200
            calls.append(sid)
            sms_sid = message_sid()
            assert client.post("/sms", {"MessageSid": sms_sid, "From": f"+4474006{i:05d}", "Body": "symptoms"}
                               ).status == 200
            texts.append(sms_sid)
    # The platform stopped it (SIGTERM to gunicorn, which stops its workers): nothing answered is missing.
    sessions, delivered = counts(own_database_url)
    assert {pseudonym(sid) for sid in calls + texts} <= sessions
    assert delivered == len(texts)


def test_a_killed_worker_loses_at_most_the_last_second_of_usage_events(own_database_url, tmp_path):
    env = app_env(own_database_url, tmp_path)
    release(env)
    answered: list[tuple[float, str]] = []
    texts: list[str] = []
    stop = threading.Event()
    with WebProcess(env, tmp_path / "web.log", workers=1) as web:
        (worker,) = web.worker_pids()
        client = SignedClient(web.port, timeout=10)

        def caller() -> None:
            i = 0
            while not stop.is_set():
                sid = call_sid()
                try:
                    status = client.post("/voice", {"CallSid": sid, "From": f"+4474007{i % 100000:05d}"}).status
                except (OSError, http.client.HTTPException):
                    status = None  # the worker died under this request: it was never answered
                if status == 200:
                    answered.append((time.monotonic(), sid))
                if i % 5 == 0 and status == 200:
                    sms_sid = message_sid()
                    try:
                        if client.post("/sms", {"MessageSid": sms_sid, "From": "+447400700000", "Body": "hi"}
                                       ).status == 200:
                            texts.append(sms_sid)
                    except (OSError, http.client.HTTPException):
                        pass  # killed under this text: never answered, so Twilio would send it again
                i += 1
                time.sleep(0.01)

        thread = threading.Thread(target=caller, daemon=True)
        thread.start()
        time.sleep(3.0)
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()
        stop.set()
        thread.join(30)
    sessions, delivered = counts(own_database_url)
    before_bound = [sid for at, sid in answered if at < killed_at - LOSS_BOUND_SECONDS]
    assert len(before_bound) > 50, "the run must have answered calls well before the kill"
    missing = [sid for sid in before_bound if pseudonym(sid) not in sessions]
    assert missing == [], f"{len(missing)} calls answered over {LOSS_BOUND_SECONDS} s before the kill lost events"
    # A delivery id is written before the text is answered: every answered one is there, kill or not.
    assert delivered >= len(texts)
