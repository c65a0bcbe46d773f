"""Phone numbers: E.164 for storage, and which numbers can receive a text."""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
HOME_REGION = "GB"


def e164(number: str) -> str | None:
    """"+447700900123" for any way a UK number is written; None if it cannot be a number.

    Lenient on purpose: Twilio has already delivered a text from it, so it exists,
    even where the numbering plan says otherwise (Ofcom's drama numbers)."""
    try:
        parsed = phonenumbers.parse((number or "").strip(), HOME_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_uk_mobile(number: str) -> bool:
    """Withheld callers arrive as "anonymous" or a non-number, and fail here too."""
    try:
        parsed = phonenumbers.parse((number or "").strip(), HOME_REGION)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) == HOME_REGION
            and phonenumbers.number_type(parsed) in TEXTABLE)


def is_uk_number(number: str) -> bool:
    """A number a person could be called back on: valid, and in the UK."""
    try:
        parsed = phonenumbers.parse((number or "").strip(), HOME_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == HOME_REGION
