"""What the line keeps of a phone number where it needs no number: a salted hash (a pseudonym)
in the tables, and the last three digits (masked) in logs and on the console."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def salt() -> bytes:
    configured = current_app.config.get("ANALYTICS_SALT")
    if configured:
        return configured.encode()
    # No salt configured: derive a stable one from the token, so hashes are still keyed.
    token = current_app.config["TWILIO_AUTH_TOKEN"].encode()
    return hmac.new(token, b"all-line analytics salt", hashlib.sha256).digest()


def pseudonym(value: str) -> str:
    """A salted hash of a phone number or call id: stable, not reversible without the salt."""
    return hmac.new(salt(), value.strip().encode(), hashlib.sha256).hexdigest()


def masked(number: str | None, before: str = "...", withheld: str = "...") -> str:
    """Enough to tell numbers apart, never the whole number: the last three digits after ``before``
    ("...456" in logs, "ending 456" on the console), or ``withheld`` when there are not enough."""
    number = (number or "").strip()
    return f"{before}{number[-3:]}" if len(number) > 3 else withheld


def for_operators(number: str | None) -> str:
    """A number as the console shows it: "ending 456", or "withheld"."""
    return masked(number, before="ending ", withheld="withheld")
