"""Simulated callers and texters: threads that follow the line's TwiML until a deadline.

Each caller dials in and presses keys from the Gather actions it is given (as
Twilio would); each texter texts from its own number with a fresh MessageSid,
and now and then Twilio "redelivers" one it already sent. Every loop is bounded
in count and in time, and only 127.0.0.1 is contacted.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from .harness import InvalidTwiML, SignedClient, call_sid, message_sid, sms_messages, voice_twiml

KEYS = ["1", "2", "3", "4", "5", "1", "2", "*", "#", "7", "8", "6", "9"]
TEXTS = ["MENU", "1", "symptoms", "2", "treatment", "HELP", "3", "symtoms", "hello", "#", "4", "INFO"]
MAX_STEPS = 10_000  # per simulated person: a bound beside the deadline


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter = field(default_factory=Counter)  # by kind
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    # MessageSid -> number of answers that carried a text (must end at exactly 1)
    replies: Counter = field(default_factory=Counter)
    redeliveries_answered: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def note(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.statuses[status] += 1
            self.latencies.append(seconds)

    def problem(self, bucket: list, text: str) -> None:
        with self.lock:
            if len(bucket) < 50:
                bucket.append(text)
            else:
                bucket[-1] = text

    def summary(self) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0

        return {"requests": dict(self.requests), "statuses": dict(self.statuses),
                "texts": len(self.replies), "median_ms": pct(0.5), "p99_ms": pct(0.99),
                "server_errors": len(self.server_errors), "invalid": len(self.invalid),
                "transport_errors": len(self.transport_errors)}


def mobile(index: int) -> str:
    """A distinct valid UK mobile number per simulated person (07400 1xxxxx)."""
    return f"+4474001{index:05d}"


class Crowd:
    def __init__(self, port: int, callers: int, texters: int, seconds: float, seed: int = 8,
                 redeliver_every: int = 7):
        self.port = port
        self.callers = callers
        self.texters = texters
        self.seconds = seconds
        self.seed = seed
        self.redeliver_every = redeliver_every
        self.tally = Tally()
        self.sent_sids: list[str] = []

    def run(self) -> Tally:
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self._caller, args=(i, deadline), daemon=True)
                   for i in range(self.callers)]
        threads += [threading.Thread(target=self._texter, args=(i, deadline), daemon=True)
                    for i in range(self.texters)]
        for thread in threads:
            thread.start()
        for thread in threads:
            # Each request has a 30 s client timeout, so a person stops within that of the deadline.
            thread.join(timeout=self.seconds + 90)
        return self.tally

    def _send(self, client: SignedClient, kind: str, url: str, params: dict):
        try:
            answer = client.post(url, params)
        except OSError as error:
            self.tally.problem(self.tally.transport_errors, f"{kind}: {type(error).__name__}: {error}")
            return None
        self.tally.note(kind, answer.status, answer.seconds)
        if answer.status >= 500:
            self.tally.problem(self.tally.server_errors, f"{kind} {url}: HTTP {answer.status}")
        return answer

    def _caller(self, index: int, deadline: float) -> None:
        rng = random.Random(self.seed * 100_003 + index)
        client = SignedClient(self.port)
        params = {"AccountSid": "AC" + "0" * 32, "From": mobile(index), "To": "+441632960000",
                  "CallStatus": "in-progress", "Direction": "inbound"}
        steps = 0
        while time.monotonic() < deadline and steps < MAX_STEPS:
            params["CallSid"] = call_sid()
            answer = self._send(client, "voice", "/voice", params)
            steps += 1
            for _press in range(rng.randint(1, 4)):
                if answer is None or time.monotonic() >= deadline:
                    break
                try:
                    root = voice_twiml(answer)
                except InvalidTwiML as error:
                    self.tally.problem(self.tally.invalid, f"voice: {error}")
                    break
                gather = root.find("Gather")
                if gather is None:
                    break  # the call ended (goodbye) or was transferred
                answer = self._send(client, "press", gather.get("action"), dict(params, Digits=rng.choice(KEYS)))
                steps += 1
            if answer is not None:
                try:
                    voice_twiml(answer)
                except InvalidTwiML as error:
                    self.tally.problem(self.tally.invalid, f"press: {error}")

    def _texter(self, index: int, deadline: float) -> None:
        rng = random.Random(self.seed * 200_003 + index)
        client = SignedClient(self.port)
        number = mobile(50_000 + index)
        mine: list[str] = []
        steps = 0
        while time.monotonic() < deadline and steps < MAX_STEPS:
            steps += 1
            redelivery = bool(mine) and steps % self.redeliver_every == 0
            sid = rng.choice(mine) if redelivery else message_sid()
            params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
                      "To": "+441632960000", "Body": rng.choice(TEXTS), "NumMedia": "0"}
            answer = self._send(client, "sms", "/sms", params)
            if answer is None:
                continue  # not answered: Twilio would redeliver it, so it may be sent again
            try:
                texts = sms_messages(answer)
            except InvalidTwiML as error:
                self.tally.problem(self.tally.invalid, f"sms: {error}")
                continue
            with self.tally.lock:
                # Texts per MessageSid, over first delivery and redeliveries: exactly 1 is right.
                self.tally.replies[sid] += len(texts)
                if redelivery and texts:
                    self.tally.redeliveries_answered.append(sid)
                if not redelivery:
                    self.sent_sids.append(sid)
            if not redelivery:
                mine.append(sid)


def check(tally: Tally, sent_sids: list[str], processed_sids: set[str]) -> list[str]:
    """What went wrong in a run, as sentences; empty when the line held up."""
    problems = []
    if tally.server_errors:
        problems.append(f"{len(tally.server_errors)}+ 5xx answers, e.g. {tally.server_errors[:3]}")
    if tally.invalid:
        problems.append(f"{len(tally.invalid)}+ invalid TwiML answers, e.g. {tally.invalid[:3]}")
    if tally.transport_errors:
        problems.append(f"{len(tally.transport_errors)}+ requests unanswered, e.g. {tally.transport_errors[:3]}")
    wrong = {sid: n for sid, n in tally.replies.items() if n != 1}
    if wrong:
        problems.append(f"{len(wrong)} texts not answered exactly once, e.g. {list(wrong.items())[:3]}")
    if tally.redeliveries_answered:
        problems.append(f"{len(tally.redeliveries_answered)} redeliveries got a second reply")
    missing = set(sent_sids) - processed_sids
    if missing:
        problems.append(f"{len(missing)} answered texts not recorded as processed, e.g. {sorted(missing)[:3]}")
    if not sent_sids or not tally.requests.get("voice") or not tally.requests.get("press"):
        problems.append(f"the crowd hardly ran: {tally.summary()}")
    return problems
