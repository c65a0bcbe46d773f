"""Topics in parts, and the caller's controls while one plays (issue 24), through the real
webhooks: on every topic, 6 or "next" skips on, star twice or "previous" goes back, "wait" holds."""
from __future__ import annotations

import pytest

from service.content import load_catalogue
from service.web.twiml import PART_PAUSE_SECONDS, PATIENT_TIMEOUT_SECONDS

from ..helpers import Call, after, topic_paths

CAT = load_catalogue()
PATHS = {topic: keys for keys, topic in topic_paths(CAT)}


def at_first_part(app, topic_id: str) -> Call:
    call = Call(app, through_parts=False)
    call.dial_in()
    for key in PATHS[topic_id][:-1]:
        call.press(key)
    assert call.press(PATHS[topic_id][-1]) == [f"topic.{topic_id}"]
    assert call.told_part_keys, "how to skip on is told after the first part"
    assert call.gather.get("timeout") == str(PART_PAUSE_SECONDS), "the next part follows after a breath"
    return call


@pytest.mark.parametrize("topic_id", sorted(PATHS))
def test_on_every_topic_the_controls_work_by_key(app, topic_id):
    call = at_first_part(app, topic_id)
    last = CAT.topics[topic_id].parts[-1].id
    assert call.press("6") == [f"topic.{topic_id}.2", *([] if last != f"topic.{topic_id}.2" else after(CAT, topic_id))]
    call.press("*")
    assert call.press("*") == [f"topic.{topic_id}"], "star twice: the part before"
    assert call.silence()[0] == f"topic.{topic_id}.2", "silence: the next part by itself"


@pytest.mark.parametrize("topic_id", sorted(PATHS))
def test_on_every_topic_the_controls_work_by_voice(app, topic_id):
    call = at_first_part(app, topic_id)
    assert call.say("next")[0] == f"topic.{topic_id}.2"
    assert call.say("previous") == [f"topic.{topic_id}"]
    assert call.say("hold on") == ["hold_on"]
    assert call.gather.get("timeout") == str(PATIENT_TIMEOUT_SECONDS)
    more = CAT.follow_ons.get(topic_id)
    free = [key for key in "12345" if not (more and more.target(key))]
    if free:
        assert call.press(free[0]) == [f"topic.{topic_id}"], "any key carries on, from the start of the part"
    else:  # every key means something after this topic: it keeps its meaning while the line waits
        assert call.press("5")[0] == f"topic.{more.target('5')}"


def test_a_quiet_caller_hears_every_part_then_the_options(app):
    call = Call(app)
    call.dial_in()
    heard = call.press("1")
    assert heard == [part.id for part in CAT.topics["symptoms"].parts] + after(CAT, "symptoms")
    assert call.gather.get("timeout") == "6", "the options wait as long as any menu"


def test_hold_reminds_once_then_ends_after_about_two_minutes(app):
    call = at_first_part(app, "fever") if "fever" in PATHS else None
    if call is None:
        call = Call(app, through_parts=False)
        call.dial_in()
        call.say("I have a temperature")
    assert call.say("wait") == ["hold_on"]
    assert call.silence() == ["take_your_time"]
    assert call.gather.get("timeout") == str(PATIENT_TIMEOUT_SECONDS)
    assert call.silence() == ["no_input_goodbye", "help_numbers", "goodbye"] and call.hung_up
