"""Webhook benchmark: the line under the Procfile's gunicorn, against a bare Flask app.

    python bench/web_bench.py                      # SQLite; PostgreSQL too where BENCH_DATABASE_URL
                                                   # or TEST_DATABASE_URL names a server
    python bench/web_bench.py --seconds 2 --quick  # a smoke run (concurrency 1 and 10 only)

For each app (the line on each database, and bench/bare_app.py), with 1 and 2
gunicorn workers, a load generator in a second process (bench/loadgen.py) posts
signed POST /voice, a menu press and POST /sms at each concurrency level. Then
the resident memory of one worker before and after a thousand calls (and a
thousand texts). Writes bench/results.json, bench/latency.png and bench/RESULTS.md.
Only 127.0.0.1 is contacted; every run is bounded in time and count.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.soak.harness import (  # noqa: E402
    PUBLIC,
    SignedClient,
    WebProcess,
    app_env,
    call_sid,
    message_sid,
    release,
    rss_kib,
    temporary_database,
    twiml,
)

HERE = Path(__file__).resolve().parent
ENDPOINTS = ["voice", "press", "sms"]
# At 50 concurrent callers (2 workers, the Procfile's default): the share of the bare app's throughput
# each endpoint must reach, and the p99 every endpoint must stay under.
GOAL_RATIO = {"voice": 0.5, "press": 0.5, "sms": 0.3}
GOAL_P99_MS = 100.0
# The access log also gives each request's time inside gunicorn (%(D)s, microseconds): the server's
# own time, without the load generator's. Set through GUNICORN_CMD_ARGS, so the Procfile runs unchanged.
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'
ACCESS_LINE = re.compile(r'"POST [^"]*" 200 \S+ "[^"]*" "[^"]*" (\d+)$')
BARE = "bench.bare_app:create_app()"
# The open-loop pace: 50 callers each sending a webhook every half second, far busier than people are
# (a caller listens for seconds between key presses).
PACE = 100.0


def fsync_ms(samples: int = 50) -> dict:
    """How long the disk takes to make a 4 KiB write durable: each SQLite or PostgreSQL commit waits on one."""
    timings = []
    with tempfile.NamedTemporaryFile(dir=tempfile.gettempdir()) as handle:
        for _ in range(samples):
            handle.write(b"x" * 4096)
            handle.flush()
            begun = time.perf_counter()
            os.fsync(handle.fileno())
            timings.append((time.perf_counter() - begun) * 1000)
    timings.sort()
    return {"median": round(timings[len(timings) // 2], 2), "p90": round(timings[int(len(timings) * 0.9)], 2)}


def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import gunicorn

    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "gunicorn": gunicorn.__version__, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average": [round(x, 2) for x in os.getloadavg()], "fsync_ms": fsync_ms()}


def load(port: int, endpoint: str, concurrency: int, seconds: float, rate: float = 0.0) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "loadgen.py"), "--port", str(port), "--endpoint", endpoint,
                          "--concurrency", str(concurrency), "--seconds", str(seconds), "--rate", str(rate)],
                         capture_output=True, text=True, timeout=seconds + 120, check=True)
    return json.loads(out.stdout)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def measured(web, endpoint: str, concurrency: int, seconds: float, rate: float = 0.0) -> dict:
    """One load run, with the server's CPU per request and its own time per request (access log)."""
    pids = [web.process.pid, *web.worker_pids()]
    log_from = web.log_path.stat().st_size
    cpu_before = cpu_seconds(pids)
    result = load(web.port, endpoint, concurrency, seconds, rate=rate)
    cpu = cpu_seconds(pids) - cpu_before
    with open(web.log_path, "rb") as log:
        log.seek(log_from)
        lines = log.read().decode(errors="replace").splitlines()
    server_us = [int(m.group(1)) for m in map(ACCESS_LINE.search, lines) if m]
    # The warm-up's requests are in the log too (and their CPU in the total): per request over all served.
    served = len(server_us) or result["requests"]
    result["server_cpu_ms"] = round(cpu * 1000 / served, 3) if served else float("nan")
    result["server_median_ms"] = round(statistics.median(server_us) / 1000, 3) if server_us else float("nan")
    return result


def sweep(apps: dict[str, tuple[dict, str | None]], tmp: Path, levels: list[int], seconds: float,
          paced: list[dict]) -> list[dict]:
    """Every app runs at once (idle ones cost nothing), and each load runs against each app in turn,
    so a change in the machine's other load falls on all of them alike. Closed-loop runs at each level
    with 1 and 2 workers; open-loop (paced) runs with 2 workers."""
    rows = []
    for workers in (1, 2):
        with contextlib.ExitStack() as stack:
            webs = {name: stack.enter_context(WebProcess(dict(env, GUNICORN_CMD_ARGS=f"--access-logformat="
                                                                                     f"'{ACCESS_FORMAT}'"),
                                                         tmp / f"{name}-{workers}.log", workers=workers,
                                                         app_spec=spec))
                    for name, (env, spec) in apps.items()}
            runs = [(endpoint, concurrency, 0.0) for endpoint in ENDPOINTS for concurrency in levels]
            if workers == 2:
                runs += [(endpoint, max(levels), PACE) for endpoint in ENDPOINTS]
            for endpoint, concurrency, rate in runs:
                for name, web in webs.items():
                    result = measured(web, endpoint, concurrency, seconds, rate=rate)
                    result.update(app=name, workers=workers)
                    (paced if rate else rows).append(result)
                    mode = f"paced {rate:.0f}/s" if rate else f"c={concurrency:<3}"
                    print(f"  {name:<15} workers={workers} {endpoint:<5} {mode:<11} {result['throughput']:>7.1f} "
                          f"req/s  median {result['median_ms']:>7.2f} ms  p99 {result['p99_ms']:>7.2f} ms  "
                          f"server {result['server_median_ms']:>6.3f} ms, cpu {result['server_cpu_ms']:>6.3f} ms"
                          f"/req  errors {result['errors']}", flush=True)
    return rows


def memory(env: dict, tmp: Path, calls: int = 1000) -> dict:
    """RSS of the one worker: after start-up, after `calls` calls (dial in + a press), after as many texts."""
    with WebProcess(env, tmp / "memory.log", workers=1) as web:
        (worker,) = web.worker_pids()
        client = SignedClient(web.port)
        warm = rss_kib(worker)
        for i in range(calls):
            params = {"CallSid": call_sid(), "From": f"+4474003{i % 1000:05d}", "To": "+441632960000"}
            root = twiml(client.post("/voice", params))
            twiml(client.post(root.find("Gather").get("action"), dict(params, Digits=str(1 + i % 5))))
        after_calls = rss_kib(worker)
        for i in range(calls):
            sid = message_sid()
            twiml(client.post("/sms", {"MessageSid": sid, "From": f"+4474004{i:05d}", "Body": "symptoms"}))
        after_texts = rss_kib(worker)
        master = rss_kib(web.process.pid)
    return {"worker_start_mib": round(warm / 1024, 1), "worker_after_calls_mib": round(after_calls / 1024, 1),
            "worker_after_texts_mib": round(after_texts / 1024, 1), "master_mib": round(master / 1024, 1),
            "calls": calls}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    apps = sorted({row["app"] for row in rows}, key=lambda a: (a == "bare", a))
    fig, axes = plt.subplots(1, len(ENDPOINTS), figsize=(10, 3.4), sharey=True)
    styles = {"bare": ("0.4", "s"), "line-sqlite": ("tab:blue", "o"), "line-postgresql": ("tab:orange", "^")}
    for ax, endpoint in zip(axes, ENDPOINTS, strict=True):
        for app in apps:
            colour, marker = styles.get(app, ("tab:green", "d"))
            picked = sorted((r for r in rows if r["app"] == app and r["endpoint"] == endpoint and r["workers"] == 2),
                            key=lambda r: r["concurrency"])
            levels = [r["concurrency"] for r in picked]
            ax.plot(levels, [r["p99_ms"] for r in picked], marker=marker, color=colour, label=f"{app} p99")
            ax.plot(levels, [r["median_ms"] for r in picked], marker=marker, color=colour, linestyle="--",
                    label=f"{app} median")
        ax.axhline(GOAL_P99_MS, color="red", linewidth=0.8, linestyle=":", label=f"{GOAL_P99_MS:.0f} ms goal")
        ax.set_xscale("log")
        ax.set_yscale("log")
        levels_seen = sorted({r["concurrency"] for r in rows})
        ax.set_xticks(levels_seen, [str(level) for level in levels_seen])
        ax.set_title(f"{endpoint} (2 workers)")
        ax.set_xlabel("concurrent callers")
    axes[0].set_ylabel("latency (ms)")
    axes[-1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def ratio_table(rows: list[dict], level: int) -> list[dict]:
    bare = {(r["workers"], r["endpoint"]): r for r in rows if r["app"] == "bare" and r["concurrency"] == level}
    table = []
    for row in rows:
        if row["app"] == "bare" or row["concurrency"] != level:
            continue
        base = bare[(row["workers"], row["endpoint"])]
        ratio = row["throughput"] / base["throughput"] if base["throughput"] else 0.0
        goal = GOAL_RATIO[row["endpoint"]]
        table.append({"app": row["app"], "workers": row["workers"], "endpoint": row["endpoint"],
                      "throughput": row["throughput"], "bare_throughput": base["throughput"],
                      "ratio": round(ratio, 3), "goal_ratio": goal, "p99_ms": row["p99_ms"],
                      "server_cpu_ms": row.get("server_cpu_ms"), "bare_server_cpu_ms": base.get("server_cpu_ms"),
                      "met": ratio >= goal and row["p99_ms"] < GOAL_P99_MS})
    return table


def one_caller(rows: list[dict]) -> list[dict]:
    """At concurrency 1: the server's own median time per request (goal: under 1 ms for voice and press)."""
    return [{"app": r["app"], "workers": r["workers"], "endpoint": r["endpoint"],
             "server_median_ms": r.get("server_median_ms"), "server_cpu_ms": r.get("server_cpu_ms"),
             "met": r["endpoint"] == "sms" or (r.get("server_median_ms") or 99) < 1.0}
            for r in rows if r["concurrency"] == 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run (after 0.5 s warm-up)")
    parser.add_argument("--levels", default="1,10,50", help="concurrency levels")
    parser.add_argument("--quick", action="store_true", help="levels 1,10; no PostgreSQL; no RESULTS.md")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    # A stopped run still stops its servers and drops its temporary database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    levels = [1, 10] if args.quick else [int(x) for x in args.levels.split(",")]
    server = None if args.quick else (os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))
    started_on = machine()
    print("machine:", started_on, flush=True)
    rows: list[dict] = []
    paced: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="line-bench-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        sqlite_env = app_env(f"sqlite:///{tmp / 'line.db'}", tmp)
        release(sqlite_env)
        apps: dict[str, tuple[dict, str | None]] = {"line-sqlite": (sqlite_env, None)}
        if server:
            from service.config import normalise_database_url

            url = stack.enter_context(temporary_database(normalise_database_url(server), prefix="bench"))
            pg_env = app_env(url, tmp)
            release(pg_env)
            apps["line-postgresql"] = (pg_env, None)
        apps["bare"] = (sqlite_env, BARE)
        rows += sweep(apps, tmp, levels, args.seconds, paced)
        mem = memory(app_env(f"sqlite:///{tmp / 'memory.db'}", tmp), tmp) if not args.quick else {}
        if mem:
            print("memory:", mem, flush=True)
    top = max(levels)
    results = {"machine": started_on, "machine_after": machine(), "levels": levels, "seconds": args.seconds,
               "rows": rows, "paced": paced, "pace": PACE, "memory": mem,
               "ratios": ratio_table(rows, top), "one_caller": one_caller(rows), "public_base": PUBLIC}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "web_results.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(rows, args.out / "latency.png")
    print(f"wrote {args.out / 'web_results.json'} and {args.out / 'latency.png'}")


if __name__ == "__main__":
    main()
