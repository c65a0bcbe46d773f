"""Match what a caller said or a texter typed to a keyword, forgiving misspellings."""
from __future__ import annotations

import re

from rapidfuzz import fuzz, process

# Below this many letters a keyword must match exactly: "y" is not "yo".
FUZZY_MIN_LENGTH = 4
FUZZY_CUTOFF = 80.0


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: "  Symptoms?! " -> "symptoms"."""
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).replace("'", "").split())


def command(text: str, commands: dict[str, tuple[str, ...]]) -> str | None:
    """The command whose word is the whole message ("STOP", " stop ", "Stop!")."""
    said = normalise(text)
    for name, words in commands.items():
        if said in words:
            return name
    return None


def leading(text: str, commands: dict[str, tuple[str, ...]]) -> str | None:
    """The command whose word starts the message ("stop texting me", "yes please")."""
    words = normalise(text).split()
    if not words:
        return None
    for name, starters in commands.items():
        if words[0] in starters:
            return name
    return None


def keyword(text: str, keywords: dict[str, str], never_fuzzy: frozenset[str] = frozenset()) -> str | None:
    """The target of the best keyword in ``text`` (see ``best_keyword``)."""
    found = best_keyword(text, keywords, never_fuzzy)
    return keywords[found] if found else None


def best_keyword(text: str, keywords: dict[str, str] | dict[str, object],
                 never_fuzzy: frozenset[str] = frozenset()) -> str | None:
    """The best keyword in ``text``: exact words first, then close spellings.

    Among exact matches the most specific wins: more words first ("my child" beats
    "leukaemia"), then the longer. Words in ``never_fuzzy`` are never taken for a
    near-spelling of a keyword.
    """
    said = normalise(text)
    if not said:
        return None
    if said in keywords:
        return said
    padded = f" {said} "
    inside = [word for word in keywords if f" {word} " in padded]
    if inside:
        return max(inside, key=lambda word: (len(word.split()), len(word)))
    words = said.split()
    grams = {" ".join(words[i:i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
    candidates = [word for word in keywords if len(word) >= FUZZY_MIN_LENGTH]
    best: tuple[float, int, str] | None = None
    for gram in grams:
        if len(gram) < FUZZY_MIN_LENGTH or gram in never_fuzzy or set(gram.split()) & never_fuzzy:
            continue
        found = process.extractOne(gram, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found:
            choice, score, _ = found
            rank = (score, len(choice), choice)
            if best is None or rank > best:
                best = rank
    return best[2] if best else None
