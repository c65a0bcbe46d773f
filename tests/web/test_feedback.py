"""'Did this help?' (issue 24): asked once when a caller ends a call after a topic, answered by key
or voice, stored with no number and no call id, and shown on the console and in the CSV."""
from __future__ import annotations

import csv
import io

from sqlalchemy import inspect, select

from service.db import db
from service.models import Feedback

from ..helpers import Call, log_in, make_user, with_console


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
