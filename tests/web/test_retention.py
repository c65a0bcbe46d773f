"""What the line keeps, and for how long (issue 25, point 7): `flask purge` forgets numbers that
are not subscribed, keeps an opted-out number with nothing else, keeps message ids for as long as
Twilio may redeliver; a signed call step replayed later than any call lasts is refused."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from service.storage import inbound, sms_sessions
from service.storage.db import db
from service.storage.models import OutboxMessage, ProcessedMessage, SmsSession, Subscriber
from service.web import voice

from ..helpers import CALLER, Call, Texter, seed


def purge(app) -> str:
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return result.output


def subscribers(app) -> dict[str, Subscriber]:
    with app.app_context(), db.session() as session:
        rows = session.scalars(select(Subscriber)).all()
        session.expunge_all()
    return {row.phone: row for row in rows}


def test_purge_forgets_numbers_not_subscribed_and_keeps_an_opt_out_bare(any_db_app, clock):
    started = clock.value
    seed(any_db_app, *(Subscriber(phone=f"+4474001000{n:02d}", state=state, series_position=3,
                                  joined_at=started, created_at=started, updated_at=started)
                       for n, state in enumerate(["none", "pending", "finished", "active", "opted_out"])))
    clock.advance(days=29)
    seed(any_db_app, Subscriber(phone="+447400100099", state="finished", created_at=clock.value,
                                updated_at=clock.value))
    assert "0 numbers not subscribed" in purge(any_db_app)
    clock.advance(days=2)
    output = purge(any_db_app)
    assert "3 numbers not subscribed for 30 days (1 opted-out numbers trimmed to the STOP alone)" in output
    left = subscribers(any_db_app)
    assert sorted(left) == ["+447400100003", "+447400100004", "+447400100099"]
    assert left["+447400100003"].state == "active" and left["+447400100003"].series_position == 3
    opted_out = left["+447400100004"]
    assert opted_out.state == "opted_out" and opted_out.joined_at is None and opted_out.series_position == 0


def test_an_opt_out_outlives_every_purge(any_db_app, clock):
    texter = Texter(any_db_app)
    texter.send("JOIN")
    texter.send("YES")
    texter.send("STOP")
    for _ in range(13):
        clock.advance(days=30)
        purge(any_db_app)
    assert subscribers(any_db_app)[CALLER].state == "opted_out"
    assert texter.send("menu") is None, "a texter who sent STOP is sent nothing"


def test_texters_places_are_forgotten_thirty_days_after_they_last_changed(any_db_app, clock):
    quiet, busy = Texter(any_db_app), Texter(any_db_app, "+447400100077")
    quiet.send("menu")
    busy.send("menu")
    clock.advance(days=sms_sessions.KEEP_FOR.days - 1)
    busy.send("1")                                      # a topic: their place changes
    clock.advance(days=2)
    assert "1 texters' menus" in purge(any_db_app)
    with any_db_app.app_context(), db.session() as session:
        assert session.scalar(select(func.count()).select_from(SmsSession)) == 1


def test_message_ids_are_kept_past_any_redelivery_so_a_late_copy_gets_no_reply(any_db_app, clock):
    texter = Texter(any_db_app)
    sid = "SM" + "5" * 32
    assert texter.send("JOIN", sid=sid) is not None
    clock.advance(days=inbound.KEEP_FOR.days - 1)
    purge(any_db_app)
    assert texter.send("JOIN", sid=sid) is None, "Twilio's second delivery is still recognised"
    assert dt.timedelta(days=1) <= inbound.KEEP_FOR, "Twilio redelivers within hours"
    clock.advance(days=2)
    purge(any_db_app)
    with any_db_app.app_context(), db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedMessage)) == 0


def test_a_call_step_replayed_after_any_call_could_last_is_refused(any_db_app, clock):
    call = Call(any_db_app, call_sid="CA" + "6" * 32)
    call.dial_in()
    call.press("1")                                     # a topic; 8 now asks for a text
    url = call.driver.listening.url
    assert "at=" in url
    params = call.driver.params(Digits="8")
    clock.advance(hours=voice.STEP_MAX_AGE // 3600 - 1)
    assert call.twilio.post(url, params).status_code == 200, "a long call goes on"
    clock.advance(hours=2)
    replay = call.twilio.post(url, params)
    assert replay.status_code == 403 and "replayed" in replay.get_data(as_text=True)
    with any_db_app.app_context(), db.session() as session:
        texts = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "text_me"))
    assert texts == 1, "the replay queued no text"


def test_a_step_url_from_before_the_line_carried_its_time_still_works(any_db_app):
    call = Call(any_db_app, call_sid="CA" + "7" * 32)
    call.dial_in()
    response = call.twilio.post("/voice/menu?node=main&slow=0&misses=0&silences=0", call.driver.params(Digits="1"))
    assert response.status_code == 200 and b"<Play" in response.data
