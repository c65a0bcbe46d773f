"""The yardstick for the web benchmark: a bare Flask app that parses the webhook's form and answers
with one fixed TwiML document (no signature check, no database), served by the same Procfile
gunicorn command."""
from __future__ import annotations

from flask import Flask, Response, request

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="https://line.example.org/voice/menu'
    '?node=main&amp;slow=0&amp;misses=0&amp;silences=0" finishOnKey="" input="dtmf speech" language="en-GB" '
    'timeout="6"><Play>https://line.example.org/audio/welcome-normal-000000000000.mp3</Play></Gather>'
    "</Response>"
)


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/voice")
    @app.post("/voice/menu")
    @app.post("/sms")
    def fixed() -> Response:
        # Read the form as any webhook must (Twilio posts a few hundred bytes of it).
        if not request.form.get("CallSid") and not request.form.get("MessageSid"):
            return Response(status=400)
        return Response(TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    return app
