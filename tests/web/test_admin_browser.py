"""The operator console in headless Chromium: log in, read the usage page, mark a callback
done, keyboard navigation, and no serious or critical axe-core violation on any page."""
from __future__ import annotations

import datetime as dt

import pytest

from service.storage.db import db
from service.storage.models import CallbackRequest, OutboxMessage, Subscriber

from ..browser import axe_violations, describe, screenshot
from ..helpers import NAME, OPEN_TIME, PASSWORD, make_user, seed, seed_usage, with_console


@pytest.fixture
def console_server(app, live_server):
    # The console is registered before the first request reaches the live server.
    with_console(app)
    make_user(app)
    seed_usage(app)
    seed(app,
         CallbackRequest(phone="+447400123456", topic="symptoms", call_hash="call-1",
                         created_at=OPEN_TIME - dt.timedelta(hours=2)),
         CallbackRequest(phone="+447400555666", topic="treatment", call_hash="call-2",
                         created_at=OPEN_TIME - dt.timedelta(hours=1)),
         CallbackRequest(phone="+447400000777", topic=None, call_hash="call-3", state="done",
                         created_at=OPEN_TIME - dt.timedelta(days=2), done_at=OPEN_TIME - dt.timedelta(days=1),
                         done_by="alex"),
         Subscriber(phone="+447400000011", state="active"),
         Subscriber(phone="+447400000012", state="pending"),
         Subscriber(phone="+447400000013", state="opted_out", opted_out_at=OPEN_TIME - dt.timedelta(days=9)),
         OutboxMessage(dedupe_key="s1", kind="series", to_number="+447400000011", body="x", state="parked",
                       due_at=OPEN_TIME, attempts=8, last_error="Twilio answered 503 eight times"))
    return live_server


def no_serious_violations(page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}:\n{describe(violations)}"


def test_log_in_read_usage_and_mark_a_callback_done(app, console_server, page):
    base = console_server.url
    page.goto(f"{base}/admin/usage")
    assert page.url.startswith(f"{base}/admin/login?next=")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    no_serious_violations(page, "login page")

    # The skip link is the first thing the keyboard reaches, and it moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill("not the password, sorry")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().strip() == "Wrong name or password."
    no_serious_violations(page, "login page with an error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/usage")
    assert page.get_by_role("heading", level=1).inner_text() == "Usage"
    assert page.get_by_role("img", name="Calls per day").count() == 1
    assert page.get_by_role("table", name="Topics reached, most used first").count() == 1
    assert "3 calls and 2 texts received" in page.locator("main .lead").inner_text()
    no_serious_violations(page, "usage page")

    page.get_by_role("link", name="Callback requests").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Callback requests"
    no_serious_violations(page, "callbacks page")
    page.get_by_role("button", name="Mark done for 07400 123456").click()
    assert "Marked done: the request from the number ending 456." in page.get_by_role("status").inner_text()
    assert page.get_by_role("heading", name="Open requests (1)").count() == 1
    assert page.get_by_role("heading", name="Done requests (2)").count() == 1
    screenshot(page, "admin-callbacks")
    no_serious_violations(page, "callbacks page after marking one done")
    with app.app_context(), db.session() as session:
        done = session.get(CallbackRequest, 1)
        assert (done.state, done.done_by) == ("done", NAME)

    for link, heading in (("Subscribers", "Subscribers"), ("Content", "Content")):
        page.get_by_role("link", name=link, exact=True).click()
        assert page.get_by_role("heading", level=1).inner_text() == heading
        no_serious_violations(page, f"{heading} page")
        screenshot(page, f"admin-{heading.lower()}")

    page.goto(f"{base}/admin/usage")
    screenshot(page, "admin-usage")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/admin/login")
    page.goto(f"{base}/admin/callbacks")
    assert page.url.startswith(f"{base}/admin/login?next=")


def test_the_content_page_is_short_with_an_index_and_callbacks_say_they_are_off(app, console_server, page):
    base = console_server.url
    page.goto(f"{base}/admin/login")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/usage")
    assert "1 calls" not in page.locator("main").inner_text()

    page.get_by_role("link", name="Callback requests (off)").click()
    assert "Callbacks are off." in page.locator("main").inner_text()
    no_serious_violations(page, "callbacks page, callbacks off")

    page.get_by_role("link", name="Content", exact=True).click()
    players = page.locator("main audio")
    assert players.count() > 50
    assert all(not player.is_visible() for player in players.all()[:5])
    # No row is a player's height: the players open when asked.
    # Before the players were folded away the page was 26,600 px. Now every topic part has its own row: 126
    # rows in 26,600 px (measured), about 211 px a row.
    rows = page.locator("#prompts + table tbody tr").count()
    assert page.evaluate("document.documentElement.scrollHeight") < 230 * rows
    heights = page.locator("#prompts + table tbody tr").evaluate_all("rows => rows.map(r => r.offsetHeight)")
    assert max(heights[:40]) < 400, max(heights)
    index = page.get_by_role("navigation", name="On this page")
    fever = index.get_by_role("link", name="A fever or feeling very unwell")
    fever.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#prompt-topic-fever"
    row = page.locator("#prompt-topic-fever")
    row.get_by_text("Listen, usual speed").click()
    assert row.locator("audio").first.is_visible()
    no_serious_violations(page, "content page")
