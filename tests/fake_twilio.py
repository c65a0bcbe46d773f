"""A fake of Twilio's Messages API at the HTTP layer: the real twilio client talks to it."""
from __future__ import annotations

import itertools
import json
import threading
import urllib.parse

import responses

API = "https://api.twilio.test"
ACCOUNT = "AC" + "0" * 32


class FakeTwilio:
    def __init__(self, mock: responses.RequestsMock):
        self.received: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # queued answers, before the default success
        self.lock = threading.Lock()
        self._sids = itertools.count(1)
        mock.add_callback(responses.POST, f"{API}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
                          callback=self._create)

    def fail_next(self, status: int, code: int, message: str = "fake failure", times: int = 1) -> None:
        for _ in range(times):
            self.script.append((status, {"code": code, "message": message, "status": status}))

    def _create(self, request):
        form = dict(urllib.parse.parse_qsl(request.body))
        with self.lock:
            if self.script:
                status, body = self.script.pop(0)
                return status, {"Content-Type": "application/json"}, json.dumps(body)
            sid = f"SM{next(self._sids):032x}"
            self.received.append(dict(form, sid=sid))
        body = {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                "body": form.get("Body"), "account_sid": ACCOUNT}
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    def bodies_to(self, number: str) -> list[str]:
        return [m["Body"] for m in self.received if m["To"] == number]
