"""What people with ALL and their families ask about most: each topic by keys, by speech and by
text, the menus that follow a topic's summary, and urgent words inside longer questions."""
from __future__ import annotations

import re

import pytest

from service.content import load_catalogue

from ..helpers import Call, Texter, edit, prompts_copy, summary, topic_paths

CAT = load_catalogue()

# Each topic added for the questions callers ask most, with a common misspelling of one of its words.
NEW_TOPICS = {
    "side_effects": "side affects",
    "infection": "centrl line",
    "fertility": "fertilty",
    "money": "benifits",
    "carers": "carrers allowance",
    "questions": "questons",
    "follow_up": "folow up",
    "phases": "maintainance",
    "transplant": "transplnat",
    "targeted": "imunotherapy",
}


def keys_to(cat, topic_id: str) -> tuple[str, ...]:
    """The fewest presses from the main menu to a topic."""
    return min((keys for keys, topic in topic_paths(cat) if topic == topic_id), key=len)


@pytest.mark.parametrize("topic_id", NEW_TOPICS)
def test_each_new_topic_is_two_presses_away_at_most(app, topic_id):
    keys = keys_to(CAT, topic_id)
    assert len(keys) <= 2
    call = Call(app)
    call.dial_in()
    for key in keys:
        heard = call.press(key)
    assert heard == summary(CAT, topic_id)
    assert call.state["node"] == topic_id


@pytest.mark.parametrize("topic_id", NEW_TOPICS)
def test_each_new_topic_by_speech_with_and_without_a_misspelling(app, topic_id):
    for words in (CAT.topics[topic_id].keywords[0], NEW_TOPICS[topic_id]):
        call = Call(app)
        call.dial_in()
        assert call.say(f"Um, {words} please") == summary(CAT, topic_id), words


@pytest.mark.parametrize("topic_id", NEW_TOPICS)
def test_each_new_topic_by_a_misspelt_text(any_db_app, topic_id):
    texter = Texter(any_db_app)
    reply = texter.send(NEW_TOPICS[topic_id])
    # A new number's first topic text asks "did this help?" where it fits (tests/web/test_feedback.py).
    assert reply == CAT.topic_sms(topic_id, ask=topic_id in CAT.asks_in_text)


def test_the_most_asked_stay_one_press_and_lead_on():
    main = dict(CAT.menus["main"].options)
    assert (main["1"], main["2"], main["3"]) == ("symptoms", "treatment", "help")
    assert dict(CAT.follow_ons["treatment"].options)["1"] == "side_effects"
    assert dict(CAT.follow_ons["symptoms"].options)["1"] == "diagnosis"
    assert dict(CAT.follow_ons["help"].options)["1"] == "questions"


def test_after_treatment_its_keys_lead_on_and_the_usual_keys_still_work(app):
    call = Call(app)
    call.dial_in()
    assert call.press("2") == summary(CAT, "treatment")
    assert call.press("6") == ["menu_treatment_more", "after_topic"], "6 at the options: the options again"
    assert call.press("5") == summary(CAT, "targeted")
    call.press("#")
    call.press("2")
    assert call.press("1") == summary(CAT, "side_effects")
    # side effects has no menu after it: 1 is now a wrong key, and 9 still ends the call.
    assert call.press("1") == ["wrong_key", "after_topic"]
    assert call.press("#") == ["menu_main"]
    call.press("2")
    assert call.press("9") == ["feedback_ask"]


def test_more_by_text_gives_the_menu_that_follows_the_last_topic(any_db_app):
    texter = Texter(any_db_app)
    texter.send("hi")
    treatment = texter.send("2")
    assert treatment == CAT.topic_sms("treatment")
    assert treatment.endswith(CAT.prompts["sms_topic_footer_more"].text)
    assert texter.send("MORE") == CAT.prompts["sms_menu_treatment_more"].text
    assert texter.send("4") == CAT.topic_sms("transplant")
    # After a topic with nothing after it, MORE is the main menu; a number means the main menu's.
    assert texter.send("more") == CAT.prompts["sms_menu_main"].text
    assert texter.send("3") == CAT.topic_sms("help", ask=True), "the first topic of the week with room to ask"
    assert texter.send("more ") == CAT.prompts["sms_menu_help_more"].text
    assert texter.send("2") == CAT.topic_sms("money")


def test_text_me_this_from_a_call_never_says_more():
    sent = CAT.topic_sms("treatment", in_reply=False)
    assert sent.endswith(CAT.prompts["sms_topic_footer"].text) and "MORE" not in sent


def test_the_urgent_answers_come_first_where_infection_and_side_effects_are_asked_about():
    for topic_id in ("infection", "side_effects"):
        topic = CAT.topics[topic_id]
        first = topic.voice.text.split(". ")[0]
        assert first == "Unwell or a temperature during treatment? Call your hospital's 24-hour line now, or 999 if " \
                        "it does not answer"
        assert re.match(r"(Fever or unwell in treatment\? Your|Unwell in treatment: your) hospital 24-hour line now "
                        r"\(no answer: 999\)",
                        topic.sms), topic.sms


def test_the_main_menu_may_not_use_six(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "menus.yaml", '    "5": life\n', '    "6": life\n')
    edit(prompts / "line.yaml", "money and carers, press 5.", "money and carers, press 6.")
    with pytest.raises(Exception, match=r"the main menu may not use 6"):
        load_catalogue(prompts)


def test_a_menu_after_no_topic_or_a_second_menu_after_one_is_refused(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "menus.yaml", "  after: help\n", "  after: helpp\n")
    edit(prompts / "menus.yaml", "  after: symptoms\n", "  after: treatment\n")
    with pytest.raises(Exception) as caught:
        load_catalogue(prompts)
    message = str(caught.value)
    assert "menu 'help_more' comes after 'helpp', which is no topic on a menu" in message
    assert "menu 'symptoms_more' comes after 'treatment', as menu 'treatment_more' does already" in message
    # And diagnosis is still reachable (from the about menu), so nothing else is reported for it.
    assert "'diagnosis' cannot be reached" not in message


def test_a_topic_only_behind_a_follow_on_menu_counts_two_presses(tmp_path):
    prompts = prompts_copy(tmp_path)
    # Take research off the about menu: it is then on no menu at all, and must be named.
    edit(prompts / "menus.yaml", '    "5": research\n', "")
    edit(prompts / "line.yaml", "For research and clinical trials, press 5.\n      To talk", "To talk")
    edit(prompts / "line.yaml", "For research and clinical trials, press 5.\n      To talk", "To talk")
    edit(prompts / "line.yaml", "5 Research and trials\n", "")
    with pytest.raises(Exception, match=r"topic 'research' cannot be reached from the main menu"):
        load_catalogue(prompts)
