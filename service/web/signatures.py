"""Twilio webhook signatures: every webhook is checked; a bad one gets 403 and one plain line
saying why (never the expected signature, never a secret).

Behind a platform's router the app sees an internal URL, so the URL Twilio
signed is rebuilt on the public origin (``urls.public_url``) from the path and query it requested.
"""
from __future__ import annotations

import logging
import re
from functools import cache

from flask import Response, abort, current_app, g, request
from twilio.request_validator import RequestValidator

from .urls import public_url

log = logging.getLogger(__name__)


# CallSid and MessageSid: letters and digits; anything else is not from Twilio.
SID_PATTERN = re.compile(r"[A-Za-z0-9]{1,64}")


def valid_sid(value: str) -> bool:
    return bool(SID_PATTERN.fullmatch(value or ""))


@cache
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def signed_url() -> str:
    """The URL Twilio requested, as it signed it."""
    query = request.query_string.decode("latin-1")
    return public_url(request.path + (f"?{query}" if query else ""))


def require_twilio_signature() -> None:
    """A ``before_request`` hook for webhook blueprints."""
    signature = request.headers.get("X-Twilio-Signature", "")
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if signature and request.method == "POST" and _validator(token).validate(signed_url(), request.form, signature):
        g.twilio_verified = True
        return
    log.warning("refused %s %s: %s Twilio signature", request.method, request.path,
                "wrong" if signature else "no")
    abort(Response(_why(signature) + "\n", status=403, mimetype="text/plain"))


def _why(signature: str) -> str:
    if request.method != "POST":
        return "Refused: Twilio webhooks are POST requests, signed with X-Twilio-Signature."
    if not signature:
        return ("Refused: no X-Twilio-Signature header. Every webhook must be signed with the account's auth "
                "token, as Twilio signs it (under `make run`, the token the banner prints).")
    return ("Refused: wrong X-Twilio-Signature. It must be signed for this exact URL (on PUBLIC_BASE_URL) and "
            "these form fields, with the auth token this line has.")
