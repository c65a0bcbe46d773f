"""What every text-to-speech engine shares: the Engine protocol, its error, the voices folder, and
the spelled-out letter A."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

VOICES_DIR = Path(__file__).parent / "voices"
# hibari reads a lone "A" as the article ("uh"), even in a spelled-out run of capitals
# such as "A L L" or in "A and E"; there it is the letter, so it gets the letter's phonemes
# (hibari's inline [word](/phonemes/) markup).
SPELLED_A = re.compile(r"(?<![\w\[])A(?= (?:[A-Z]|and E)\b)")
LETTER_A = "[A](/ˈA/)"


class EngineError(RuntimeError):
    """The engine cannot make speech here; the message says what to do."""


class Engine(Protocol):
    name: str
    voice: str

    def info(self) -> dict[str, str]:
        """Engine and voice, their versions and licences, for the manifest."""

    def settings(self, slow: bool) -> dict[str, Any]:
        """Everything that changes the engine's output for this speed."""

    def synthesize(self, text: str, slow: bool) -> tuple[np.ndarray, int]:
        """Mono float samples in [-1, 1] and their sample rate."""
