"""Phone numbers: E.164 for storage, and which numbers can receive a text."""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
HOME_REGION = "GB"
# Numbers an operator may call back: UK geographic (01, 02, 03) and mobile (071-075, 077-079).
# Never premium rate (09), personal (070), pagers (076), shared cost (084, 087) or freephone:
# an operator would be dialling a number that costs the charity, or reaches someone else.
CALLBACK_PREFIXES = ("1", "2", "3", "71", "72", "73", "74", "75", "77", "78", "79")


def _parse(number: str) -> PhoneNumber | None:
    """The number as written in the UK ("07..." or "+44..."), None if it is no number at all
    (withheld callers arrive as "anonymous" or a non-number)."""
    try:
        return phonenumbers.parse((number or "").strip(), HOME_REGION)
    except phonenumbers.NumberParseException:
        return None


def _valid_uk(number: str) -> PhoneNumber | None:
    parsed = _parse(number)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None
    return parsed if phonenumbers.region_code_for_number(parsed) == HOME_REGION else None


def is_e164(number: str) -> bool:
    """A valid number written in E.164 ("+44 808 808 0000"), as a number to dial is kept."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return number.startswith("+") and phonenumbers.is_valid_number(parsed)


def national(number: str) -> str:
    """A number as people in the UK write it ("07400 123456"), for an operator to dial; as it was
    given when it is no number."""
    parsed = _parse(number)
    return number if parsed is None else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def spoken_groups(digits: str) -> list[str]:
    """A number in the groups it is said in, as written in the UK ("07700 900 123", "020 7946 0000"):
    its national format's groups, a group of six said as two threes; a number that is no number in
    fives then threes."""
    parsed = _parse(digits)
    written = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL) if parsed else ""
    if written.replace(" ", "") != digits:
        written = " ".join([digits[:5], *(digits[n:n + 3] for n in range(5, len(digits), 3))])
    groups: list[str] = []
    for group in written.split():
        groups += [group[:3], group[3:]] if len(group) == 6 else [group]
    return groups


def e164(number: str) -> str | None:
    """"+447700900123" for any way a UK number is written; None if it cannot be a number.

    Lenient on purpose: Twilio has already delivered a text from it, so it exists,
    even where the numbering plan says otherwise (Ofcom's drama numbers)."""
    parsed = _parse(number)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_uk_mobile(number: str) -> bool:
    """A UK mobile, which can receive a text; a withheld caller fails here too."""
    parsed = _valid_uk(number)
    return parsed is not None and phonenumbers.number_type(parsed) in TEXTABLE


def is_uk_number(number: str) -> bool:
    """A number a person could be called back on: valid, and in the UK."""
    return _valid_uk(number) is not None


def is_callback_number(number: str) -> bool:
    """A UK landline or mobile number a person can be called back on."""
    parsed = _valid_uk(number)
    return parsed is not None and phonenumbers.national_significant_number(parsed).startswith(CALLBACK_PREFIXES)


def country_code(number: str) -> int | None:
    """The calling code of an E.164 number (44 for +44 ...), None if it is no number."""
    parsed = _parse(number)
    return parsed.country_code if parsed is not None else None


def in_countries(number: str, codes: tuple[int, ...] | list[int]) -> bool:
    """Texts may be exchanged only with these calling codes (SMS pumping costs the charity money)."""
    return country_code(number) in codes
