"""GSM-7 character checks and SMS segment counting.

Follows Twilio's published rules: a GSM-7 message fits 160 characters in one
segment and 153 per segment when split; UCS-2 fits 70 and 67; characters of the
GSM-7 extension table take two septets each.
"""
from __future__ import annotations

import math

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = set("^{}\\[~]|€\f")

SEGMENT_BUDGET = 2
GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


def non_gsm_characters(text: str) -> list[str]:
    """Characters that would force the whole message into UCS-2."""
    return sorted({ch for ch in text if ch not in BASIC and ch not in EXTENSION})


def is_gsm7(text: str) -> bool:
    return not non_gsm_characters(text)


def septets(text: str) -> int:
    return sum(2 if ch in EXTENSION else 1 for ch in text)


def segments(text: str) -> int:
    """How many SMS segments Twilio will send ``text`` as."""
    if is_gsm7(text):
        length, single, multi = septets(text), GSM7_SINGLE, GSM7_MULTI
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP take two.
        length = len(text.encode("utf-16-le")) // 2
        single, multi = UCS2_SINGLE, UCS2_MULTI
    if length <= single:
        return 1
    return math.ceil(length / multi)


def fits(text: str, budget: int = SEGMENT_BUDGET) -> bool:
    return is_gsm7(text) and segments(text) <= budget
