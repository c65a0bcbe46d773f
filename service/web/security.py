"""Browser-facing protections: HSTS on an https origin, and one Content-Security-Policy for the
pages people open (the console and the simulator). Twilio ignores both."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy() -> str:
    """Only this origin's own files: no inline script or style, no framing, no other form target.
    Clips may also come from AUDIO_BASE_URL's origin."""
    audio = current_app.config.get("AUDIO_BASE_URL") or ""
    media = "'self'" + (f" {urlsplit(audio).scheme}://{urlsplit(audio).netloc}" if audio else "")
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src {media}; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'; object-src 'none'")


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def init_app(app: Flask) -> None:
    """A plain answer for a request naming a host the line does not serve, and HSTS on every
    response once the public origin is https: browsers never try plain http again."""
    from werkzeug.exceptions import SecurityError

    @app.errorhandler(SecurityError)
    def unknown_host(_error: SecurityError) -> Response:
        return Response("Refused: the Host header names a host this line does not serve (PUBLIC_BASE_URL's host, "
                        "ALLOWED_HOSTS, or 127.0.0.1 under `make run`).\n", status=400, mimetype="text/plain")

    if not app.config.get("PUBLIC_BASE_URL", "").startswith("https://"):
        return

    @app.after_request
    def strict_transport_security(response: Response) -> Response:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
