"""The SMS half of the engine, called directly: no app, no database, no HTTP.

``converse`` plays the webhook's part with a pretend store: it carries out each turn's effects in
order and answers the engine's questions, as sms.py does with the real tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.basics import gsm
from service.content import MAIN_MENU, load_catalogue
from service.engine import CallState, Message, TextTurn, find_node, receive, resume, sms_command, sms_step, wants_stop
from service.engine.effects import (
    AbroadGreeted,
    ConfirmSeries,
    DialEnded,
    GreetAbroad,
    JoinSeries,
    KeepMenu,
    OptIn,
    OptOut,
    RecallTexter,
    SeriesAnswered,
    TexterRecalled,
)

from ..helpers import FEVER_TEXTS

CAT = load_catalogue()
SERIES_REPLY = "(the series' answer)"
STOP_WORDS = list(CAT.sms_commands["stop"])
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
bodies = st.sampled_from(["hi", "1", "2", "4", "MORE", "menu", "HELP", "JOIN", "YES", "yes please", "START",
                          "STOP", "stop texting me", "symtoms", "I have a fever", "I want to die", "thanks"]) | text
menus = st.sampled_from([None, *CAT.menus, "gone_menu"])
topics = st.sampled_from([None, *CAT.topics, "gone_topic"])
opt_out_types = st.sampled_from(["", "stop", "start", "help", "other"])


@dataclass
class Texter:
    """What the tables know of one number, as the engine's questions see it."""

    opted_out: bool = False
    menu: str | None = None
    topic: str | None = None
    first_abroad: bool = True
    done: list = field(default_factory=list)


def converse(body: str, texter: Texter | None = None, opt_out_type: str = "", abroad: bool = False) -> TextTurn:
    """A whole text through the engine; ``texter.done`` lists the effects carried out, in order."""
    texter = texter or Texter()
    turn = receive(CAT, Message(body, opt_out_type, abroad))
    while True:
        answer = None
        for effect in turn.effects:
            texter.done.append(effect)
            if isinstance(effect, GreetAbroad):
                answer = AbroadGreeted(texter.first_abroad)
            elif isinstance(effect, RecallTexter):
                answer = TexterRecalled(texter.opted_out, texter.menu, texter.topic)
            elif isinstance(effect, JoinSeries | ConfirmSeries):
                answer = SeriesAnswered(SERIES_REPLY)
        if answer is None:
            return turn
        turn = resume(CAT, turn.state, answer)


# -- moved here from the web tests: they call the engine directly --------------------------

@pytest.mark.parametrize("body", FEVER_TEXTS)
def test_a_fever_wins_over_any_other_topic_in_the_engine(body):
    turn = sms_step(CAT, "main", body)
    assert turn.reached == "fever", body


@pytest.mark.parametrize("body", ["I am well", "thanks", "treatment", "team", "what is all", "symptoms",
                                  "tell me about tests", "2"])
def test_ordinary_texts_are_not_taken_for_a_fever(body):
    assert find_node(CAT, body) != "fever"
    assert sms_step(CAT, "main", body).reached != "fever"


def test_more_as_a_first_text_is_the_greeting_and_the_menu():
    turn = sms_step(CAT, None, "more")
    assert turn.reply == CAT.greeting_with_menu() and turn.menu == "main"


def test_the_engine_keeps_the_last_topic_for_more_until_a_menu():
    assert sms_step(CAT, "main", "treatment").topic == "treatment"
    assert sms_step(CAT, "main", "gibberish words here", topic="treatment").topic == "treatment"
    assert sms_step(CAT, "main", "HELP", topic="treatment").topic == "treatment"
    assert sms_step(CAT, "main", "menu", topic="treatment").topic is None
    assert sms_step(CAT, "main", "more", topic="no_such_topic").reply == CAT.prompts["sms_menu_main"].text


# -- the order: STOP, START, abroad, opted out, the menus ---------------------------------------

@pytest.mark.parametrize("body", [*STOP_WORDS, "Stop it!", "stop texting me", "STOP ALL"])
def test_stop_is_honoured_first_and_asks_nothing_about_the_texter(body):
    texter = Texter()
    turn = converse(body, texter)
    assert texter.done == [OptOut()]
    assert turn.reply == CAT.prompts["sms_stop"].text and turn.event is None


def test_a_stop_twilio_has_answered_gets_no_reply_even_in_a_language_the_line_does_not_know():
    texter = Texter()
    assert converse("ARRET", texter, opt_out_type="stop").reply is None
    assert texter.done == [OptOut()]


def test_start_opts_in_and_a_yes_twilio_took_for_start_also_confirms_the_series():
    texter = Texter()
    assert converse("START", texter).reply == CAT.prompts["sms_start"].text and texter.done == [OptIn()]
    texter = Texter()
    assert converse("START", texter, opt_out_type="start").reply is None
    texter = Texter()
    assert converse("YES", texter, opt_out_type="start").reply == SERIES_REPLY
    assert texter.done == [OptIn(), ConfirmSeries()]


def test_abroad_one_short_reply_ever_but_stop_still_honoured():
    texter = Texter()
    assert converse("symptoms", texter, abroad=True).reply == CAT.prompts["sms_abroad"].text
    assert texter.done == [GreetAbroad()]
    assert converse("JOIN", Texter(first_abroad=False), abroad=True).reply is None
    texter = Texter()
    assert converse("STOP", texter, abroad=True).reply is None and texter.done == [OptOut()]


def test_an_opted_out_number_hears_nothing_until_it_asks_to_join():
    texter = Texter(opted_out=True)
    turn = converse("symptoms", texter)
    assert turn.reply is None and turn.event is None and texter.done == [RecallTexter()]
    texter = Texter(opted_out=True)
    turn = converse("JOIN", texter)
    assert turn.reply == SERIES_REPLY and turn.event == "join"
    assert texter.done == [RecallTexter(), OptIn(), JoinSeries(), KeepMenu(MAIN_MENU, None)]


def test_the_menus_answer_and_the_texters_place_is_kept():
    texter = Texter()
    turn = converse("hi", texter)
    assert turn.reply == CAT.greeting_with_menu() and turn.event == "reached" and turn.reached == MAIN_MENU
    assert texter.done == [RecallTexter(), KeepMenu(MAIN_MENU, None)]
    texter = Texter(menu="main")
    turn = converse("2", texter)
    assert turn.reply == CAT.topic_sms("treatment") and turn.reached == "treatment"
    assert texter.done[-1] == KeepMenu(MAIN_MENU, "treatment")
    texter = Texter(menu="main", topic="treatment")
    assert converse("MORE", texter).reply == CAT.prompts["sms_menu_treatment_more"].text
    assert texter.done[-1] == KeepMenu("treatment_more", None)


def test_join_and_yes_are_answered_by_the_series_and_recorded_as_such():
    for body, effect, event in (("JOIN", JoinSeries(), "join"), ("yes please", ConfirmSeries(), "yes")):
        texter = Texter(menu="main")
        turn = converse(body, texter)
        assert texter.done == [RecallTexter(), effect, KeepMenu(MAIN_MENU, None)]
        assert turn.reply == SERIES_REPLY and turn.event == event and turn.reached is None


def test_help_twilio_answered_gets_no_second_reply_but_the_place_is_kept():
    texter = Texter(menu="about")
    turn = converse("HELP", texter, opt_out_type="help")
    assert turn.reply is None and turn.event == "help" and texter.done[-1] == KeepMenu("about", None)
    assert converse("HELP").reply == CAT.prompts["sms_help"].text


def test_a_text_that_is_nothing_the_line_knows_says_so_and_repeats_the_menu():
    texter = Texter(menu="life")
    turn = converse("the weather in Leeds", texter)
    assert turn.reply == CAT.prompts["sms_not_understood"].text + "\n" + CAT.prompts["sms_menu_living"].text
    assert turn.event == "text" and texter.done[-1] == KeepMenu("life", None)


def test_a_stop_that_could_not_be_stored_is_known_by_either_word():
    assert wants_stop(CAT, Message("stop"))
    assert wants_stop(CAT, Message("ARRET", "stop"))
    assert not wants_stop(CAT, Message("stop, what are the symptoms?"))


def test_resume_takes_only_a_texts_outcome_for_a_text():
    turn = receive(CAT, Message("hi"))
    with pytest.raises(TypeError):
        resume(CAT, turn.state, DialEnded(answered=True))
    with pytest.raises(TypeError):
        resume(CAT, CallState(), SeriesAnswered("x"))


# -- properties over any text and any texter --------------------------------------------------

@given(body=bodies, opted_out=st.booleans(), menu=menus, topic=topics, opt_out_type=opt_out_types,
       abroad=st.booleans(), first_abroad=st.booleans())
def test_every_text_follows_the_policy(body, opted_out, menu, topic, opt_out_type, abroad, first_abroad):
    texter = Texter(opted_out, menu, topic, first_abroad)
    turn = converse(body, texter, opt_out_type, abroad)
    done = texter.done
    command = opt_out_type if opt_out_type in ("stop", "start", "help") else sms_command(CAT, body)
    if command == "stop":
        # STOP first, from anywhere: nothing is asked or kept, and nothing else happens.
        assert done == [OptOut()] and turn.event is None
    elif abroad:
        assert done == [GreetAbroad()] and turn.event is None
        assert turn.reply == (CAT.prompts["sms_abroad"].text if first_abroad else None)
    elif command == "start":
        assert done[0] == OptIn() and RecallTexter() not in done and turn.event is None
    elif opted_out and command != "join":
        assert done == [RecallTexter()] and turn.reply is None and turn.event is None
    else:
        assert done[0] == RecallTexter() and OptOut() not in done
        assert (OptIn() in done) == opted_out
        kept = done[-1]
        assert isinstance(kept, KeepMenu) and turn.event is not None
        assert kept.menu in CAT.menus and (kept.topic is None or kept.topic in CAT.topics)
    if turn.reply is not None:
        assert gsm.fits(turn.reply) or turn.reply == SERIES_REPLY


@given(body=bodies, menu=menus, topic=topics)
def test_the_engine_is_a_function_of_its_inputs(body, menu, topic):
    first, second = Texter(menu=menu, topic=topic), Texter(menu=menu, topic=topic)
    assert converse(body, first) == converse(body, second) and first.done == second.done


@given(body=st.sampled_from(FEVER_TEXTS), menu=menus, topic=topics)
def test_a_fever_gets_the_urgent_advice_from_any_menu(body, menu, topic):
    turn = converse(body, Texter(menu=menu, topic=topic))
    assert turn.reply == CAT.topic_sms("fever") and turn.reached == "fever"
