"""The SMS line, on SQLite and (where TEST_DATABASE_URL is set) PostgreSQL."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from service.basics import gsm
from service.storage import analytics
from service.storage.db import db
from service.storage.models import OutboxMessage, ProcessedMessage, SmsSession, Subscriber, UsageEvent

from ..helpers import CALLER, LINE_NUMBER, Texter, Twilio, parse


@pytest.fixture
def texter(any_db_app) -> Texter:
    return Texter(any_db_app)


def count(app, model) -> int:
    with app.app_context(), db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def subscriber(app, number=CALLER) -> Subscriber | None:
    with app.app_context(), db.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.phone == number)).first()


def test_first_text_gets_a_greeting_and_the_menu(texter):
    reply = texter.send("hi")
    greeting = texter.cat.prompts["sms_greeting"].text
    assert reply.startswith(greeting)
    assert gsm.segments(greeting) == 1
    assert "1 Symptoms" in reply


def test_numbers_keywords_and_misspellings_reach_topics(texter):
    cat = texter.cat
    texter.send("hello")
    assert texter.send("1").startswith(cat.topics["symptoms"].sms)
    assert texter.send("TREATMENT").startswith(cat.topics["treatment"].sms)
    assert texter.send("symtoms").startswith(cat.topics["symptoms"].sms)
    assert texter.send("what about chemo?").startswith(cat.topics["treatment"].sms)
    assert texter.send("  menu ") == cat.prompts["sms_menu_main"].text


def test_a_session_followed_through_three_levels(texter):
    cat = texter.cat
    texter.send("hi")
    assert texter.send("4") == cat.prompts["sms_menu_about"].text
    # "3" now means the third option of the about menu, not of the main menu.
    assert texter.send("3").startswith(cat.topics["diagnosis"].sms)
    # After a topic the texter is back at the main menu.
    assert texter.send("2").startswith(cat.topics["treatment"].sms)
    assert texter.send("5") == cat.prompts["sms_menu_living"].text
    assert texter.send("3").startswith(cat.topics["money"].sms)


def test_wrong_number_in_a_menu_says_so_and_repeats_the_menu(texter):
    texter.send("hi")
    texter.send("5")
    reply = texter.send("6")
    assert reply.startswith(texter.cat.prompts["sms_not_understood"].text)
    assert reply.endswith(texter.cat.prompts["sms_menu_living"].text)


def test_help_and_info_explain_the_line_and_name_stop(texter):
    for word in ("HELP", "info"):
        reply = texter.send(word)
        assert reply == texter.cat.prompts["sms_help"].text
        assert "STOP" in reply


def test_redelivered_message_gets_no_second_reply_or_side_effect(texter, any_db_app):
    first = texter.send("join", sid="SM" + "9" * 32)
    assert first == texter.cat.series_prompts["confirm"]
    assert texter.send("join", sid="SM" + "9" * 32) is None
    assert texter.send("yes", sid="SM" + "8" * 32) == texter.cat.series_prompts["joined"]
    assert texter.send("yes", sid="SM" + "8" * 32) is None
    assert count(any_db_app, OutboxMessage) == 1
    assert count(any_db_app, ProcessedMessage) == 2


@pytest.mark.parametrize("word", ["STOP", "stop", "  Stop  ", "STOPALL", "unsubscribe", "Cancel", "END", "quit",
                                  "stop."])
def test_stop_words_opt_out(any_db_app, word):
    texter = Texter(any_db_app)
    assert texter.send(word) == texter.cat.prompts["sms_stop"].text
    assert subscriber(any_db_app).state == "opted_out"


def test_stop_then_a_text_gets_no_reply_then_start(texter, any_db_app):
    texter.send("join")
    texter.send("yes")
    assert texter.send("STOP") == texter.cat.prompts["sms_stop"].text
    with any_db_app.app_context(), db.session() as session:
        states = session.scalars(select(OutboxMessage.state)).all()
    assert states == ["cancelled"]
    assert texter.send("symptoms") is None
    assert texter.send("menu") is None
    assert texter.send("START") == texter.cat.prompts["sms_start"].text
    assert subscriber(any_db_app).state == "none"
    assert texter.send("1").startswith(texter.cat.topics["symptoms"].sms)


def test_stop_when_twilio_already_answered_it(texter, any_db_app):
    assert texter.send("STOP", OptOutType="STOP") is None
    assert subscriber(any_db_app).state == "opted_out"
    assert texter.send("START", OptOutType="START") is None
    assert subscriber(any_db_app).state == "none"


def test_join_asks_for_yes_and_a_second_join_does_not_restart(texter, any_db_app):
    series = texter.cat.series_prompts
    assert texter.send("yes") == series["not_pending"]
    assert texter.send("Subscribe") == series["confirm"]
    assert texter.send("YES") == series["joined"]
    assert texter.send("JOIN") == series["already"]
    assert subscriber(any_db_app).state == "active"
    assert count(any_db_app, OutboxMessage) == 1


def test_texters_are_kept_by_hash_and_events_hold_no_number(texter, any_db_app):
    texter.send("hi")
    texter.send("1")
    analytics.events(any_db_app).flush()
    with any_db_app.app_context(), db.session() as session:
        hashes = session.scalars(select(SmsSession.number_hash)).all()
        events = session.scalars(select(UsageEvent)).all()
    assert len(hashes) == 1 and CALLER not in hashes[0]
    assert {e.node for e in events} >= {"main", "symptoms"}
    digits = CALLER.lstrip("+")
    for event in events:
        assert digits not in event.caller_hash and digits[-9:] not in event.caller_hash


def test_a_fault_answers_with_a_short_apology(any_db_app, monkeypatch):
    from service.engine import texts

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(texts, "sms_step", broken)
    texter = Texter(any_db_app)
    assert texter.send("hello") == texter.cat.prompts["sms_error"].text


def test_missing_from_or_sid_gets_an_apology_not_a_500(any_db_app):
    twilio = Twilio(any_db_app)
    root = parse(twilio.post("/sms", {"Body": "hi"}))
    assert root.find("Message") is not None


def test_reply_is_a_single_twiml_message(texter):
    twilio = texter.twilio
    params = {"MessageSid": "SM" + "7" * 32, "From": CALLER, "To": LINE_NUMBER, "Body": "hi"}
    root = ET.fromstring(twilio.post("/sms", params).data)
    assert [child.tag for child in root] == ["Message"]


def test_a_topic_text_ends_with_a_spaced_footer(texter):
    for footer in ("sms_topic_footer_ask", "sms_topic_footer"):  # the first of the week asks "did this help?"
        reply = texter.send("risks")
        footer = texter.cat.prompts[footer].text
        assert reply.endswith(" " + footer)
        assert not reply.endswith("  " + footer)


@pytest.mark.parametrize("body", ["stop texting me", "STOP ALL", "unsubscribe please", "Stop it!"])
def test_a_text_starting_with_an_opt_out_word_opts_out(any_db_app, body):
    texter = Texter(any_db_app)
    assert texter.send(body) == texter.cat.prompts["sms_stop"].text
    assert subscriber(any_db_app).state == "opted_out"


def test_texts_about_texts_are_never_taken_for_tests(texter):
    texter.send("hi")
    reply = texter.send("please no more texts")
    assert reply.startswith(texter.cat.prompts["sms_not_understood"].text)
    assert "STOP" in reply
    assert not texter.send("sign me up for texts").startswith(texter.cat.topics["symptoms"].sms)


def test_yes_please_confirms_and_join_after_stop_opts_back_in(texter, any_db_app):
    texter.send("join")
    assert texter.send("yes please") == texter.cat.series_prompts["joined"]
    texter.send("STOP")
    assert texter.send("JOIN") == texter.cat.series_prompts["confirm"]
    assert subscriber(any_db_app).state == "pending"


def test_twilio_opt_out_type_is_honoured_for_words_the_line_does_not_know(texter, any_db_app):
    assert texter.send("ARRET", OptOutType="STOP") is None
    assert subscriber(any_db_app).state == "opted_out"


def test_crisis_words_get_samaritans(texter):
    reply = texter.send("i want to die")
    assert "116 123" in reply and "85258" in reply


@pytest.mark.parametrize("body,topic", [
    ("Yes I want to die", "crisis"),
    ("Stop. I want to end my life", "crisis"),
    ("stop, what are the symptoms?", "symptoms"),
    ("yes I have a question about treatment", "treatment"),
    ("join a clinical trial", "research"),
    ("what is a warning sign", "symptoms"),
])
def test_a_leading_command_word_never_hides_a_question(any_db_app, body, topic):
    texter = Texter(any_db_app)
    reply = texter.send(body)
    assert reply.startswith(texter.cat.topics[topic].sms), reply
    found = subscriber(any_db_app)
    assert found is None or found.state == "none"


def test_yes_tagged_as_an_opt_in_by_twilio_still_confirms_the_series(texter, any_db_app):
    texter.send("JOIN")
    assert texter.send("YES", OptOutType="START") == texter.cat.series_prompts["joined"]
    assert subscriber(any_db_app).state == "active"
