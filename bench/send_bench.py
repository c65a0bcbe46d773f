"""send-due benchmark: messages a second from the outbox to a local fake Twilio, 1 and 4 workers.

    python bench/send_bench.py                 # SQLite; PostgreSQL too where BENCH_DATABASE_URL
                                               # or TEST_DATABASE_URL names a server
    python bench/send_bench.py --messages 300

Each run: a fresh database (a temporary file, or a temporary `bench_<random>`
database created and dropped on the PostgreSQL server), the release step,
N due texts, the fake server (tests/fake_twilio_server.py) in its own process,
then N workers as separate `flask --app service sms send-due` processes started
together with SEND_RATE_PER_SECOND high enough not to throttle. Reports wall
time (process start to last exit, start-up included) and the sending window
(first to last message the fake received), checks that every row ended `sent`
and that the fake received no text twice. Writes bench/send_results.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select  # noqa: E402

from service.config import normalise_database_url  # noqa: E402
from service.storage.models import OutboxMessage  # noqa: E402
from tests.reliability.soak.harness import BIN, app_env, release, temporary_database  # noqa: E402

HERE = Path(__file__).resolve().parent


def start_fake() -> tuple[subprocess.Popen, str]:
    fake = subprocess.Popen([sys.executable, "-m", "tests.fake_twilio_server", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    line = fake.stdout.readline()
    if not line.startswith("listening on "):
        fake.kill()
        raise RuntimeError(f"fake Twilio did not start: {line!r}")
    return fake, f"http://127.0.0.1:{int(line.split()[-1])}"


def queue(url: str, messages: int) -> None:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(OutboxMessage), [
                {"dedupe_key": f"bench:{i}", "kind": "text_me", "to_number": f"+4474005{i:05d}",
                 "body": f"bench text {i}", "state": "queued", "due_at": moment, "attempts": 0,
                 "created_at": moment} for i in range(messages)])
    finally:
        engine.dispose()


def states(url: str) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    finally:
        engine.dispose()


def one_run(url: str, tmp: Path, workers: int, messages: int) -> dict:
    fake, fake_url = start_fake()
    try:
        env = app_env(url, tmp, TWILIO_API_URL=fake_url, SEND_RATE_PER_SECOND="100000")
        release(env)
        queue(url, messages)
        started = time.monotonic()
        procs = [subprocess.Popen([str(BIN / "flask"), "--app", "service", "sms", "send-due"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for _ in range(workers)]
        outputs = [proc.communicate(timeout=600)[0].strip() for proc in procs]
        wall = time.monotonic() - started
        with urllib.request.urlopen(fake_url + "/_received", timeout=10) as answer:  # noqa: S310 (loopback)
            received = json.load(answer)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    bodies = Counter(message["Body"] for message in received)
    times = sorted(message["received_at"] for message in received)
    window = (times[-1] - times[0]) if len(times) > 1 else 0.0
    outcome = states(url)
    return {"workers": workers, "messages": messages, "wall_s": round(wall, 2),
            "per_second_wall": round(messages / wall, 1),
            "window_s": round(window, 2), "per_second_window": round((len(times) - 1) / window, 1) if window else 0,
            "received": len(received), "duplicates": sum(n - 1 for n in bodies.values() if n > 1),
            "states": outcome, "exit_codes": [proc.returncode for proc in procs], "worker_output": outputs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    # A stopped run still stops its processes and drops its temporary database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    runs = []
    with tempfile.TemporaryDirectory(prefix="line-send-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for workers in (1, 4):
            url = f"sqlite:///{tmp / f'send-{workers}.db'}"
            runs.append(dict(one_run(url, tmp, workers, args.messages), database="sqlite"))
            print(runs[-1], flush=True)
            if server:
                with temporary_database(normalise_database_url(server), prefix="bench") as url:
                    runs.append(dict(one_run(url, tmp, workers, args.messages), database="postgresql"))
                print(runs[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "send_results.json").write_text(json.dumps({"runs": runs}, indent=1) + "\n")
    print(f"wrote {args.out / 'send_results.json'}")


if __name__ == "__main__":
    main()
