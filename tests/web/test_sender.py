"""The weekly series and the outbox, sent through the real twilio client to a fake API."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, insert, select

from service.cli.sender import Sender, SenderConfigError, make_client
from service.storage.db import db
from service.storage.models import OutboxMessage, Subscriber
from service.web.extensions import loaded

from ..fake_twilio import ACCOUNT, API
from ..helpers import CALLER, PUBLIC, Call, Texter, Twilio

# Wednesday 2 December 2026; London is on GMT (UTC+0) then.
MORNING = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
NIGHT = dt.datetime(2026, 12, 2, 22, 30, tzinfo=dt.UTC)


def send_due(app) -> dict:
    return dict(Sender(app).run_once())


def rows(app) -> list[OutboxMessage]:
    with app.app_context(), db.session() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def subscriber(app, number=CALLER) -> Subscriber:
    with app.app_context(), db.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.phone == number)).first()


def join(app):
    texter = Texter(app)
    texter.send("JOIN")
    texter.send("YES")
    return texter


def test_series_goes_out_week_by_week_in_order_and_ends(sender_app, fake, clock):
    cat = loaded(sender_app).catalogue
    clock.set(MORNING)
    join(sender_app)
    for week in range(len(cat.series)):
        assert send_due(sender_app).get("sent") == 1, week
        assert send_due(sender_app) == {}, "nothing more is due the same week"
        clock.advance(days=7)
    assert fake.bodies_to(CALLER) == [text.sms for text in cat.series]
    assert "JOIN" in fake.bodies_to(CALLER)[-1]
    assert subscriber(sender_app).state == "finished"
    sent = fake.received[0]
    assert sent["From"] == "+441632960000"
    assert sent["StatusCallback"] == PUBLIC + "/sms/status"


def test_a_yes_at_night_waits_for_the_morning(sender_app, fake, clock):
    clock.set(NIGHT)
    join(sender_app)
    assert send_due(sender_app) == {}
    clock.set(NIGHT + dt.timedelta(hours=9))  # 07:30: still quiet
    assert send_due(sender_app) == {}
    clock.set(NIGHT + dt.timedelta(hours=10, minutes=45))  # 09:15
    assert send_due(sender_app)["sent"] == 1


def test_later_texts_keep_the_london_wall_clock_across_a_clock_change(sender_app, fake, clock):
    clock.set(dt.datetime(2027, 3, 25, 18, 30, tzinfo=dt.UTC))  # 18:30 GMT, Thursday
    join(sender_app)
    send_due(sender_app)
    nxt = subscriber(sender_app).next_send_at
    assert nxt == dt.datetime(2027, 4, 1, 17, 30, tzinfo=dt.UTC)  # 18:30 BST


def test_stop_between_claim_and_send_sends_nothing(sender_app, fake, clock):
    clock.set(MORNING)
    texter = join(sender_app)
    sender = Sender(sender_app)
    with sender_app.app_context():
        token, claimed = sender.claim()
        assert len(claimed) == 1
        texter.send("STOP")
        sender.send_one(token, claimed[0])
    assert fake.received == []
    assert [r.state for r in rows(sender_app)] == ["cancelled"]


def test_carrier_opt_out_21610_marks_the_subscriber(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    assert send_due(sender_app) == {"cancelled": 1}
    assert subscriber(sender_app).state == "opted_out"
    clock.advance(days=7)
    assert send_due(sender_app) == {}
    assert fake.received == []


def test_429_then_success_retries_after_a_back_off(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(429, 20429, "Too Many Requests")
    assert send_due(sender_app) == {"retried": 1}
    assert send_due(sender_app) == {}, "not due again until the back-off has passed"
    clock.advance(seconds=61)
    assert send_due(sender_app) == {"sent": 1}
    assert len(fake.received) == 1


def test_server_errors_retry_a_bounded_number_of_times_then_park(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(503, 20503, "Service Unavailable", times=10)
    outcomes = []
    for _ in range(sender_app.config["SEND_MAX_ATTEMPTS"]):
        outcomes.append(send_due(sender_app))
        clock.advance(minutes=61)  # longer than the longest back-off, still inside 09:00-20:00
    assert outcomes[-1] == {"parked": 1}
    parked = rows(sender_app)[0]
    assert parked.state == "parked" and "503" in parked.last_error and "gave up" in parked.last_error
    assert send_due(sender_app) == {}
    assert fake.received == []


def test_a_bad_number_is_parked_at_once_with_the_reason(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(400, 21211, "Invalid 'To' Phone Number")
    assert send_due(sender_app) == {"parked": 1}
    assert "21211" in rows(sender_app)[0].last_error


def test_worker_killed_after_claim_before_send_is_requeued_and_sent_once(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    with sender_app.app_context():
        Sender(sender_app).claim()  # then the worker dies
    assert send_due(sender_app) == {}, "a fresh claim is not taken over early"
    clock.advance(minutes=11)
    assert send_due(sender_app) == {"requeued": 1, "sent": 1}
    assert len(fake.received) == 1


def test_worker_killed_during_the_request_is_parked_not_sent_twice(sender_app, fake, clock, monkeypatch):
    clock.set(MORNING)
    join(sender_app)
    sender = Sender(sender_app)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # the process is killed while Twilio is being asked

    monkeypatch.setattr(sender.client.messages, "create", dies)
    with pytest.raises(KeyboardInterrupt):
        sender.run_once()
    clock.advance(minutes=11)
    assert send_due(sender_app) == {"parked": 1}
    assert "may or may not" in rows(sender_app)[0].last_error
    assert fake.received == []


def test_text_me_this_from_a_call_is_sent_even_at_night(sender_app, fake, clock):
    clock.set(NIGHT)
    call = Call(sender_app)
    call.dial_in()
    call.press("1")
    assert call.press("8")[0] == "text_sent"
    assert send_due(sender_app) == {"sent": 1}
    cat = loaded(sender_app).catalogue
    assert fake.bodies_to(CALLER) == [cat.topic_sms("symptoms", in_reply=False)]


def test_delivery_status_callback_is_recorded(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    send_due(sender_app)
    sid = fake.received[0]["sid"]
    twilio = Twilio(sender_app)
    response = twilio.post("/sms/status", {"MessageSid": sid, "MessageStatus": "undelivered",
                                           "ErrorCode": "21610", "To": CALLER})
    assert response.status_code == 204
    assert rows(sender_app)[0].delivery_status == "undelivered"
    assert subscriber(sender_app).state == "opted_out"


def test_missing_sender_configuration_is_a_clear_error(sender_app):
    config = dict(sender_app.config, TWILIO_PHONE_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="")
    with pytest.raises(SenderConfigError, match="TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID"):
        make_client(config)


def test_send_due_command_exits_zero_and_reports(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    result = sender_app.test_cli_runner().invoke(args=["sms", "send-due"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output


@pytest.mark.postgres
def test_four_workers_send_ten_thousand_texts_exactly_once(database_url, app_factory, clock, fake):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once need PostgreSQL (SKIP LOCKED)")
    app = app_factory(database_url, TWILIO_API_URL=API, TWILIO_ACCOUNT_SID=ACCOUNT,
                      SEND_RATE_PER_SECOND=1_000_000.0, SEND_BATCH_SIZE=100)
    clock.set(MORNING)
    total = 10_000
    with app.app_context(), db.session() as session:
        session.execute(insert(OutboxMessage), [
            {"dedupe_key": f"load:{i}", "kind": "text_me", "to_number": f"+4474{i:08d}", "body": f"text {i}",
             "state": "queued", "due_at": MORNING, "attempts": 0, "created_at": MORNING} for i in range(total)])
    workers = [Sender(app, name=f"w{n}") for n in range(4)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    bodies = [m["Body"] for m in fake.received]
    assert len(bodies) == total
    assert len(set(bodies)) == total
    assert all(w.counts["sent"] > 0 for w in workers), [w.counts for w in workers]
    with app.app_context(), db.session() as session:
        states = dict(session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    assert states == {"sent": total}


def test_a_parked_series_text_does_not_end_the_series(sender_app, fake, clock):
    cat = loaded(sender_app).catalogue
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(400, 21211, "Invalid 'To' Phone Number")
    assert send_due(sender_app) == {"parked": 1}
    assert subscriber(sender_app).series_position == 1
    clock.advance(days=7)
    assert send_due(sender_app) == {"sent": 1}
    assert fake.bodies_to(CALLER) == [cat.series[1].sms]


def test_text_me_this_goes_before_the_series_backlog(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    call = Call(sender_app, call_sid="CA" + "9" * 32)
    call.dial_in()
    call.press("1")
    call.press("8")
    for batch_size in (1, 50):  # first claimed, and first sent within a batch
        fake.received.clear()
        with sender_app.app_context(), db.session() as session:
            session.execute(OutboxMessage.__table__.update().values(state="queued", claimed_by=None))
        sender_app.config["SEND_BATCH_SIZE"] = batch_size
        send_due(sender_app)
        sent_from_call = loaded(sender_app).catalogue.topic_sms("symptoms", in_reply=False)
        assert fake.received[0]["Body"] == sent_from_call, batch_size


def test_twilio_error_messages_never_put_a_number_in_the_log_or_the_row(sender_app, fake, clock, caplog):
    clock.set(MORNING)
    join(sender_app)
    fake.fail_next(400, 21211, f"The 'To' number {CALLER} is not a valid phone number.")
    send_due(sender_app)
    assert CALLER not in caplog.text and CALLER[1:] not in caplog.text
    assert CALLER not in rows(sender_app)[0].last_error


@pytest.mark.postgres
def test_stop_while_a_sender_records_a_series_text_never_deadlocks(database_url, app_factory, clock, fake):
    """STOP locks the subscriber, then its rows; the sender does the same, so neither waits forever."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks are a PostgreSQL matter")
    import time

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    app = app_factory(database_url, TWILIO_API_URL=API, TWILIO_ACCOUNT_SID=ACCOUNT, SEND_RATE_PER_SECOND=10_000.0)
    clock.set(MORNING)
    texter = join(app)
    replies: list = []
    fired: list = []

    def stop():
        replies.append(texter.send("STOP"))

    def in_the_middle_of_recording(state):
        # When the sender takes its first lock on the subscriber, a STOP arrives.
        if (not fired and threading.current_thread() is threading.main_thread() and state.is_select
                and state.statement.column_descriptions[0].get("entity") is Subscriber
                and state.statement._for_update_arg is not None):
            thread = threading.Thread(target=stop)
            fired.append(thread)
            thread.start()
            time.sleep(0.5)

    event.listen(Session, "do_orm_execute", in_the_middle_of_recording)
    try:
        counts = Sender(app).run_once()
        fired[0].join(timeout=30)
    finally:
        event.remove(Session, "do_orm_execute", in_the_middle_of_recording)
    assert counts["sent"] == 1
    assert replies == [texter.cat.prompts["sms_stop"].text]
    assert subscriber(app).state == "opted_out"
    # The text in flight is recorded as sent (it was); nothing further is queued or sent.
    assert [r.state for r in rows(app) if r.state not in ("cancelled",)] == ["sent"]
    assert len(fake.received) == 1


def test_a_connection_dropped_after_sending_is_parked_not_retried(sender_app, clock, monkeypatch):
    """Only a connection never made may be retried: a reset after the request was written
    could follow a send, and a retry would double the text."""
    import requests
    from urllib3.exceptions import NewConnectionError, ProtocolError

    clock.set(MORNING)
    join(sender_app)
    sender = Sender(sender_app)

    def reset(*args, **kwargs):
        raise requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))

    monkeypatch.setattr(sender.client.messages, "create", reset)
    assert dict(sender.run_once()) == {"parked": 1}

    join_again = Sender(sender_app)
    texter = Texter(sender_app, number="+447400123457")
    texter.send("JOIN")
    texter.send("YES")

    def refused(*args, **kwargs):
        raise requests.exceptions.ConnectionError(NewConnectionError(None, "refused"))

    monkeypatch.setattr(join_again.client.messages, "create", refused)
    assert dict(join_again.run_once()) == {"retried": 1}


def test_stale_recovery_never_overwrites_a_row_its_worker_finished(sender_app, fake, clock):
    clock.set(MORNING)
    join(sender_app)
    first = Sender(sender_app)
    with sender_app.app_context():
        token, [row_id] = first.claim()
        first.send_one(token, row_id)
    assert rows(sender_app)[0].state == "sent"
    later = Sender(sender_app)
    with sender_app.app_context():
        later._park(None, row_id, "stale", stale_before=MORNING + dt.timedelta(hours=1))
    assert rows(sender_app)[0].state == "sent"
