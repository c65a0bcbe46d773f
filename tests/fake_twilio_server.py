"""A fake of Twilio's Messages API as a real HTTP server (standard library only).

For tests and benchmarks where the app runs in another process (send-due under
`flask`, the Procfile's gunicorn), so the in-process `responses` fake
(tests/fake_twilio.py) cannot reach it. Same request and answer shapes: a form
POST to ``/2010-04-01/Accounts/<sid>/Messages.json`` gets 201 and a JSON
message with a fresh ``SM...`` sid.

    python -m tests.fake_twilio_server --port 0 --delay 1.5   # prints "listening on PORT"

``GET /_received`` answers the messages received so far (JSON list, each form
field plus ``sid``, ``received_at`` (time.monotonic(), for intervals) and ``answered``), ``GET /_stats`` the
counts. A message is recorded when its request arrives, before the delay: like
Twilio, the fake may have accepted a text whose answer the sender never read.
It listens on 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = "AC" + "0" * 32
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")


class FakeTwilioServer:
    """The fake, on a free loopback port, in a background thread of this process."""

    def __init__(self, port: int = 0, delay: float = 0.0, account: str = ACCOUNT):
        self.delay = delay
        self.account = account
        self.received: list[dict] = []
        self.in_flight = 0
        self.lock = threading.Lock()
        self._sids = itertools.count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> FakeTwilioServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTwilioServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return [dict(message) for message in self.received]

    def _record(self, form: dict) -> dict:
        with self.lock:
            message = dict(form, sid=f"SM{next(self._sids):032x}", received_at=time.monotonic(), answered=False)
            self.received.append(message)
            self.in_flight += 1
        return message

    def _answered(self, message: dict, answered: bool) -> None:
        with self.lock:
            message["answered"] = answered
            self.in_flight -= 1

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args) -> None:  # quiet: tests read the JSON, not a log
                return

            def _json(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/_received":
                    self._json(200, server.snapshot())
                elif self.path == "/_stats":
                    with server.lock:
                        stats = {"received": len(server.received), "in_flight": server.in_flight}
                    self._json(200, stats)
                else:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})

            def do_POST(self) -> None:
                match = MESSAGES_PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not match or match.group(1) != server.account:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                form = dict(urllib.parse.parse_qsl(raw.decode("utf-8")))
                if not form.get("To") or not form.get("Body"):
                    self._json(400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
                    return
                message = server._record(form)
                answered = False
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    self._json(201, {"sid": message["sid"], "status": "queued", "to": form.get("To"),
                                     "from": form.get("From"), "body": form.get("Body"),
                                     "account_sid": server.account})
                    answered = True
                except OSError:
                    pass  # the sender went away (killed) before reading the answer
                finally:
                    server._answered(message, answered)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    server = FakeTwilioServer(args.port, args.delay)
    print(f"listening on {server.port}", flush=True)
    try:
        server.httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
