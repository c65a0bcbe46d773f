"""'Did this help?' (issue 24): asked once when a caller ends a call after a topic, answered by key
or voice, stored with no number and no call id, and shown on the console and in the CSV."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import inspect, select

from service.basics import gsm
from service.content import MAIN_MENU
from service.engine import sms_step
from service.storage.db import db
from service.storage.models import Feedback

from ..helpers import Call, Texter, log_in, make_user, with_console


def answers(app) -> list[tuple[str, str, bool]]:
    with app.app_context(), db.session() as session:
        return [(row.channel, row.topic, row.helped) for row in session.scalars(select(Feedback).order_by(Feedback.id))]


def end_after(app, sid: str, keys: tuple[str, ...], answer: tuple[str, str]) -> list[str]:
    call = Call(app, call_sid=sid)
    call.dial_in()
    for key in keys:
        call.press(key)
    assert call.press("9") == ["feedback_ask"]
    kind, value = answer
    return call.press(value) if kind == "key" else call.say(value)


def test_an_answer_is_kept_per_topic_heard_last_with_nothing_that_names_the_caller(any_db_app):
    assert end_after(any_db_app, "CA" + "1" * 32, ("1",), ("key", "1")) == ["feedback_thanks", "remember_offer"]
    end_after(any_db_app, "CA" + "2" * 32, ("2", "1"), ("speech", "no"))
    end_after(any_db_app, "CA" + "3" * 32, ("2",), ("speech", "yes"))
    assert answers(any_db_app) == [("voice", "symptoms", True), ("voice", "side_effects", False),
                                   ("voice", "treatment", True)]
    with any_db_app.app_context():
        columns = {c["name"] for c in inspect(db.engine_for(any_db_app)).get_columns("feedback")}
    assert columns == {"id", "channel", "topic", "helped", "day"}, "no number, no call id, no time of day"


def test_silence_or_another_key_skips_the_question_and_stores_nothing(app):
    call = Call(app, call_sid="CA" + "4" * 32)
    call.dial_in()
    call.press("1")
    call.press("9")
    assert call.silence() == ["remember_offer"]
    assert answers(app) == []


def test_the_console_shows_the_answers_by_topic_and_the_csv_counts_them_by_day(app):
    with_console(app)
    for n, (keys, key) in enumerate([(("1",), "1"), (("1",), "1"), (("1",), "2"), (("3",), "2")]):
        end_after(app, f"CA{n:032d}", keys, ("key", key))
    make_user(app)
    client = log_in(app)
    html = client.get("/admin/usage").get_data(as_text=True)
    assert "Did this help?" in html and "3 said yes" not in html and "2 said yes" in html
    assert '<td class="num">2</td><td class="num">1</td><td class="num">66.7%</td>' in html
    assert 'aria-labelledby="helped-chart-caption' in html, "the chart is drawn"
    rows = list(csv.reader(io.StringIO(client.get("/admin/usage.csv").get_data(as_text=True))))
    assert rows[0][-2:] == ["helped_yes", "helped_no"] and rows[-1][-2:] == ["2", "2"]


# -- a texter ("Did this help? Reply 1 yes, 2 no", once a week per number) ---------------------------

def menu_reply(cat, body: str) -> str:
    """What the menus answer ``body`` with at the main menu (no question pending)."""
    return sms_step(cat, MAIN_MENU, body).reply


def test_a_topic_text_asks_once_a_week_and_a_1_or_2_answers_it(any_db_app, clock):
    texter = Texter(any_db_app)
    cat = texter.cat
    assert texter.send("risks") == cat.topic_sms("risks", ask=True)
    assert texter.send("1") == cat.prompts["sms_feedback_thanks"].text
    assert texter.send("risks") == cat.topic_sms("risks"), "not asked again within the week"
    assert texter.send("1") == menu_reply(cat, "1"), "with no question pending, 1 is the menu's option 1"
    clock.advance(days=6)
    assert texter.send("fertility") == cat.topic_sms("fertility")
    clock.advance(days=1)
    assert texter.send("fertility") == cat.topic_sms("fertility", ask=True), "a week of London days on"
    assert texter.send("no") == cat.prompts["sms_feedback_thanks"].text
    assert answers(any_db_app) == [("sms", "risks", True), ("sms", "fertility", False)]


@pytest.mark.parametrize("body, helped", [("2", False), ("Yes", True), ("yes please", True), ("nope", False)])
def test_the_answer_may_be_a_digit_or_a_word(app, body, helped):
    texter = Texter(app)
    texter.send("fertility")
    assert texter.send(body) == texter.cat.prompts["sms_feedback_thanks"].text
    assert answers(app) == [("sms", "fertility", helped)]


def test_anything_else_is_answered_as_usual_and_the_question_lapses(app):
    texter = Texter(app)
    cat = texter.cat
    texter.send("fertility")
    assert texter.send("menu") == menu_reply(cat, "menu")
    assert texter.send("1") == menu_reply(cat, "1"), "the question was not answered: 1 is the menu again"
    assert answers(app) == []


def test_stop_is_honoured_before_the_question(app):
    texter = Texter(app)
    texter.send("fertility")
    assert texter.send("STOP") == texter.cat.prompts["sms_stop"].text
    assert texter.send("1") is None, "an opted-out number hears nothing"
    assert answers(app) == []


def test_a_redelivered_answer_is_stored_once(app):
    texter = Texter(app)
    texter.send("fertility")
    sid = "SM" + "5" * 32
    assert texter.send("1", sid=sid) == texter.cat.prompts["sms_feedback_thanks"].text
    assert texter.send("1", sid=sid) is None
    assert answers(app) == [("sms", "fertility", True)]


def test_never_asked_after_urgent_advice_or_where_the_question_would_not_fit(app):
    cat = Texter(app).cat
    assert not {"crisis", "fever"} & cat.asks_in_text, "nothing stands beside what to do now"
    for topic in cat.topics:
        asked = cat.topic_sms(topic, ask=True)
        assert (topic in cat.asks_in_text) == (not cat.topics[topic].urgent and gsm.fits(asked)), topic
    wordy = next(topic for topic in cat.topics if topic not in cat.asks_in_text and not cat.topics[topic].urgent)
    texter = Texter(app)
    assert texter.send(wordy) == sms_step(cat, MAIN_MENU, wordy).reply
    assert texter.send("fever") == sms_step(cat, MAIN_MENU, "fever").reply
    assert texter.send("1") == menu_reply(cat, "1")
    assert answers(app) == []
