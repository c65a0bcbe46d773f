"""What words ask for, in a call or a text (``find_node``): keywords, misspellings, and the urgent
answers (a fever, a crisis) first, except inside a longer keyword whose answer starts with the same
advice. No app, no database."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.content import load_catalogue
from service.engine import find_node

CAT = load_catalogue()
URGENT = sorted(CAT.urgent_keyword_targets)
ORDINARY = sorted(word for word, node in CAT.keyword_targets.items() if node not in CAT.urgent_keyword_targets.values())
filler = st.lists(st.sampled_from(["please", "um", "what", "about", "my", "mum", "and", "today", "the"]), max_size=4)


def test_the_crisis_answer_still_wins_over_a_fever():
    assert find_node(CAT, "I have a fever and I want to die") == "crisis"


@pytest.mark.parametrize(("words", "expected"), [
    ("how do I avoid infection", "infection"),
    ("avoiding infections during chemo", "infection"),
    ("what about my central line", "infection"),
    ("I think I have an infection", "fever"),
    ("I have a fever, how do I avoid infection", "fever"),
    ("I have an infection, how do I avoid infection spreading", "fever"),
    ("avoid infection and I feel awful", "fever"),
    ("hair loss", "side_effects"),
    ("side effects of steroids", "side_effects"),
    ("can I still have children", "fertility"),
    ("help with benefits", "money"),
    ("I'm a carer for my husband", "carers"),
    ("what should I ask my consultant", "questions"),
    ("what happens after treatment", "follow_up"),
    ("how long does treatment last", "phases"),
    ("stem cell transplant", "transplant"),
    ("Philadelphia positive", "targeted"),
    ("CAR-T", "targeted"),
])
def test_words_find_the_topic_and_urgent_words_still_win(words, expected):
    assert find_node(CAT, words) == expected


def test_every_keyword_finds_its_own_topic_or_menu():
    for word, node in CAT.keyword_targets.items():
        found = find_node(CAT, word)
        assert found == node or found in CAT.urgent_keyword_targets.values(), (word, node, found)


@given(before=filler, urgent=st.sampled_from(URGENT), after=filler)
def test_an_urgent_word_in_any_sentence_gets_an_urgent_answer(before, urgent, after):
    said = " ".join([*before, urgent, *after])
    assert find_node(CAT, said) in set(CAT.urgent_keyword_targets.values()), said


@given(before=filler, word=st.sampled_from(ORDINARY), after=filler)
def test_an_ordinary_keyword_in_a_sentence_without_urgent_words_finds_its_place(before, word, after):
    said = " ".join([*before, word, *after])
    assert find_node(CAT, said) is not None, said
