"""Write bench/RESULTS.md from bench/web_results.json and bench/send_results.json.

    python bench/report.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def web_section(web: dict) -> str:
    rows = web["rows"]
    top = max(web["levels"])
    parts = [
        "## Webhooks under the Procfile's gunicorn",
        "",
        f"Each run: {web['seconds']} s measured after 0.5 s of warm-up, one new connection per request "
        "(gunicorn's sync workers close each), the load generator in its own process on the same two cores. "
        "`voice` is POST /voice (a new call), `press` is POST /voice/menu?node=main... with Digits=1 (the "
        "symptoms summary), `sms` is POST /sms (`symptoms`, a fresh MessageSid each). All signed. "
        "`bare` is bench/bare_app.py: it parses the form and answers one fixed TwiML document, with no "
        "signature check and no database. *server ms* is the median time inside gunicorn per request (its "
        "access log's %(D)s); *CPU ms/req* is the CPU the gunicorn processes used during the run (from /proc) "
        "divided by the requests they served (PostgreSQL's own CPU is not in it).",
        "",
        table(["app", "workers", "endpoint", "concurrency", "requests/s", "median ms", "p99 ms", "server ms",
               "CPU ms/req", "errors"],
              [[r["app"], r["workers"], r["endpoint"], r["concurrency"], r["throughput"], r["median_ms"],
                r["p99_ms"], r.get("server_median_ms", "-"), r.get("server_cpu_ms", "-"), r["errors"]]
               for r in rows]),
        "",
        f"### Against the goal (at {top} concurrent callers: voice and key press at least 0.5 of the bare "
        "app's throughput, texts at least 0.3; p99 under 100 ms)",
        "",
        table(["app", "workers", "endpoint", "requests/s", "bare requests/s", "ratio", "goal", "p99 ms",
               "CPU ms/req", "bare CPU ms/req", "goal met"],
              [[r["app"], r["workers"], r["endpoint"], r["throughput"], r["bare_throughput"], r["ratio"],
                r.get("goal_ratio", 0.8), r["p99_ms"], r.get("server_cpu_ms", "-"), r.get("bare_server_cpu_ms", "-"),
                "yes" if r["met"] else "**no**"] for r in web["ratios"]]),
        "",
        "### One caller (concurrency 1): the server's own time per request (goal: median under 1 ms for "
        "voice and key press)",
        "",
        table(["app", "workers", "endpoint", "server median ms", "CPU ms/req", "goal met"],
              [[r["app"], r["workers"], r["endpoint"], r["server_median_ms"], r["server_cpu_ms"],
                ("yes" if r["met"] else "**no**") if r["endpoint"] != "sms" else "-"]
               for r in web.get("one_caller", [])]),
        "",
        "### At a steady pace instead (open loop)",
        "",
        f"A closed loop with no pause between requests is not how {top} callers behave: each one listens for "
        f"seconds between key presses, so by Little's law latency there is just concurrency / throughput, even "
        f"for the bare app. Here {top} threads send requests at a fixed {web.get('pace', 0):.0f} requests/s "
        f"({top} callers each sending a webhook every {top / max(web.get('pace', 1), 1):.1f} s, still far busier "
        "than people are), and each latency counts from the moment its request was due (so a backlog shows).",
        "",
        table(["app", "workers", "endpoint", "paced requests/s", "done requests/s (of those due)", "median ms",
               "p99 ms", "errors", "p99 < 100 ms"],
              [[r["app"], r["workers"], r["endpoint"], r["rate"], r["throughput"], r["median_ms"], r["p99_ms"],
                r["errors"], "yes" if r["p99_ms"] < 100 else "**no**"] for r in web.get("paced", [])]),
        "",
        "![latency against concurrency](latency.png)",
        "",
        "latency.png: median (dashed) and p99 (solid) latency in ms, log scales, 2 workers; the red dotted "
        "line is the 100 ms goal. The same figures are in the table above.",
    ]
    mem = web.get("memory")
    if mem:
        parts += [
            "",
            "## Memory of one worker",
            "",
            f"One gunicorn worker (`WEB_CONCURRENCY=1`, SQLite), resident set size (VmRSS): "
            f"{mem['worker_start_mib']} MiB after start-up, {mem['worker_after_calls_mib']} MiB after "
            f"{mem['calls']} calls (dial in + one key each), {mem['worker_after_texts_mib']} MiB after "
            f"{mem['calls']} texts more. The gunicorn master (`--preload`, holds the loaded app): "
            f"{mem['master_mib']} MiB.",
        ]
    return "\n".join(parts)


def send_section(send: dict) -> str:
    return "\n".join([
        "## send-due throughput (to the local fake Twilio server)",
        "",
        "Fresh database per run, N due texts, N separate `flask --app service sms send-due` processes started "
        "together, `SEND_RATE_PER_SECOND=100000` (no throttle), the fake (tests/fake_twilio_server.py) in its "
        "own process answering at once. *wall* counts process start (imports, app load) to the last exit; "
        "*window* is first to last message received by the fake.",
        "",
        table(["database", "workers", "texts", "wall s", "texts/s (wall)", "window s", "texts/s (window)",
               "received", "duplicates", "row states"],
              [[r["database"], r["workers"], r["messages"], r["wall_s"], r["per_second_wall"], r["window_s"],
                r["per_second_window"], r["received"], r["duplicates"],
                ", ".join(f"{k} {v}" for k, v in sorted(r["states"].items()))] for r in send["runs"]]),
        "",
        "In production the rate is the sender's, not the worker's: `SEND_RATE_PER_SECOND` (per worker) is "
        "about 1 for a long code.",
    ])


def main() -> None:
    web_path, send_path = HERE / "web_results.json", HERE / "send_results.json"
    if not web_path.exists():
        sys.exit("run bench/web_bench.py first")
    web = json.loads(web_path.read_text())
    m = web["machine"]
    sections = [
        "# Benchmark results",
        "",
        "Made by `make bench` (bench/web_bench.py, bench/send_bench.py, then bench/report.py); the figures "
        "below are copied from bench/web_results.json and bench/send_results.json by bench/report.py.",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), Python {m['python']}, gunicorn {m['gunicorn']}, "
        f"Linux {m['kernel']}, {m['date']}. Load average (1, 5, 15 min) at the start {m['load_average']}, "
        f"at the end {web.get('machine_after', m)['load_average']}: other work on the machine competes too. "
        + (f"A 4 KiB write made durable (fsync, which every commit waits on) took {m['fsync_ms']['median']} ms "
           f"median, {m['fsync_ms']['p90']} ms p90 at the start. " if "fsync_ms" in m else "")
        + "The load generator, the server and (for PostgreSQL) the database "
        "share the same two cores, so every figure here is lower than on a dedicated web machine.",
        "",
        "Commands:",
        "",
        "```sh",
        "make bench   # = .venv/bin/python bench/web_bench.py && .venv/bin/python bench/send_bench.py "
        "&& .venv/bin/python bench/report.py",
        "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make bench   # PostgreSQL too",
        "```",
        "",
        web_section(web),
    ]
    if send_path.exists():
        sections += ["", send_section(json.loads(send_path.read_text()))]
    notes = HERE / "NOTES.md"
    if notes.exists():
        sections += ["", notes.read_text().strip()]
    (HERE / "RESULTS.md").write_text("\n".join(sections) + "\n")
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
