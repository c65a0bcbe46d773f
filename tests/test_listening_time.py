"""Listening time, measured on the clips the line plays (issue 24): from pickup every main-menu
option is heard by 30 s, 999 and the 24-hour line come in the welcome (the first 15 s), and the
options after a topic take at most 8 s. Measured at the usual speed; the slow twin is longer."""
from __future__ import annotations

import pytest

from service.audio.manifest import Manifest
from service.config import PROJECT_ROOT
from service.content import MAIN_MENU, load_catalogue
from service.engine import start

CAT = load_catalogue()
AUDIO = Manifest.load(PROJECT_ROOT / "audio")


def seconds(prompt_id: str, slow: bool = False) -> float:
    return AUDIO.seconds(prompt_id, slow=slow)


def test_every_main_menu_option_is_heard_within_30_seconds_of_pickup():
    opening = start(CAT).prompts
    menu = CAT.menus[MAIN_MENU].voice
    before_menu_ends = opening[: opening.index(menu) + 1]
    assert before_menu_ends == ("welcome", menu), "nothing else before the options"
    assert sum(seconds(p) for p in before_menu_ends) <= 30.0


def test_999_and_the_24_hour_line_are_in_a_welcome_of_at_most_15_seconds():
    assert seconds("welcome") <= 15.0
    assert "999" in CAT.prompts["welcome"].text and "24-hour" in CAT.prompts["welcome"].text


def test_the_options_after_a_topic_take_at_most_8_seconds():
    assert seconds("after_topic") <= 8.0


@pytest.mark.parametrize("prompt_id", ["welcome", CAT.menus[MAIN_MENU].voice, "after_topic", "take_your_time",
                                       "feedback_ask"])
def test_the_slow_twin_is_clearly_longer(prompt_id):
    # Measured 1.19 to 1.24 times as long (the engine's slow setting; the pads are the same).
    assert seconds(prompt_id, slow=True) >= 1.15 * seconds(prompt_id)


def test_no_clip_a_caller_sits_through_is_longer_than_30_seconds():
    """Every clip, menus and every part of every topic, at the usual speed."""
    too_long = {pid: round(seconds(pid), 1) for pid in CAT.voice_prompts() if seconds(pid) > 30.0}
    assert too_long == {}


def test_every_topic_is_told_in_parts_and_its_first_part_carries_the_urgent_advice():
    for topic in CAT.topics.values():
        assert len(topic.parts) >= 2, topic.id
        first = topic.parts[0].text
        assert "999" in first, topic.id
        assert topic.id == "crisis" or "24-hour" in first, topic.id
