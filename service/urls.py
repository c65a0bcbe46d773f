"""Absolute URLs on the public origin Twilio calls: every action, callback and clip URL.

Behind a platform's router the app sees an internal URL, so each is built on
PUBLIC_BASE_URL (else this request's own origin, in development and tests).
"""
from __future__ import annotations

from flask import current_app, request, url_for


def public_url(path_and_query: str) -> str:
    """An absolute URL on the public origin Twilio calls (PUBLIC_BASE_URL, else this request's)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + path_and_query


def external_url(endpoint: str, **values) -> str:
    """``url_for`` on the public origin, for every action and callback URL Twilio will call."""
    return public_url(url_for(endpoint, **values))
