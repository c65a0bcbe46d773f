"""The web simulator in headless Chromium: keys pressed, the transcript, the clips loading, a text,
keyboard-only use and axe-core's accessibility rules."""
from __future__ import annotations

import re

import pytest

from service.web.extensions import loaded

from ..browser import axe_violations, describe, screenshot
from ..helpers import DEV_ORIGIN


@pytest.fixture
def app(sqlite_only, app_factory):
    """The simulator is on; `live_server` serves this app."""
    return app_factory(sqlite_only, SIMULATOR_ENABLED=True, DEV_MODE=True, PUBLIC_BASE_URL=DEV_ORIGIN)


def _clip_loads(page, url: str) -> None:
    fetched = page.evaluate(
        """async (url) => {
             const response = await fetch(url);
             return {status: response.status, type: response.headers.get("content-type"),
                     size: (await response.arrayBuffer()).byteLength};
           }""",
        url,
    )
    assert fetched["status"] == 200, (url, fetched)
    assert fetched["type"].startswith("audio/mpeg"), (url, fetched)
    assert fetched["size"] > 0


def test_call_and_text_in_the_browser(app, live_server, page):
    cat = loaded(app).catalogue
    page.goto(f"{live_server.url}/simulator")
    assert page.get_by_role("heading", level=1).inner_text() == "Try the ALL information line"
    violations = axe_violations(page)
    assert not violations, describe(violations)

    # Keyboard only: focus the Call button and press Enter, then the 1 key with the space bar.
    with page.expect_response(re.compile(r"/simulator/api/call$")) as called:
        page.get_by_role("button", name="Call", exact=True).focus()
        page.keyboard.press("Enter")
    assert called.value.ok
    transcript = page.locator("#transcript")
    page.wait_for_function("document.querySelector('#call-status').textContent.includes('waiting')")
    assert cat.prompt("welcome").text in transcript.inner_text()

    key = page.get_by_role("button", name="1", exact=True)
    key.focus()
    focus_ring = key.evaluate("b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth")
    assert focus_ring == "solid 3px"
    with page.expect_response(re.compile(r"/simulator/api/press$")) as pressed:
        page.keyboard.press(" ")
    heard = pressed.value.json()["heard"]
    # The page goes a part at a time: part 1 (and, once a call, how to skip on).
    assert [h["id"] for h in heard] == ["topic.symptoms", "part_keys"]
    symptoms = cat.prompt("topic.symptoms").text
    page.wait_for_function("(words) => document.querySelector('#transcript').innerText.includes(words)", arg=symptoms)
    assert "You: press 1" in transcript.inner_text()

    clips = [h["clip"] for h in heard if h["clip"]]
    if clips:
        # The audio element plays the step's clips in order, starting with the first.
        page.wait_for_function("(clips) => clips.some(c => document.querySelector('#player').src.endsWith(c))",
                               arg=clips)
        source = page.evaluate("document.querySelector('#player').src")
        _clip_loads(page, source)
        page.wait_for_function("document.querySelector('#player').readyState >= 1 "
                               "|| document.querySelector('#player').error !== null")
        assert page.evaluate("document.querySelector('#player').error") is None
        for clip in clips:
            _clip_loads(page, clip)
    else:
        assert "spoken live, no clip" in transcript.inner_text()
    # 6 skips to the next part, which ends with the options.
    with page.expect_response(re.compile(r"/simulator/api/press$")) as skipped:
        page.get_by_role("button", name="6", exact=True).click()
    assert [h["id"] for h in skipped.value.json()["heard"]] == ["topic.symptoms.2", "menu_symptoms_more",
                                                                "after_topic"]

    page.get_by_label("Your text message").fill("symptoms")
    with page.expect_response(re.compile(r"/simulator/api/text$")):
        page.get_by_role("button", name="Send text").click()
    reply = cat.topics["symptoms"].sms
    page.wait_for_function("(words) => document.querySelector('#thread').innerText.includes(words)", arg=reply)
    assert "You: symptoms" in page.locator("#thread").inner_text()

    page.get_by_role("button", name="Hang up").click()
    page.wait_for_function("document.querySelector('#call-status').textContent.includes('You hung up')")

    violations = axe_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "simulator")


def test_a_phone_number_is_keyed_in_and_sent_with_its_finish_key(app, live_server, page):
    """Where the line asks for a whole number (a Gather that ends on #), the page sends the keys together.

    The line's answers are stood in for here, so this checks the page alone."""
    call = {"sid": "CA" + "0" * 32, "from": "+447700900123", "dial": None,
            "listen": {"url": "/voice/menu?node=callback_number", "digits": None, "finish": "#", "speech": False}}
    answer = {"call": call, "heard": [{"id": "callback_enter", "text": "Key in your number, then press hash.",
                                       "clip": None, "slow": False}],
              "listening": True, "transfer_to": None, "ended": False, "state": {}}
    sent = []

    def fulfil(route):
        sent.append(route.request.post_data_json)
        route.fulfill(json=answer)

    page.route(re.compile(r"/simulator/api/(call|press)$"), fulfil)
    page.goto(f"{live_server.url}/simulator")
    page.get_by_role("button", name="Call", exact=True).click()
    page.wait_for_function("document.querySelector('#call-status').textContent.includes('phone number')")
    for key in ("0", "7", "4"):
        page.get_by_role("button", name=key, exact=True).click()
    page.wait_for_function("document.querySelector('#keyed').textContent.includes('0 7 4')")
    assert len(sent) == 1  # only the call so far
    page.get_by_role("button", name="# hash").click()
    page.wait_for_function("document.querySelector('#transcript').innerText.includes('You: key in 0 7 4 #')")
    assert sent[-1]["keys"] == "074#" and sent[-1]["call"] == call


def test_the_simulator_is_absent_when_disabled(sqlite_only, app_factory):
    app = app_factory(sqlite_only)
    assert app.test_client().get("/simulator").status_code == 404


def test_the_simulator_works_under_its_own_content_security_policy(app, live_server, strict_page):
    refused = []
    strict_page.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
    strict_page.goto(f"{live_server.url}/simulator")
    with strict_page.expect_response(re.compile(r"/simulator/api/call$")) as called:
        strict_page.get_by_role("button", name="Call", exact=True).click()
    assert called.value.status == 200
    strict_page.get_by_role("button", name="1", exact=True).click()
    strict_page.wait_for_timeout(300)
    assert refused == []


def test_what_cannot_be_used_is_disabled_and_problems_show_beside_their_control(app, live_server, page):
    page.goto(f"{live_server.url}/simulator")
    for name in ("1", "# hash", "Say", "Stay silent", "Hang up"):
        assert page.get_by_role("button", name=name, exact=True).is_disabled(), name
    assert page.get_by_role("button", name="Call", exact=True).is_enabled()

    page.get_by_role("button", name="Send text").click()
    page.wait_for_function("document.querySelector('#text-error').textContent.includes('Type a text message')")
    assert page.locator("#call-error").inner_text() == "" and page.locator("#error").inner_text() == ""

    for body in ("STOP", "symptoms"):
        page.get_by_label("Your text message").fill(body)
        with page.expect_response(re.compile(r"/simulator/api/text$")):
            page.get_by_role("button", name="Send text").click()
    page.wait_for_function("document.querySelector('#thread').innerText.includes('has sent STOP')")
    assert "Text START to get replies again." in page.locator("#thread").inner_text()

    with page.expect_response(re.compile(r"/simulator/api/call$")):
        page.get_by_role("button", name="Call", exact=True).click()
    page.wait_for_function("document.querySelector('#call-status').textContent.includes('waiting')")
    assert page.get_by_role("button", name="1", exact=True).is_enabled()
    assert page.get_by_role("button", name="Hang up").is_enabled()
    page.get_by_role("button", name="Hang up").click()
    page.wait_for_function("document.querySelector('#call-status').textContent.includes('You hung up')")
    assert page.get_by_role("button", name="1", exact=True).is_disabled()
    violations = axe_violations(page)
    assert not violations, describe(violations)
