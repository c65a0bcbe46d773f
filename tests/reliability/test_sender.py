"""A `send-due` worker killed with SIGKILL in the middle of a send, then restarted.

The worker is the real CLI in its own process; Twilio is the stdlib fake server
(tests/fake_twilio_server.py), slow to answer so the kill lands while a request
is in flight. The outbox rows prove what happened:

- sent before the kill: ``sent``, with the sid the fake gave, never sent again;
- in flight when killed (``send_started_at`` committed): nobody can know whether
  Twilio took it, so after the stale window it is ``parked`` with that reason,
  never resent (the fake did receive it here: resending would have doubled it);
- claimed by the dead worker but never started: left alone inside the stale
  window (10 minutes), then requeued and sent exactly once.

The stale window is passed honestly, without editing rows: the restarted worker
runs with the application's own clock (``service.basics.clock.set_clock``, the seam the
design gives tests) eleven minutes ahead of the suite's pinned wall clock
(tests/wall_clock.py), the only change from production.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

from sqlalchemy import create_engine, insert, select

from service.storage.models import OutboxMessage

from .. import wall_clock
from ..fake_twilio_server import FakeTwilioServer
from .soak.harness import BIN, ROOT, app_env, release

ROWS = 8
SENT_BEFORE_KILL = 2  # the kill lands while the third request is in flight
AHEAD = dt.timedelta(minutes=11)
WORKER_WITH_CLOCK_AHEAD = (
    "import datetime as dt, time, service.basics.clock as clock;"
    f"start = clock.now() + dt.timedelta(seconds={AHEAD.total_seconds()}); moved = time.monotonic();"
    "clock.set_clock(lambda: start + dt.timedelta(seconds=time.monotonic() - moved));"
    "from flask.cli import main; main()"
)


def send_due_command(clock_ahead: bool = False) -> list[str]:
    if clock_ahead:
        return [str(BIN / "python"), "-c", WORKER_WITH_CLOCK_AHEAD, "--app", "service", "sms", "send-due"]
    return [str(BIN / "flask"), "--app", "service", "sms", "send-due"]


def queue_texts(url: str) -> None:
    moment = wall_clock.now() - dt.timedelta(minutes=1)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(OutboxMessage), [
                {"dedupe_key": f"reliability:{i}", "kind": "text_me", "to_number": f"+4474009{i:05d}",
                 "body": f"reliability text {i}", "state": "queued", "due_at": moment, "attempts": 0,
                 "created_at": moment} for i in range(ROWS)])
    finally:
        engine.dispose()


def outbox(url: str) -> list[OutboxMessage]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        engine.dispose()


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_a_worker_killed_mid_send_neither_loses_nor_doubles_a_text(own_database_url, tmp_path):
    with FakeTwilioServer(delay=1.0) as fake:
        env = app_env(own_database_url, tmp_path, TWILIO_API_URL=fake.url, SEND_RATE_PER_SECOND="1000")
        release(env)
        queue_texts(own_database_url)
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(send_due_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: len(fake.received) == SENT_BEFORE_KILL + 1 and fake.in_flight == 1, 30,
                     "the third text to be in flight")
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(timeout=10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
            log.close()
        wait_for(lambda: fake.in_flight == 0, 10, "the fake to finish the orphaned request")
        fake.delay = 0.02

        after_kill = {row.state: 0 for row in outbox(own_database_url)}
        for row in outbox(own_database_url):
            after_kill[row.state] += 1
        assert after_kill == {"sent": SENT_BEFORE_KILL, "sending": ROWS - SENT_BEFORE_KILL}, after_kill

        # Restarted at once: the dead worker's claims are inside the stale window, so nothing goes.
        first = subprocess.run(send_due_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "nothing due" in first.stdout
        assert len(fake.received) == SENT_BEFORE_KILL + 1

        # Restarted after the stale window (the app's clock 11 minutes ahead).
        second = subprocess.run(send_due_command(clock_ahead=True), cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "parked 1" in second.stdout and "requeued 5" in second.stdout and "sent 5" in second.stdout, \
            second.stdout

        received = fake.snapshot()

    rows = outbox(own_database_url)
    bodies = [message["Body"] for message in received]
    assert len(bodies) == len(set(bodies)) == ROWS, "the fake received a text twice, or one is missing"
    states = [row.state for row in rows]
    assert states.count("sent") == ROWS - 1 and states.count("parked") == 1, states
    by_body = {message["Body"]: message for message in received}
    for row in rows:
        if row.state == "sent":
            assert by_body[row.body]["sid"] == row.twilio_sid, "a sent row records the sid Twilio gave it"
        else:
            assert row.send_started_at is not None and row.twilio_sid is None
            assert "may or may not have gone" in row.last_error
    parked = next(row for row in rows if row.state == "parked")
    assert parked.id == SENT_BEFORE_KILL + 1, "the parked row is the one that was in flight at the kill"
