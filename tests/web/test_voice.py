"""The voice line, walked as a caller would, with requests signed like Twilio's."""
from __future__ import annotations

import pytest

from service.engine import MAX_WRONG
from service.engine.places import read_back
from service.web.extensions import loaded

from ..helpers import (
    CLOSED_TIME,
    LANDLINE,
    PUBLIC,
    Call,
    Twilio,
    after,
    again,
    parse,
    prompts_with_callbacks,
    summary,
    topic_paths,
)


@pytest.fixture
def call(app) -> Call:
    return Call(app)


@pytest.fixture
def callback_app(tmp_path, sqlite_only, app_factory):
    """The line as a charity with a callback team would run it (contacts.yaml callbacks.enabled)."""
    return app_factory(sqlite_only, PROMPTS_DIR=prompts_with_callbacks(tmp_path))


def test_welcome_names_the_line_symptoms_and_a_person_then_the_menu(call):
    heard = call.dial_in()
    assert heard == ["welcome", "menu_main", "keys"]
    gather = call.gather
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "en-GB"
    assert gather.get("finishOnKey") == ""
    assert gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true"
    assert "symptoms" in gather.get("hints")
    assert gather.get("action").startswith(PUBLIC + "/voice/menu?")
    menu = call.cat.prompt("menu_main").say.lower()
    assert menu.index("press 1") < menu.index("press 0") < menu.index("press 2"), "a person second"


def test_every_topic_by_keys(app):
    cat = loaded(app).catalogue
    paths = topic_paths(cat)
    assert {topic for _, topic in paths} == {t.id for t in cat.topics.values() if t.in_menu}
    for keys, topic in paths:
        call = Call(app)
        call.dial_in()
        for key in keys:
            heard = call.press(key)
        assert heard == summary(cat, topic), (keys, topic)
        assert call.state["node"] == topic
        assert len(keys) <= 2


def test_every_topic_by_speech(app):
    cat = loaded(app).catalogue
    for topic in cat.topics.values():
        call = Call(app)
        call.dial_in()
        heard = call.say(topic.keywords[0].capitalize() + ".")
        assert heard == summary(cat, topic.id), topic.id


def test_misspelt_speech_still_reaches_the_topic(call):
    call.dial_in()
    assert call.say("symtoms please")[0] == "topic.symptoms"


def nodes(cat):
    """Every place a caller can press to: the menus (not those heard only after a topic) and topics."""
    return [*(m.id for m in cat.menus.values() if not m.after), *(t.id for t in cat.topics.values() if t.in_menu)]


def arrive(app, node) -> Call:
    cat = loaded(app).catalogue
    call = Call(app)
    call.dial_in()
    if node == "main":
        return call
    for keys, topic in topic_paths(cat):
        if topic == node:
            for key in keys:
                call.press(key)
            return call
    for key, target in cat.menus["main"].options:
        if target == node:
            call.press(key)
            return call
    raise AssertionError(node)


def test_reserved_keys_on_every_menu_and_topic(app, clock):
    # 8 on every topic, on one call sid: past the text caps (their own tests are in test_text_caps.py).
    app.config.update(TEXTS_PER_CALL=100, TEXTS_PER_NUMBER_PER_DAY=100)
    cat = loaded(app).catalogue
    for node in nodes(cat):
        expected_here = summary(cat, node) if node in cat.topics else [cat.menus[node].voice]

        call = arrive(app, node)
        assert call.press("*") == (again(cat, node) if node in cat.topics else expected_here), node
        assert call.state["node"] == node

        call = arrive(app, node)
        assert call.press("#") == ["menu_main"], node
        assert call.state["node"] == "main"

        call = arrive(app, node)
        assert call.press("7") == ["slow_on", *expected_here], node
        assert call.state["slow"] == "1"
        assert call.press("7") == ["slow_off", *expected_here], node
        assert call.state["slow"] == "0"

        clock.set(CLOSED_TIME)
        call = arrive(app, node)
        assert call.press("0") == ["support_closed", "closed_options"], node
        assert call.state["node"] == "closed"
        assert call.press("#") == ["menu_main"], node

        call = arrive(app, node)
        if node in cat.topics:
            assert call.press("8") == ["text_sent", *after(cat, node)], node
        else:
            assert call.press("8") == ["text_nothing", *expected_here], node


def test_zero_transfers_when_open_and_recovers_if_no_answer(call, clock):
    call.dial_in()
    assert call.press("0") == ["transfer"]
    dial = call.root.find("Dial")
    assert dial.text == call.cat.support_line.dial
    assert dial.get("action").startswith(PUBLIC + "/voice/dial-done?")
    assert call.dial_ends("no-answer") == ["transfer_failed", "help_numbers", "menu_main"]
    assert call.gather is not None


def test_transfer_that_was_answered_ends_politely(call):
    call.dial_in()
    call.press("0")
    assert call.dial_ends("completed") == ["goodbye"]
    assert call.hung_up


def test_silence_waits_for_a_slow_caller_then_gives_help_numbers_and_goodbye(call):
    call.dial_in()
    assert call.gather.get("timeout") == "6"
    assert call.silence() == ["no_input", "menu_main"]
    assert call.silence() == ["take_your_time"]
    assert call.gather.get("timeout") == "60" and not call.hung_up
    assert call.silence() == ["no_input_goodbye", "help_numbers", "goodbye"]
    assert call.hung_up
    assert call.verbs[-1] == "Hangup"


def test_silence_count_resets_after_a_choice(call):
    call.dial_in()
    call.silence()
    call.press("1")
    # Brief: the options again, not the whole summary (star repeats that).
    assert call.silence() == ["no_input", *after(call.cat, "symptoms")]


def test_wrong_keys_three_times_offers_help(call):
    call.dial_in()
    assert call.press("6") == ["wrong_key", "menu_main"]
    assert call.press("9") == ["wrong_key", "menu_main"]
    assert MAX_WRONG == 3
    assert call.press("6") == ["many_wrong", "menu_main"]
    assert call.state["misses"] == "0"
    assert call.gather is not None


def test_unrecognised_speech_counts_as_a_miss(call):
    call.dial_in()
    assert call.say("the weather in Leeds") == ["not_understood", "menu_main"]
    assert call.state["misses"] == "1"


def test_after_topic_nine_asks_did_this_help_offers_to_remember_then_ends_the_call(call):
    call.dial_in()
    call.press("1")
    assert call.press("9") == ["feedback_ask"]
    assert call.press("1") == ["feedback_thanks", "remember_offer"]
    assert call.silence() == ["goodbye"]
    assert call.hung_up


def test_nine_from_a_withheld_number_just_says_goodbye(app):
    call = Call(app, caller="anonymous")
    call.dial_in()
    call.press("1")
    assert call.press("9") == ["feedback_ask"]
    assert call.press("2") == ["feedback_thanks", "goodbye"]
    assert call.hung_up


def test_a_returning_caller_who_agreed_is_offered_their_topic_for_30_days(app, clock):
    call = Call(app)
    call.dial_in()
    call.press("2")
    call.press("9")
    call.silence()                      # no answer to "did this help?"
    assert call.press("1") == ["remember_done", "goodbye"]
    assert call.hung_up

    clock.advance(days=3)
    # Anyone can present this number: unless the network verified it, the topic is not named.
    again = Call(app, call_sid="CA" + "c" * 32)
    assert again.dial_in() == ["welcome", "returning_offer_unnamed", "menu_main", "keys"]
    assert again.press("6") == summary(again.cat, "treatment")
    verified = Call(app, call_sid="CA" + "e" * 32)
    verified.driver.extra["StirVerstat"] = "TN-Validation-Passed-A"
    assert verified.dial_in() == ["welcome", "returning_offer", "title.treatment", "returning_keys",
                                  "menu_main", "keys"]
    assert verified.press("*")[:3] == ["returning_offer", "title.treatment", "returning_keys"]
    for weaker in ("TN-Validation-Passed-B", "TN-Validation-Passed-C", "No-TN-Validation", "TN-Validation-Failed-A"):
        unverified = Call(app, call_sid="CA" + "f" * 32)
        unverified.driver.extra["StirVerstat"] = weaker
        assert "title.treatment" not in unverified.dial_in(), weaker
    again = Call(app, call_sid="CA" + "c" * 31 + "1")
    again.dial_in()
    assert again.press("1") == summary(again.cat, "symptoms"), "1 still means symptoms"

    other = Call(app, caller="+447400999888", call_sid="CA" + "d" * 32)
    assert other.dial_in() == ["welcome", "menu_main", "keys"]

    clock.advance(days=28)
    late = Call(app, call_sid="CA" + "e" * 32)
    assert late.dial_in() == ["welcome", "menu_main", "keys"]


def test_a_returning_caller_can_go_to_the_main_menu(app, clock):
    call = Call(app)
    call.dial_in()
    call.press("1")
    call.press("9")
    call.silence()                      # no answer to "did this help?"
    call.press("1")
    again = Call(app, call_sid="CA" + "f" * 32)
    again.dial_in()
    assert again.press("#") == ["menu_main"]
    assert again.press("3") == summary(again.cat, "help")


def test_speech_commands(call, clock):
    call.dial_in()
    call.press("2")
    assert call.say("Repeat that.") == again(call.cat, "treatment")
    assert call.say("slower please")[0] == "slow_on"
    assert call.say("main menu") == ["menu_main"]
    clock.set(CLOSED_TIME)
    assert call.say("operator") == ["support_closed", "closed_options"]


def test_slow_speech_is_kept_for_the_rest_of_the_call(call):
    call.dial_in()
    call.press("7")
    call.press("1")
    assert call.state["slow"] == "1"
    say = call.gather.find("Say")
    if say is not None:  # spoken live: slowed with SSML prosody
        assert say.find("prosody").get("rate") == "80%"


def test_text_me_this_from_a_landline_is_explained(app):
    call = Call(app, caller=LANDLINE)
    call.dial_in()
    call.press("1")
    assert call.press("8") == ["text_not_possible", *after(call.cat, "symptoms")]


def test_text_me_twice_on_one_call(call):
    call.dial_in()
    call.press("1")
    assert call.press("8")[0] == "text_sent"
    assert call.press("8")[0] == "text_already_sent"


def test_unsigned_and_wrongly_signed_requests_get_403_and_one_line_saying_why(app):
    twilio = Twilio(app)
    params = {"CallSid": "CA1", "From": "+447400123456"}
    for path in ("/voice", "/voice/menu?node=main", "/voice/dial-done", "/sms", "/sms/status"):
        unsigned = twilio.client.post(path, data=params)
        assert unsigned.status_code == 403 and unsigned.mimetype == "text/plain", path
        assert unsigned.get_data(as_text=True).startswith("Refused: no X-Twilio-Signature header."), path
        wrong = twilio.post(path, params, signature="bm90IHRoZSByaWdodCBvbmU=")
        assert wrong.status_code == 403, path
        body = wrong.get_data(as_text=True)
        assert body.startswith("Refused: wrong X-Twilio-Signature.") and body.count("\n") == 1, path
        expected = twilio.validator.compute_signature(PUBLIC + path, params)
        assert expected not in body and app.config["TWILIO_AUTH_TOKEN"] not in body, path
        other_token = Twilio(app, token="a-different-token").post(path, params)
        assert other_token.status_code == 403, path


def test_a_request_for_another_host_is_refused_in_one_plain_line(app):
    refused = Twilio(app).client.post("/voice", data={}, headers={"Host": "evil.example.com"})
    assert refused.status_code == 400 and refused.mimetype == "text/plain"
    assert refused.get_data(as_text=True).startswith("Refused: the Host header names a host this line does not serve")


def test_signature_for_one_url_does_not_open_another(app):
    twilio = Twilio(app)
    params = {"CallSid": "CA1", "From": "+447400123456", "Digits": "1"}
    signature = twilio.validator.compute_signature(PUBLIC + "/voice/menu?node=main", params)
    replayed = twilio.client.post("/voice/menu?node=life", data=params, headers={"X-Twilio-Signature": signature})
    assert replayed.status_code == 403


def test_state_in_a_url_from_an_older_version_falls_back_to_the_main_menu(app):
    twilio = Twilio(app)
    params = {"CallSid": "CA1", "From": "+447400123456", "Digits": "*"}
    root = parse(twilio.post("/voice/menu?node=gone_topic&misses=zz&silences=9999999", params))
    assert root.find("Gather") is not None


def test_a_fault_inside_a_call_still_answers_with_an_apology(app, monkeypatch):
    from service import engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "step", broken)
    call = Call(app)
    call.dial_in()
    assert call.press("1") == ["error", "help_numbers", "menu_main"]
    assert call.gather is not None


def test_every_prompt_is_played_from_a_current_clip_in_both_speeds(app):
    cat = loaded(app).catalogue
    speaker = loaded(app).speaker
    with app.test_request_context():
        for prompt_id in cat.voice_prompts():
            for slow in (False, True):
                url = speaker.clips(prompt_id, slow)
                assert url and url.startswith(PUBLIC + "/audio/" + prompt_id + "-"), (prompt_id, slow)
                name = url.rsplit("/", 1)[-1]
                response = app.test_client().get(f"/audio/{name}")
                assert response.status_code == 200 and response.mimetype == "audio/mpeg"
                response.close()


def test_calls_play_clips_and_slow_clips_after_7(call):
    call.dial_in()
    plays = [p.text for p in call.gather.findall("Play")]
    assert len(plays) == 3 and all("-normal-" in p for p in plays)
    call.press("7")
    plays = [p.text for p in call.gather.findall("Play")]
    assert plays and all("-slow-" in p for p in plays)


def test_a_missing_clip_falls_back_to_say_and_the_call_carries_on(tmp_path, sqlite_only, app_factory):
    app = app_factory(sqlite_only, AUDIO_DIR=tmp_path / "no-audio")
    call = Call(app)
    assert call.dial_in() == ["welcome", "menu_main", "keys"]
    says = call.gather.findall("Say")
    assert len(says) == 3
    assert says[0].get("language") == "en-GB"
    assert call.press("1") == summary(call.cat, "symptoms")


def test_audio_base_url_points_plays_at_a_cdn(sqlite_only, app_factory):
    app = app_factory(sqlite_only, AUDIO_BASE_URL="https://cdn.example.net/all-line")
    call = Call(app)
    call.dial_in()
    assert all(p.text.startswith("https://cdn.example.net/all-line/") for p in call.gather.findall("Play"))


def callback_requests(app):
    from sqlalchemy import select

    from service.storage.db import db
    from service.storage.models import CallbackRequest

    with app.app_context(), db.session() as session:
        return session.scalars(select(CallbackRequest)).all()


def test_callback_on_the_callers_own_number_is_stored_with_the_topic(callback_app, clock):
    clock.set(CLOSED_TIME)
    call = Call(callback_app)
    call.dial_in()
    call.press("2")  # treatment
    assert call.press("0") == ["support_closed", "callback_offer"]
    assert call.press("1") == ["callback_booked", "menu_main"]
    assert call.gather is not None
    [request] = callback_requests(callback_app)
    assert request.phone == "+447400123456" and request.topic == "treatment" and request.state == "open"
    assert request.call_hash != call.params["CallSid"]
    call.press("0")
    assert call.press("1") == ["callback_already", "menu_main"]
    assert len(callback_requests(callback_app)) == 1


def test_callback_on_a_keyed_number_is_read_back_for_confirmation(callback_app, clock):
    clock.set(CLOSED_TIME)
    call = Call(callback_app)
    call.dial_in()
    call.press("0")
    assert call.press("2") == ["callback_enter"]
    gather = call.gather
    assert gather.get("input") == "dtmf" and gather.get("finishOnKey") == "#"
    assert call.press("123") == ["callback_invalid", "callback_enter"]
    heard = call.press("02079460000")
    assert heard == ["callback_read_back", *read_back("02079460000"), "callback_confirm_keys"]
    assert call.press("2") == ["callback_enter"]
    call.press("02079460000")
    assert call.press("1") == ["callback_booked", "menu_main"]
    [request] = callback_requests(callback_app)
    assert request.phone == "+442079460000" and request.topic is None


def test_withheld_caller_is_asked_to_key_a_number(callback_app, clock):
    clock.set(CLOSED_TIME)
    call = Call(callback_app, caller="anonymous")
    call.dial_in()
    call.press("0")
    assert call.press("1") == ["callback_no_number", "callback_offer"]
    assert call.press("2") == ["callback_enter"]


def test_star_repeats_the_number_prompt_and_silence_is_handled(callback_app, clock):
    clock.set(CLOSED_TIME)
    call = Call(callback_app)
    call.dial_in()
    call.press("0")
    call.press("2")
    assert call.press("*") == ["callback_enter"]
    # Silence while keying a number goes back to the offer; it never ends the call.
    assert call.silence() == ["callback_offer"]
    assert call.state["node"] == "callback"


def test_a_keyed_callback_number_never_appears_in_a_url(callback_app, clock):
    clock.set(CLOSED_TIME)
    call = Call(callback_app)
    call.dial_in()
    call.press("0")
    call.press("2")
    call.press("02079460000")
    action = call.gather.get("action")
    assert "02079460000" not in action and "2079460000" not in action
    assert "number=" in action
    assert call.press("*")[1:-1] == list(read_back("02079460000"))


def test_a_wrong_key_after_a_topic_does_not_replay_the_summary(call):
    call.dial_in()
    call.press("1")
    assert call.press("5") == ["wrong_key", *after(call.cat, "symptoms")]
    assert call.press("*") == again(call.cat, "symptoms")


def test_spoken_numbers_yes_no_faster_and_help(call):
    call.dial_in()
    assert call.say("two") == summary(call.cat, "treatment")
    assert call.say("slower")[0] == "slow_on"
    assert call.say("faster")[0] == "slow_off"
    assert call.state["slow"] == "0"
    assert call.say("faster")[0] == "slow_off", "faster never turns slow speech on"
    assert call.state["slow"] == "0"
    assert call.say("I need help")[0] == "topic.help"
    assert call.say("yes") == ["not_understood", *after(call.cat, "help")]


def test_saying_no_or_yes_at_the_goodbye_offer(app):
    call = Call(app)
    call.dial_in()
    call.press("1")
    call.press("9")
    call.silence()
    assert call.say("no thanks") == ["goodbye"]
    call = Call(app, call_sid="CA" + "7" * 32)
    call.dial_in()
    call.press("1")
    call.press("9")
    call.silence()
    assert call.say("yes please") == ["remember_done", "goodbye"]


@pytest.mark.parametrize("words,topic", [
    ("my child has leukaemia", "childhood"),
    ("my son has it", None),
    ("what causes it", "risks"),
    ("I have a high temperature", "fever"),
    ("I feel very unwell", "fever"),
    ("high temperature on chemo", "fever"),
    ("I want to die", "crisis"),
])
def test_what_people_say_reaches_the_right_answer(app, words, topic):
    call = Call(app)
    call.dial_in()
    heard = call.say(words)
    if topic is None:
        assert heard[0] == "not_understood"
    else:
        assert heard[0] == f"topic.{topic}", heard


def test_the_crisis_answer_is_on_no_menu_and_gives_samaritans_and_shout(app):
    cat = loaded(app).catalogue
    crisis = cat.topics["crisis"]
    assert not crisis.in_menu
    assert "116 123" in crisis.voice.text and "85258" in crisis.sms and "999" in crisis.sms


def test_closed_line_offers_the_help_numbers_by_text(app, clock):
    clock.set(CLOSED_TIME)
    call = Call(app)
    call.dial_in()
    call.press("0")
    assert call.press("8") == ["text_sent", "closed_options"]


def test_spoken_commands_still_work_at_the_goodbye_offer(app, clock):
    call = Call(app)
    call.dial_in()
    call.press("1")
    call.press("9")
    assert call.say("repeat") == ["feedback_ask"]
    call.silence()
    assert call.say("repeat") == ["remember_offer"]
    clock.set(CLOSED_TIME)
    assert call.say("operator") == ["support_closed", "closed_options"]


def test_eight_at_the_goodbye_offer_texts_the_topic(app):
    call = Call(app)
    call.dial_in()
    call.press("2")
    call.press("9")
    call.silence()
    assert call.press("8") == ["text_sent", "remember_offer"]


def test_yes_and_no_at_the_returning_offer(app, clock):
    call = Call(app)
    call.dial_in()
    call.press("2")
    call.press("9")
    call.silence()                      # no answer to "did this help?"
    call.press("1")
    again = Call(app, call_sid="CA" + "8" * 32)
    again.dial_in()
    assert again.say("yes please") == summary(again.cat, "treatment")
    again = Call(app, call_sid="CA" + "8" * 31 + "1")
    again.dial_in()
    assert again.say("no") == ["menu_main"]


def test_purge_forgets_old_consents(app, clock):
    from sqlalchemy import func, select

    from service.storage.db import db
    from service.storage.models import ReturningCaller

    call = Call(app)
    call.dial_in()
    call.press("1")
    call.press("9")
    call.silence()                      # no answer to "did this help?"
    call.press("1")
    clock.advance(days=31)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "purged 1 returning-caller" in result.output
    with app.app_context(), db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReturningCaller)) == 0
