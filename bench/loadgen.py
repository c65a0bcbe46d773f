"""The load generator: a separate process that posts signed webhooks to a local port.

    python bench/loadgen.py --port 8000 --endpoint voice --concurrency 10 --seconds 3

Threads, one request per connection (gunicorn's sync workers close each one),
bounded by --seconds and --max-requests; only 127.0.0.1 is contacted. Prints
one JSON object: requests, errors, throughput (requests/s), median and p99 (ms).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.soak.harness import PUBLIC, SignedClient, call_sid, message_sid  # noqa: E402

MENU = PUBLIC + "/voice/menu?node=main&slow=0&misses=0&silences=0"


def request_for(endpoint: str, thread: int) -> tuple[str, dict]:
    number = f"+4474002{thread:05d}"
    if endpoint == "voice":
        return "/voice", {"CallSid": call_sid(), "From": number, "To": "+441632960000", "CallStatus": "ringing"}
    if endpoint == "press":
        return MENU, {"CallSid": call_sid(), "From": number, "To": "+441632960000", "Digits": "1"}
    if endpoint == "sms":
        sid = message_sid()
        return "/sms", {"MessageSid": sid, "SmsSid": sid, "From": number, "To": "+441632960000", "Body": "symptoms"}
    raise ValueError(endpoint)


def run(port: int, endpoint: str, concurrency: int, seconds: float, warmup: float, max_requests: int,
        rate: float = 0.0) -> dict:
    """Closed loop (each thread sends its next request as soon as it has an answer), or with ``rate``
    open loop: requests are due at a fixed pace whatever the answers, and a latency counts from the
    moment a request was due, so queueing in the generator is not hidden."""
    started = time.monotonic()
    measure_from = started + warmup
    deadline = measure_from + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    budget = [max_requests]
    slots = [0]

    def worker(index: int) -> None:
        client = SignedClient(port, timeout=30)
        mine: list[float] = []
        while True:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            if rate:
                with lock:
                    due = started + slots[0] / rate
                    slots[0] += 1
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                begun = due
            else:
                begun = time.monotonic()
            if begun >= deadline:
                break
            url, params = request_for(endpoint, index)
            try:
                answer = client.post(url, params)
                ok = answer.status == 200
            except OSError as error:
                ok, answer = False, None
                with lock:
                    errors.append(type(error).__name__)
            if answer is not None and not ok:
                with lock:
                    errors.append(f"HTTP {answer.status}")
            if begun >= measure_from and ok:
                mine.append(time.monotonic() - begun)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    window = min(time.monotonic(), deadline) - measure_from
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2) if ordered else float("nan")

    return {"endpoint": endpoint, "concurrency": concurrency, "rate": rate, "requests": len(ordered),
            "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5], "seconds": round(window, 3),
            "throughput": round(len(ordered) / window, 1) if window > 0 else 0.0,
            "median_ms": round(statistics.median(ordered) * 1000, 2) if ordered else float("nan"),
            "p99_ms": pct(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint", choices=["voice", "press", "sms"], required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s, open loop (0: closed loop)")
    args = parser.parse_args()
    print(json.dumps(run(args.port, args.endpoint, args.concurrency, args.seconds, args.warmup,
                         args.max_requests, args.rate)))


if __name__ == "__main__":
    main()
