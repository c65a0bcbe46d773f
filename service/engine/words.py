"""What words ask for, in a call or a text: the topic or menu a keyword names, urgent answers first."""
from __future__ import annotations

from ..basics import matching
from ..content import Catalogue


def find_node(cat: Catalogue, said: str) -> str | None:
    """The topic or menu that words ask for; an urgent answer (a fever, a crisis) wins over any other,
    unless the urgent word is only part of a longer keyword ("infection" in "avoiding infection",
    an answer that itself starts with the urgent advice)."""
    urgent = matching.best_keyword(said, cat.urgent_keyword_targets, cat.never_fuzzy)
    other = matching.best_keyword(said, cat.keyword_targets, cat.never_fuzzy)
    if urgent and other and other != urgent and other not in cat.urgent_keyword_targets:
        # Set the longer keyword's own words aside: an urgent word anywhere else still wins.
        rest = f" {matching.normalise(said)} ".replace(f" {other} ", " _ ")
        urgent = matching.best_keyword(rest, cat.urgent_keyword_targets, cat.never_fuzzy)
    if urgent:
        return cat.urgent_keyword_targets[urgent]
    return cat.keyword_targets[other] if other else None
