"""The suite runs at a pinned wall clock (tests/wall_clock.py), never at the machine's time of day:
the pins mean what they say, every process the tests start reads the same wall, and no test asks
the machine for the date or the time."""
from __future__ import annotations

import ast
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.basics import clock
from service.config import PROJECT_ROOT
from service.content import load_catalogue
from service.content.hours import is_open

from . import wall_clock

TESTS = Path(__file__).resolve().parent
# Calls that read the machine's clock as a date or a time of day (intervals use time.monotonic()).
DATETIME_READS = {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp"}
TIME_READS = {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) for each call in ``source`` that asks the machine for the date or the time."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            owner, _, call = name.rpartition(".")
            if (call in DATETIME_READS and owner.rpartition(".")[2] in {"datetime", "date"}) or \
                    (owner == "time" and call in TIME_READS):
                found.append((node.lineno, name))
    return sorted(found)


def test_no_test_reads_the_machine_clock():
    found = [f"{path.relative_to(PROJECT_ROOT)}:{line}: {call}()"
             for path in sorted(TESTS.rglob("*.py")) for line, call in clock_reads(path.read_text())]
    assert not found, "tests read the time through service.basics.clock or wall_clock.now(), never the machine:\n" + \
        "\n".join(found)


def test_the_guard_sees_each_way_of_reading_the_machine_clock():
    source = ("import datetime as dt, time\nfrom datetime import date, datetime\n"
              "dt.datetime.now(dt.UTC)\ndate.today()\ndatetime.utcnow()\ntime.time()\n"
              "time.localtime()\ntime.monotonic()\nclock.now()\nwall_clock.now()\n")
    assert [call for _, call in clock_reads(source)] == [
        "dt.datetime.now", "date.today", "datetime.utcnow", "time.time", "time.localtime"]


def test_the_pins_are_an_open_and_a_closed_hour_of_the_support_line():
    line = load_catalogue(PROJECT_ROOT / "prompts").support_line
    assert is_open(line, wall_clock.WALL_TIMES["open"])
    assert not is_open(line, wall_clock.WALL_TIMES["closed"])


def test_the_application_clock_reads_the_pinned_wall(request):
    pinned = wall_clock.parse_wall(request.config.getoption("--wall-time"))
    seen = clock.now()
    assert abs(seen - wall_clock.now()) < dt.timedelta(seconds=1)
    # The wall moves on in real time from its pin: a suite takes minutes, not hours.
    assert pinned <= seen < pinned + dt.timedelta(hours=2)


def test_a_process_the_tests_start_reads_the_same_wall():
    code = "import service.basics.clock as c; print(c.now().isoformat())"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=dict(os.environ),  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=True)
    theirs = dt.datetime.fromisoformat(done.stdout.strip())
    assert abs(theirs - wall_clock.now()) < dt.timedelta(seconds=30)


def test_a_process_started_without_the_pin_is_untouched():
    """The seam is the tests' own: without the variables, the site hook changes nothing."""
    env = {k: v for k, v in os.environ.items() if k not in (wall_clock.TIME_VARIABLE, wall_clock.EPOCH_VARIABLE)}
    code = "import service.basics.clock as c; print(c._source is c._system_now)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("value, message", [
    ("2026-12-07T13:00", "has no UTC offset"),
    ("teatime", "use open, closed or an ISO 8601 time"),
])
def test_a_wall_time_that_names_no_moment_is_refused(value, message):
    with pytest.raises(ValueError, match=message):
        wall_clock.parse_wall(value)


def test_a_wall_time_in_iso_8601_is_taken_as_given():
    assert wall_clock.parse_wall("2027-06-14T03:00+01:00") == dt.datetime(2027, 6, 14, 2, 0, tzinfo=dt.UTC)
