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


# Numbers an operator may call back: UK geographic (01, 02, 03) and mobile (071-075, 077-079).
# Never premium rate (09), personal (070), pagers (076), shared cost (084, 087) or freephone:
# an operator would be dialling a number that costs the charity, or reaches someone else.
CALLBACK_PREFIXES = ("1", "2", "3", "71", "72", "73", "74", "75", "77", "78", "79")


def is_callback_number(number: str) -> bool:
    """A UK landline or mobile number a person can be called back on."""
    try:
        parsed = phonenumbers.parse((number or "").strip(), HOME_REGION)
    except phonenumbers.NumberParseException:
        return False
    if not (phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == HOME_REGION):
        return False
    return phonenumbers.national_significant_number(parsed).startswith(CALLBACK_PREFIXES)


def country_code(number: str) -> int | None:
    """The calling code of an E.164 number (44 for +44 ...), None if it is no number."""
    try:
        return phonenumbers.parse((number or "").strip(), HOME_REGION).country_code
    except phonenumbers.NumberParseException:
        return None


def in_countries(number: str, codes: tuple[int, ...] | list[int]) -> bool:
    """Texts may be exchanged only with these calling codes (SMS pumping costs the charity money)."""
    return country_code(number) in codes
