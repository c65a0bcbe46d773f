"""No text pumping: at most TEXTS_PER_CALL topic texts per call and TEXTS_PER_NUMBER_PER_DAY per
number per London day, counted where the outbox is written, so concurrent calls cannot pass them."""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from service.storage import texting
from service.storage.db import db
from service.storage.models import OutboxMessage
from service.web.extensions import loaded

from ..helpers import CALLER, Call

TOPIC_KEYS = [("1",), ("2",), ("3",), ("4", "1"), ("4", "2"), ("5", "1"), ("5", "2")]


def texts_to(app, number: str = CALLER) -> int:
    with app.app_context(), db.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_number == number, OutboxMessage.kind == "text_me"))


def ask_for_texts(app, call_sid: str, topics: list[tuple[str, ...]]) -> list[str]:
    call = Call(app, call_sid=call_sid)
    call.dial_in()
    answers = []
    for keys in topics:
        call.press("#")
        for key in keys:
            call.press(key)
        heard = call.press("8")
        answers.append(heard[0])
        assert heard[-1] == "after_topic" or heard[-1].startswith("menu_"), heard
    return answers


def test_one_call_gets_at_most_three_topic_texts(any_db_app):
    answers = ask_for_texts(any_db_app, "CA" + "1" * 32, TOPIC_KEYS[:5])
    assert answers == ["text_sent"] * 3 + ["text_limit"] * 2
    assert texts_to(any_db_app) == 3
    assert loaded(any_db_app).catalogue.prompts["text_limit"].text.startswith("Sorry, we have sent as many texts")


def test_one_number_gets_at_most_five_a_day_across_calls_and_more_the_next_day(any_db_app, clock):
    clock.set(dt.datetime(2026, 12, 2, 23, 30, tzinfo=dt.UTC))  # 23:30 in London
    first = ask_for_texts(any_db_app, "CA" + "1" * 32, TOPIC_KEYS[:3])
    second = ask_for_texts(any_db_app, "CA" + "2" * 32, TOPIC_KEYS[3:6])
    assert first + second == ["text_sent"] * 5 + ["text_limit"]
    clock.set(dt.datetime(2026, 12, 3, 0, 5, tzinfo=dt.UTC))  # a new London day
    assert ask_for_texts(any_db_app, "CA" + "3" * 32, TOPIC_KEYS[6:]) == ["text_sent"]
    assert texts_to(any_db_app) == 6


def test_the_same_topic_twice_on_a_call_takes_no_second_slot(any_db_app):
    call = Call(any_db_app, call_sid="CA" + "4" * 32)
    call.dial_in()
    call.press("1")
    assert call.press("8")[0] == "text_sent"
    assert call.press("8")[0] == "text_already_sent"
    assert ask_for_texts(any_db_app, "CA" + "4" * 32, TOPIC_KEYS[1:3]) == ["text_sent", "text_sent"]


def test_the_caps_are_settings(app_factory, sqlite_only):
    app = app_factory(sqlite_only, TEXTS_PER_CALL=1)
    assert ask_for_texts(app, "CA" + "5" * 32, TOPIC_KEYS[:2]) == ["text_sent", "text_limit"]


def test_concurrent_calls_cannot_pass_the_daily_cap(any_db_app):
    """Twelve calls from one number press 8 at the same moment: five texts, never six."""
    cat = loaded(any_db_app).catalogue
    topics = sorted(t for t in cat.topics if cat.topics[t].in_menu)
    start = threading.Barrier(12)
    answers: list[str] = []
    lock = threading.Lock()

    def press_eight(n: int) -> None:
        with any_db_app.app_context():
            start.wait()
            answer = texting.text_topic(cat, f"CA{n:032d}", CALLER, topics[n])
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=press_eight, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == sorted(["text_sent"] * 5 + ["text_limit"] * 7), answers
    assert texts_to(any_db_app) == 5
