"""The console login under attack (issue 25, points 5 and 6): failed logins slow down before they
block, counted per address and per name (a known browser apart), in one Redis for every worker;
a login ends 8 hours after it began and after 30 minutes idle, and each login has a new token."""
from __future__ import annotations

import pytest

from service.admin.lockout import FREE_FAILURES, KNOWN_BROWSER_COOKIE, Lockout, MemoryCounts, wait_after
from service.config import ConfigError, parse_limit, read

from ..helpers import NAME, PASSWORD, csrf_token, log_in, make_user, with_console

WRONG = "wrong wrong wrong"


def attempt(client, name=NAME, password=WRONG, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/admin/login", data={"name": name, "password": password,
                                             "csrf_token": csrf_token(client)}, headers=headers)


@pytest.fixture
def console(app):
    app.config["ADMIN_PROXY_HOPS"] = 1
    with_console(app)
    make_user(app)
    return app


def test_a_few_wrong_passwords_cost_nothing_then_each_waits_twice_as_long(console, clock):
    client = console.test_client()
    for _ in range(FREE_FAILURES):
        assert attempt(client, forwarded="198.51.100.7").status_code == 200
    refused = attempt(client, password=PASSWORD, forwarded="198.51.100.7")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Wait 1 second, then try again" in refused.get_data(as_text=True)
    clock.advance(seconds=1)
    assert attempt(client, forwarded="198.51.100.7").status_code == 200      # the 4th failure: 2 s now
    clock.advance(seconds=1)
    assert attempt(client, password=PASSWORD, forwarded="198.51.100.7").status_code == 429
    clock.advance(seconds=1)
    assert attempt(client, password=PASSWORD, forwarded="198.51.100.7").status_code == 302, \
        "after the wait the right password works"


def test_a_refused_attempt_is_not_checked_so_it_cannot_confirm_a_password(console, clock):
    client = console.test_client()
    for _ in range(FREE_FAILURES):
        attempt(client, forwarded="198.51.100.7")
    # The right password during the wait: refused the same way as a wrong one.
    right, wrong = (attempt(client, password=p, forwarded="198.51.100.7") for p in (PASSWORD, WRONG))
    assert right.status_code == wrong.status_code == 429
    assert right.get_data() == wrong.get_data()


def test_only_failures_count(console, clock):
    for _ in range(10):
        client = log_in(console)
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/usage")})
    assert attempt(console.test_client(), forwarded="198.51.100.7").status_code == 200


def test_addresses_guessing_together_cannot_lock_the_operator_out_of_their_own_browser(sqlite_only, app_factory,
                                                                                       clock):
    console = with_console(app_factory(sqlite_only, ADMIN_PROXY_HOPS=1, ADMIN_LOGIN_NAME_RATE_LIMIT="8 per hour"))
    make_user(console)
    operator = log_in(console)                       # the operator's browser has logged in before
    assert operator.get_cookie(KNOWN_BROWSER_COOKIE, path="/admin/login") is not None
    operator.post("/admin/logout", data={"csrf_token": csrf_token(operator, "/admin/usage")})
    for address in range(8):                         # 8 addresses, one wrong password each, slowed down
        clock.advance(seconds=wait_after(address) + 1)
        assert attempt(console.test_client(), forwarded=f"203.0.113.{address}").status_code == 200, address
    stranger = attempt(console.test_client(), password=PASSWORD, forwarded="203.0.113.99")
    assert stranger.status_code == 429, "a new browser is blocked for this name"
    assert attempt(operator, password=PASSWORD, forwarded="192.0.2.50").status_code == 302, \
        "the operator's own browser is counted apart"


def test_guesses_at_one_name_from_many_addresses_slow_down_every_new_browser(console, clock):
    for address in range(FREE_FAILURES):
        assert attempt(console.test_client(), forwarded=f"203.0.113.{address}").status_code == 200
    assert attempt(console.test_client(), forwarded="203.0.113.200").status_code == 429
    assert attempt(console.test_client(), name="someone-else", forwarded="203.0.113.201").status_code == 200, \
        "another account is counted apart"


def test_an_address_is_blocked_at_its_limit_until_the_window_ends(sqlite_only, app_factory, clock):
    app = with_console(app_factory(sqlite_only, ADMIN_LOGIN_RATE_LIMIT="6 per hour"))
    make_user(app)
    client = app.test_client()
    for n in range(6):                               # six names, so only the address reaches a limit
        clock.advance(seconds=wait_after(n) + 1)
        assert attempt(client, name=f"guess{n}").status_code == 200
    clock.advance(minutes=20)
    blocked = attempt(client, password=PASSWORD)
    assert blocked.status_code == 429 and "Wait" in blocked.get_data(as_text=True)
    assert 2000 < int(blocked.headers["Retry-After"]) <= 3600
    clock.advance(hours=1)
    assert attempt(client, password=PASSWORD).status_code == 302


def test_failed_logins_are_counted_once_for_every_worker_in_redis(sqlite_only, app_factory, clock):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (the machine's services start it)")
    first, second = (with_console(app_factory(sqlite_only, REDIS_URL=url)) for _ in range(2))
    make_user(first)
    for app in (first, second, first):
        assert attempt(app.test_client()).status_code == 200
    assert attempt(second.test_client(), password=PASSWORD).status_code == 429, "the other worker counted them"
    assert redis.Redis.from_url(url).keys("all-line:login-failures:*")
    redis.Redis.from_url(url).flushdb()


def test_a_redis_that_cannot_be_reached_still_counts_in_the_process(sqlite_only, app_factory, clock, caplog):
    app = with_console(app_factory(sqlite_only, REDIS_URL="redis://127.0.0.1:1/0"))
    make_user(app)
    for _ in range(FREE_FAILURES):
        assert attempt(app.test_client()).status_code == 200
    assert attempt(app.test_client(), password=PASSWORD).status_code == 429
    assert "Redis failed" in caplog.text


@pytest.mark.parametrize("text, failures, window", [
    ("20 per hour", 20, 3600), ("5 per minute", 5, 60), ("10 per 15 minutes", 10, 900), ("3/day", 3, 86400)])
def test_limits_are_read_as_written(text, failures, window):
    assert parse_limit(text).failures == failures and parse_limit(text).window == window


def test_a_limit_that_cannot_be_read_stops_the_start_naming_the_variable(monkeypatch):
    monkeypatch.setenv("ADMIN_LOGIN_NAME_RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="ADMIN_LOGIN_NAME_RATE_LIMIT.*'lots'"):
        read("ADMIN_LOGIN_NAME_RATE_LIMIT")
    with pytest.raises(ValueError):
        parse_limit("0 per hour")


def test_the_wait_grows_to_at_most_fifteen_minutes():
    waits = [wait_after(n) for n in range(30)]
    assert waits[:FREE_FAILURES] == [0] * FREE_FAILURES and waits[FREE_FAILURES:FREE_FAILURES + 3] == [1, 2, 4]
    assert max(waits) == 900 and waits == sorted(waits)


def test_memory_counts_forget_a_window_once_it_ends(clock):
    guard = Lockout(MemoryCounts(), "2 per minute", "2 per minute")
    guard.failed(["address:a"])
    guard.failed(["address:a"])
    assert guard.refusal(["address:a"]) == pytest.approx(60)
    clock.advance(seconds=61)
    assert guard.refusal(["address:a"]) == 0


# -- sessions that end (point 6) ------------------------------------------------------

def test_each_login_gets_a_new_token_so_an_older_cookie_stops_working(console, clock):
    first = log_in(console)
    copied = first.get_cookie("session").value
    log_in(console)                                   # the same account logs in again
    thief = console.test_client()
    thief.set_cookie("session", copied, domain="localhost")
    assert thief.get("/admin/usage").status_code == 302


def test_a_login_ends_eight_hours_after_it_began_however_busy(console, clock):
    client = log_in(console)
    for _ in range(16):                               # a page every 29 minutes for 7 h 44 min
        clock.advance(minutes=29)
        assert client.get("/admin/usage").status_code == 200
    clock.advance(minutes=17)
    response = client.get("/admin/usage")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert "8 hours after logging in" in client.get("/admin/login").get_data(as_text=True)


def test_a_login_ends_after_thirty_minutes_idle(console, clock):
    client = log_in(console)
    clock.advance(minutes=29)
    assert client.get("/admin/usage").status_code == 200
    clock.advance(minutes=30)
    assert client.get("/admin/usage").status_code == 302
    assert "30 minutes without using the console" in client.get("/admin/login").get_data(as_text=True)
    clock.advance(minutes=1)
    assert client.get("/admin/usage").status_code == 302, "an ended login stays ended"
    assert log_in(console, client).get("/admin/usage").status_code == 200
