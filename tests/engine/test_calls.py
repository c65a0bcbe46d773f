"""The voice half of the engine, called directly: no app, no database, no HTTP.

Each test gives the engine a state and an input and looks at the turn: the prompt ids, the next
state and the typed effect; after an effect, the one ``resume`` with a typed outcome.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import engine
from service.basics import phones
from service.content import load_catalogue
from service.engine import (
    CALLBACK_CONFIRM,
    CALLBACK_NUMBER,
    CALLBACK_OFFER,
    CLOSED,
    FEEDBACK,
    MAIN_MENU,
    MAX_SILENCES,
    MAX_WRONG,
    REMEMBER,
    RETURNING,
    SPECIAL_NODES,
    CallState,
    apology,
    resume,
    start,
    step,
)
from service.engine.effects import (
    AbroadGreeted,
    BookCallback,
    CallbackBooked,
    DialEnded,
    FeedbackGiven,
    GiveFeedback,
    Remember,
    Remembered,
    Texted,
    TextTopic,
    Transfer,
)
from service.engine.places import DOUBLE, digits_read, read_back

from ..helpers import after, prompts_with_callbacks

CAT = load_catalogue()


def arriving(cat, topic_id: str, told: bool = False) -> tuple[str, ...]:
    """What the engine plays on arriving at a topic: its first part (and, the first time a call
    meets a topic in parts, how to skip on); a topic in one part is followed by its options."""
    topic = cat.topics[topic_id]
    if len(topic.parts) == 1:
        return (topic.parts[0].id, *after(cat, topic_id))
    return (topic.parts[0].id, *(() if told else ("part_keys",)))
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
keys = st.sampled_from(list("0123456789*#")) | st.text(max_size=5)
KINDS = ["key", "speech", "silence"]
said = st.sampled_from(["symptoms", "treatment", "repeat", "main menu", "operator", "text me", "goodbye", "yes",
                        "no", "slower", "faster", "two", "I have a fever", "nonsense words"]) | text
inputs = st.lists(st.tuples(st.sampled_from(KINDS), keys | said, st.booleans(), st.booleans()), max_size=30)


@pytest.fixture(scope="module")
def callback_cat(tmp_path_factory):
    """The catalogue of a line with a callback team (contacts.yaml callbacks.enabled)."""
    return load_catalogue(prompts_with_callbacks(tmp_path_factory.mktemp("callbacks")))


# -- moved here from the web tests: they call the engine directly --------------------------

def test_the_apology_and_the_goodbye_after_silence_give_the_urgent_advice():
    first = step(CAT, CallState(), "silence")
    waiting = step(CAT, first.state, "silence")
    goodbye = step(CAT, waiting.state, "silence")
    assert goodbye.hangup and "help_numbers" in goodbye.prompts
    assert apology(CAT).prompts[:2] == ("error", "help_numbers")


def test_a_callback_state_from_an_old_url_is_not_offered_when_callbacks_are_off():
    for node in (CALLBACK_OFFER, CALLBACK_NUMBER, "callback_confirm"):
        turn = step(CAT, CallState(node=node, number="02079460000"), "key", "*")
        assert turn.state.node == CLOSED and turn.prompts == ("closed_options",)


def test_hash_alone_or_silence_while_keying_a_number_goes_back(tmp_path):
    cat = load_catalogue(prompts_with_callbacks(tmp_path))
    at_number = CallState(node=CALLBACK_NUMBER)
    for kind, value in (("key", "#"), ("silence", ""), ("key", "")):
        turn = step(cat, at_number, kind, value)
        assert turn.state.node == CALLBACK_OFFER and turn.prompts == ("callback_offer",) and turn.listen


def test_the_engine_reads_a_topics_follow_on_keys_directly():
    on_help = CallState(node="help", topic="help")
    for key, target in CAT.follow_ons["help"].options:
        turn = step(CAT, on_help, "key", key)
        assert turn.state.node == target and turn.prompts == arriving(CAT, target)
    assert step(CAT, on_help, "key", "9").prompts == ("feedback_ask",)
    at_options = CallState(node="help", topic="help", part=len(CAT.topics["help"].parts) - 1)
    assert step(CAT, at_options, "silence").prompts == ("no_input", *after(CAT, "help"))


@given(events=st.lists(st.tuples(st.sampled_from(["key", "speech", "silence"]), keys | text,
                                 st.booleans()), max_size=30))
def test_engine_always_says_something_or_acts(events):
    """The pure engine: every turn speaks, transfers, texts or hangs up; no dead ends."""
    turn = start(CAT)
    state = turn.state
    for kind, value, support_open in events:
        turn = step(CAT, state, kind, value, support_open=support_open)
        assert turn.prompts or turn.effect is not None
        if turn.hangup:
            assert not turn.listen
            break
        state = turn.state
        assert state.node in CAT.menus or state.node in CAT.topics or state.node in SPECIAL_NODES
        assert isinstance(state, CallState)


@pytest.mark.parametrize("node", [*CAT.menus, *CAT.topics, *SPECIAL_NODES])
def test_engine_handles_every_key_on_every_node(node):
    for key in "0123456789*#":
        for support_open in (True, False):
            turn = step(CAT, CallState(node=node, number="02079460000"), "key", key, support_open=support_open)
            assert turn.prompts or turn.effect is not None


def test_a_keyed_number_in_other_digits_is_a_wrong_key_not_an_error(tmp_path):
    cat = load_catalogue(prompts_with_callbacks(tmp_path))
    for keyed in ("٠٢٠٧٩٤٦٠٠٠٠", "０２０７９４６００００", "02079460000x", "²"):
        turn = step(cat, CallState(node=CALLBACK_NUMBER), "key", keyed)
        assert turn.prompts == ("callback_invalid", "callback_enter"), keyed


# -- the welcome, and the keys that work everywhere ------------------------------------------

def test_the_welcome_then_the_main_menu():
    turn = start(CAT)
    assert turn.prompts == ("welcome", CAT.menus[MAIN_MENU].voice, "keys")
    assert turn.state == CallState() and turn.listen and turn.reached == MAIN_MENU and turn.effect is None


def test_a_returning_caller_is_offered_their_topic_and_a_gone_topic_is_not_offered():
    turn = start(CAT, returning_topic="treatment", verified=True)
    assert turn.prompts == ("welcome", "returning_offer", "title.treatment", "returning_keys",
                            CAT.menus[MAIN_MENU].voice, "keys")
    unverified = start(CAT, returning_topic="treatment")
    assert unverified.prompts == ("welcome", "returning_offer_unnamed", CAT.menus[MAIN_MENU].voice, "keys")
    assert turn.state.node == RETURNING and turn.reached == RETURNING
    assert start(CAT, returning_topic="no_such_topic").state.node == MAIN_MENU


def test_zero_transfers_while_the_support_line_is_open_and_explains_when_closed():
    turn = step(CAT, CallState(), "key", "0", support_open=True)
    assert turn.prompts == ("transfer",) and not turn.listen
    assert turn.effect == Transfer(CAT.support_line.dial)
    closed = step(CAT, CallState(), "key", "0", support_open=False)
    assert closed.prompts == ("support_closed", "closed_options") and closed.state.node == CLOSED


def test_eight_asks_for_the_topic_heard_the_help_numbers_when_closed_and_nothing_elsewhere():
    assert step(CAT, CallState(node="symptoms", topic="symptoms"), "key", "8").effect == TextTopic("symptoms")
    assert step(CAT, CallState(node=REMEMBER, topic="treatment"), "key", "8").effect == TextTopic("treatment")
    assert step(CAT, CallState(node=CLOSED), "key", "8").effect == TextTopic("help")
    nothing = step(CAT, CallState(), "key", "8")
    assert nothing.effect is None and nothing.prompts == ("text_nothing", CAT.menus[MAIN_MENU].voice)


def test_nine_after_a_topic_asks_did_this_help_then_offers_to_remember_only_a_known_caller():
    on_topic = CallState(node="symptoms", topic="symptoms")
    asked = step(CAT, on_topic, "key", "9")
    assert asked.state.node == FEEDBACK and asked.prompts == ("feedback_ask",)
    assert step(CAT, asked.state, "silence").state.node == REMEMBER, "silence skips the question"
    unknown = step(CAT, asked.state, "key", "5", caller_known=False)
    assert unknown.prompts == ("goodbye",) and unknown.hangup
    agreed = step(CAT, CallState(node=REMEMBER, topic="symptoms"), "key", "1")
    assert agreed.effect == Remember("symptoms") and agreed.prompts == ()


@pytest.mark.parametrize("number, groups", [
    ("07700900123", ["07700", "900", "123"]), ("02079460000", ["020", "7946", "0000"]),
    ("01632960001", ["01632", "960", "001"]), ("08081890000", ["0808", "189", "0000"]),
    ("01134960789", ["0113", "496", "0789"]), ("123456789", ["12345", "678", "9"]),
])
def test_a_number_is_read_back_in_the_groups_it_is_written_in(number, groups):
    clips = read_back(number)
    assert digits_read(clips) == number
    said: list[list[str]] = []  # each group as said: a digit, or "double" and a digit
    for group in groups:
        said.append([])
        for digit, same in itertools.groupby(group):
            count = len(list(same))
            said[-1] += [f"double {digit}"] * (count // 2) + [digit] * (count % 2)
    expected = []
    for group in said:
        for index, word in enumerate(group):
            double, digit = word.startswith("double"), word[-1]
            more_of_it = index + 1 < len(group) and group[index + 1][-1] == digit
            breath = index == len(group) - 1 or more_of_it
            expected += [DOUBLE] * double + [f"digit_{digit}_then" if breath else f"digit_{digit}"]
    assert list(clips) == expected


def test_two_of_the_same_digit_are_said_double():
    assert read_back("07700900111") == (
        "digit_0", DOUBLE, "digit_7", DOUBLE, "digit_0_then", "digit_9", DOUBLE, "digit_0_then",
        DOUBLE, "digit_1_then", "digit_1_then")
    assert "".join(c.removeprefix("digit_") for c in read_back("02079460000")[-4:]) == "double0_thendouble0_then"


def test_the_callback_steps_book_the_callers_own_number_or_the_keyed_one(callback_cat):
    offer = step(callback_cat, CallState(topic="treatment"), "key", "0")
    assert offer.state.node == CALLBACK_OFFER
    assert step(callback_cat, offer.state, "key", "1").effect == BookCallback(None, "treatment")
    entering = step(callback_cat, offer.state, "key", "2")
    assert entering.state.node == CALLBACK_NUMBER and entering.collect_number
    confirm = step(callback_cat, entering.state, "key", "02079460000#")
    assert confirm.state == CallState(node=CALLBACK_CONFIRM, topic="treatment", number="02079460000")
    # 020 7946 0000 in its groups, "0000" as "double 0, double 0": a group's last digit, and a digit
    # with more of the same after it, have a breath after.
    assert confirm.prompts == ("callback_read_back", "digit_0", "digit_2", "digit_0_then", "digit_7", "digit_9",
                               "digit_4", "digit_6_then", DOUBLE, "digit_0_then", DOUBLE, "digit_0_then",
                               "callback_confirm_keys")
    assert step(callback_cat, confirm.state, "key", "1").effect == BookCallback("02079460000", "treatment")


# -- resume: one way back after every effect ---------------------------------------------------

@pytest.mark.parametrize("prompt", ["text_sent", "text_already_sent", "text_not_possible", "text_failed",
                                    "text_opted_out"])
def test_after_text_me_this_the_caller_hears_how_it_went_then_the_options(prompt):
    at_options = CallState(node="symptoms", topic="symptoms", part=len(CAT.topics["symptoms"].parts) - 1)
    turn = resume(CAT, at_options, Texted(prompt))
    assert turn.prompts == (prompt, *after(CAT, "symptoms")) and turn.listen and turn.effect is None
    closed = resume(CAT, CallState(node=CLOSED), Texted(prompt))
    assert closed.prompts == (prompt, "closed_options")


@pytest.mark.parametrize("prompt", ["remember_done", "remember_failed"])
def test_after_the_opt_in_the_caller_hears_how_it_went_then_goodbye(prompt):
    turn = resume(CAT, CallState(node=REMEMBER, topic="symptoms"), Remembered(prompt))
    assert turn.prompts == (prompt, "goodbye") and turn.hangup and not turn.listen


def test_after_a_callback_request_the_main_menu_or_without_a_number_the_offer_again(callback_cat):
    confirming = CallState(node=CALLBACK_CONFIRM, topic="treatment", number="02079460000")
    for prompt in ("callback_booked", "callback_already", "callback_failed", "callback_invalid"):
        turn = resume(callback_cat, confirming, CallbackBooked(prompt))
        assert turn.prompts == (prompt, callback_cat.menus[MAIN_MENU].voice), prompt
        assert turn.state.node == MAIN_MENU and turn.state.number == ""
    again = resume(callback_cat, CallState(node=CALLBACK_OFFER), CallbackBooked("callback_no_number"))
    assert again.prompts == ("callback_no_number", "callback_offer") and again.state.node == CALLBACK_OFFER


def test_after_a_transfer_goodbye_if_answered_else_help_and_where_the_caller_was():
    assert resume(CAT, CallState(), DialEnded(answered=True)).prompts == ("goodbye",)
    missed = resume(CAT, CallState(node="symptoms", topic="symptoms"), DialEnded(answered=False))
    assert missed.prompts == ("transfer_failed", "help_numbers", *after(CAT, "symptoms")) and missed.listen


def test_resume_takes_only_a_calls_outcome_for_a_call():
    with pytest.raises(TypeError):
        resume(CAT, CallState(), AbroadGreeted(first=True))


def test_resume_checks_a_state_from_an_old_url_too():
    turn = resume(CAT, CallState(node="gone_topic", topic="gone"), Texted("text_sent"))
    assert turn.state.node == MAIN_MENU and turn.state.topic == ""


# -- properties over any sequence of inputs ----------------------------------------------------

OUTCOMES = {TextTopic: Texted("text_sent"), Remember: Remembered("remember_done"),
            GiveFeedback: FeedbackGiven(offer_remember=True),
            BookCallback: CallbackBooked("callback_booked"), Transfer: DialEnded(answered=False)}


def walk(cat, events):
    """Every turn of a call that does ``events``, each effect resumed with a plausible outcome."""
    turn = start(cat)
    turns = [turn]
    for kind, value, support_open, caller_known in events:
        if turn.hangup:
            break
        turn = step(cat, turn.state, kind, value, support_open=support_open, caller_known=caller_known)
        turns.append(turn)
        if turn.effect is not None:
            turn = resume(cat, turn.state, OUTCOMES[type(turn.effect)])
            turns.append(turn)
    return turns


@given(events=inputs)
def test_a_call_never_leaves_the_map_and_never_counts_past_its_limits(events):
    for turn in walk(CAT, events):
        state = turn.state
        assert state.node in CAT.menus or state.node in CAT.topics or state.node in SPECIAL_NODES
        assert 0 <= state.misses < MAX_WRONG and 0 <= state.silences <= MAX_SILENCES
        assert not state.topic or state.topic in CAT.topics
        # The line listens or hangs up; only a transfer does neither (Twilio dials).
        assert turn.listen != turn.hangup or isinstance(turn.effect, Transfer)


@given(events=inputs)
def test_after_every_resume_the_caller_hears_something(events):
    for turn in walk(CAT, events):
        if turn.effect is None or isinstance(turn.effect, Transfer):
            assert turn.prompts, turn
        for prompt_id in turn.prompts:
            assert CAT.prompt(prompt_id).say, prompt_id


@given(events=inputs)
def test_with_a_callback_team_a_number_to_call_back_is_always_one_a_person_can_be_called_on(callback_cat, events):
    for turn in walk(callback_cat, events):
        assert turn.state.number == "" or phones.is_callback_number(turn.state.number)
        if isinstance(turn.effect, BookCallback) and turn.effect.number is not None:
            assert phones.is_callback_number(turn.effect.number)


@given(events=inputs)
def test_star_repeats_where_the_caller_is_and_seven_only_changes_the_speed(events):
    state = walk(CAT, events)[-1].state
    repeated = step(CAT, state, "key", "*")
    assert repeated.state.node == engine.valid_state(CAT, state).node and repeated.state.slow == state.slow
    toggled = step(CAT, state, "key", "7")
    assert toggled.state.slow != state.slow and toggled.state.node == repeated.state.node


@given(node=st.sampled_from([*CAT.menus, *CAT.topics, *SPECIAL_NODES]), kind=st.sampled_from(KINDS),
       value=keys | said, support_open=st.booleans())
def test_the_engine_is_a_function_of_its_inputs(node, kind, value, support_open):
    state = CallState(node=node, topic="treatment", number="02079460000")
    first = step(CAT, state, kind, value, support_open=support_open)
    assert step(CAT, state, kind, value, support_open=support_open) == first
    assert state == CallState(node=node, topic="treatment", number="02079460000")


# -- did this help? and taking your time (issue 24) --------------------------------------------

@pytest.mark.parametrize("kind, value, helped", [("key", "1", True), ("key", "2", False),
                                                  ("speech", "yes", True), ("speech", "no", False)])
def test_did_this_help_is_answered_by_key_or_voice_about_the_topic_heard_last(kind, value, helped):
    asked = step(CAT, CallState(node="fever", topic="fever"), "key", "9")
    answered = step(CAT, asked.state, kind, value)
    assert answered.effect == GiveFeedback("fever", helped, offer_remember=True)
    thanked = resume(CAT, answered.state, FeedbackGiven(offer_remember=True))
    assert thanked.prompts == ("feedback_thanks", "remember_offer") and thanked.state.node == REMEMBER
    unknown = resume(CAT, answered.state, FeedbackGiven(offer_remember=False))
    assert unknown.prompts == ("feedback_thanks", "goodbye") and unknown.hangup


def test_did_this_help_is_asked_once_and_only_after_a_topic():
    assert step(CAT, CallState(), "speech", "goodbye").prompts == ("goodbye",), "no topic heard: no question"
    after_a_topic = step(CAT, CallState(node=MAIN_MENU, topic="risks"), "speech", "goodbye")
    assert after_a_topic.state.node == FEEDBACK
    again = step(CAT, after_a_topic.state, "speech", "goodbye")
    assert again.state.node == REMEMBER and "feedback_ask" not in again.prompts
    assert step(CAT, after_a_topic.state, "key", "#").state.node == MAIN_MENU, "the usual keys still work"


def test_a_slow_caller_is_asked_to_take_their_time_and_waited_for_not_hung_up_on():
    for node in (MAIN_MENU, "treatment", "menu_about"):
        at_options = len(CAT.topics[node].parts) - 1 if node in CAT.topics else 0
        first = step(CAT, CallState(node=node, topic="treatment", part=at_options), "silence")
        assert not first.hangup and not first.patient
        second = step(CAT, first.state, "silence")
        assert second.prompts == ("take_your_time",) and second.patient and second.listen and not second.hangup
        ready = step(CAT, second.state, "key", "6")              # not an option here: still "ready"
        assert ready.state.silences == 0 and not ready.hangup and "wrong_key" not in ready.prompts
        assert step(CAT, second.state, "silence").hangup


def test_a_key_that_means_something_works_at_once_while_waiting():
    second = step(CAT, step(CAT, CallState(), "silence").state, "silence")
    assert step(CAT, second.state, "key", "1").state.node == CAT.menus[MAIN_MENU].target("1")


# -- topics in parts, and the controls while one plays (issue 24) ---------------------------------

PARTED = [t for t in sorted(CAT.topics) if len(CAT.topics[t].parts) > 1]


def test_every_topic_is_told_in_parts_and_a_quiet_caller_hears_them_all_then_the_options():
    assert len(PARTED) == len(CAT.topics), "every topic is told in parts"
    for topic_id in PARTED:
        topic = CAT.topics[topic_id]
        state = CallState(node=topic_id, topic=topic_id, told=True)
        heard = []
        turn = step(CAT, replace(state, part=0), "key", "*")            # hear part 1 (again)
        heard.extend(turn.prompts)
        while turn.quick:
            turn = step(CAT, turn.state, "silence")
            heard.extend(turn.prompts)
        assert tuple(heard) == (*(p.id for p in topic.parts), *after(CAT, topic_id)), topic_id
        assert turn.state.silences == 0 and not turn.quick


def test_six_skips_to_the_next_part_and_from_the_last_part_to_the_options():
    state = CallState(node="fever", topic="fever", told=True)
    nxt = step(CAT, state, "key", "6")
    assert nxt.prompts == ("topic.fever.2", *after(CAT, "fever")) and nxt.state.part == 1
    assert step(CAT, nxt.state, "key", "6").prompts == tuple(after(CAT, "fever")), "past the last part: the options"
    assert step(CAT, state, "speech", "next").prompts == nxt.prompts
    assert step(CAT, state, "speech", "skip").prompts == nxt.prompts


def test_star_repeats_the_part_and_star_twice_goes_back_to_the_part_before():
    on_two = CallState(node="fever", topic="fever", part=1, told=True)
    once = step(CAT, on_two, "key", "*")
    assert once.prompts[0] == "topic.fever.2" and once.state.again
    twice = step(CAT, once.state, "key", "*")
    assert twice.prompts == ("topic.fever",) and twice.state.part == 0 and twice.quick
    assert step(CAT, on_two, "speech", "previous").prompts == ("topic.fever",)
    assert step(CAT, CallState(node="fever", topic="fever", told=True), "key", "*").prompts == ("topic.fever",), \
        "star on the first part plays it again"


def test_hold_on_waits_quietly_then_reminds_once_then_any_key_carries_on():
    on_one = CallState(node="fever", topic="fever", told=True)
    held = step(CAT, on_one, "speech", "hold on")
    assert held.prompts == ("hold_on",) and held.patient and held.state.held
    reminded = step(CAT, held.state, "silence")
    assert reminded.prompts == ("take_your_time",) and reminded.patient, "the one reminder"
    assert step(CAT, reminded.state, "silence").hangup, "then, after about two minutes, the call ends"
    for state in (held.state, reminded.state):
        back = step(CAT, state, "key", "5")
        assert back.prompts == ("topic.fever",) and not back.state.held, "any key: the part again"
    assert step(CAT, held.state, "key", "#").state.node == MAIN_MENU, "a key with a meaning keeps it"
    assert step(CAT, CallState(), "speech", "wait").prompts == ("hold_on",)


def test_the_keys_for_parts_are_told_once_a_call():
    first = step(CAT, CallState(), "key", "1")
    assert first.prompts == ("topic.symptoms", "part_keys") and first.state.told
    again = step(CAT, replace(first.state, node=MAIN_MENU), "key", "2")
    assert "part_keys" not in again.prompts


def test_the_controls_never_change_what_a_menu_key_means():
    from service.engine.calls import NEXT_PART_KEY

    for menu in CAT.menus.values():
        assert NEXT_PART_KEY not in dict(menu.options), menu.id
    for topic_id, more in CAT.follow_ons.items():
        assert NEXT_PART_KEY not in dict(more.options), topic_id


def test_during_a_part_a_wrong_key_replays_it_and_a_text_goes_on_to_the_next(callback_cat):
    on_one = CallState(node="symptoms", topic="symptoms", told=True)
    wrong = step(CAT, on_one, "key", "5")
    assert wrong.prompts == ("wrong_key", "topic.symptoms") and wrong.quick, "the rest still follows"
    texted = resume(CAT, step(CAT, on_one, "key", "8").state, Texted("text_sent"))
    assert texted.prompts == ("text_sent", "topic.symptoms.2", *after(CAT, "symptoms"))
    holding = step(callback_cat, CallState(node=CALLBACK_NUMBER), "speech", "hold on")
    assert holding.collect_number, "waiting on the number step still takes a whole number"
