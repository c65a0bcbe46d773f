"""Absolute URLs on the public origin Twilio calls: every action, callback and clip URL.

Behind a platform's router the app sees an internal URL, so each is built on
PUBLIC_BASE_URL (else this request's own origin, in development and tests).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request, url_for

# Characters url_for leaves as they are in a query (werkzeug's encoding): the same bytes, faster.
QUERY_SAFE = "!$'()*,/:;?@"
PATHS_KEY = "endpoint_paths"


def public_url(path_and_query: str) -> str:
    """An absolute URL on the public origin Twilio calls (PUBLIC_BASE_URL, else this request's)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    return base + path_and_query


def external_url(endpoint: str, **values) -> str:
    """``url_for`` on the public origin, for every action and callback URL Twilio will call.

    For an endpoint whose route has no variables (every webhook's): the path comes from ``url_for``
    once per app, and the values follow as the query in the order given, encoded as ``url_for``
    encodes them; this runs for every step of every call."""
    paths = current_app.extensions.setdefault(PATHS_KEY, {})
    path = paths.get(endpoint)
    if path is None:
        path = paths[endpoint] = url_for(endpoint)
    query = urlencode([(name, value) for name, value in values.items() if value is not None], safe=QUERY_SAFE)
    return public_url(path + ("?" + query if query else ""))
