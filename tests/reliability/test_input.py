"""Hostile and broken requests against the Procfile's web process, its log captured.

Each gets a clear refusal (403 with no content, 404, 413) or a safe reply (valid
TwiML), the process stays healthy, and its log never holds a caller's full number.
"""
from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from sqlalchemy import create_engine, inspect

from service.config import PROJECT_ROOT
from service.content import load_catalogue

from ..helpers import prompts_with_callbacks
from .soak.harness import (
    PUBLIC,
    SignedClient,
    WebProcess,
    app_env,
    call_sid,
    get,
    message_sid,
    release,
    sms_messages,
    twiml,
    voice_twiml,
)

CALLER = "+447400123456"
FULL_NUMBER = re.compile(r"(\+?44|0)7400 ?123 ?456|7400123456")


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{tmp / 'line.db'}"
    env = app_env(url, tmp)
    release(env)
    with WebProcess(env, tmp / "web.log", workers=2) as web:
        yield web, SignedClient(web.port), url
    log = web.log()
    assert not FULL_NUMBER.search(log), "a full caller number reached the log: " + FULL_NUMBER.search(log).group()


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(PROJECT_ROOT / "prompts")


def sms_params(body: str = "MENU", **extra) -> dict:
    return {"MessageSid": message_sid(), "From": CALLER, "To": "+441632960000", "Body": body, **extra}


def test_an_oversized_body_is_refused_with_413(line):
    web, client, _ = line
    for path, params in (("/sms", sms_params("A" * 70_000)),
                         ("/voice", {"CallSid": call_sid(), "From": CALLER, "Padding": "x" * 1_000_000})):
        answer = client.post(path, params)
        assert answer.status == 413, (path, answer.status)
    assert get(web.port, "/healthz")[0] == 200


def test_a_body_of_exactly_twilios_maximum_is_answered(line):
    _, client, _ = line
    assert len(sms_messages(client.post("/sms", sms_params("symptoms " * 177)))) == 1


# A refusal says why in one line, never what the signature should have been.
WRONG_SIGNATURE = b"Refused: wrong X-Twilio-Signature."


def test_invalid_utf8_gets_a_safe_reply_or_a_refusal(line):
    _, client, _ = line
    sid = message_sid()
    raw = f"MessageSid={sid}&From=%2B447400123456&Body=%FF%FEsym%C3%28ptoms%80".encode()
    # Werkzeug keeps an escape that is not UTF-8 as its literal text; signed over that, it is
    # a well-formed request (as from someone holding the token) and gets an ordinary reply.
    as_read = {"MessageSid": sid, "From": CALLER, "Body": "%FF%FEsym%C3(ptoms%80"}
    assert len(sms_messages(client.post("/sms", as_read, body=raw))) == 1
    # Signed over another reading of the bytes (U+FFFD replacements): not what was received, so 403.
    replaced = dict(urllib.parse.parse_qsl(raw.decode(), encoding="utf-8", errors="replace"))
    answer = client.post("/sms", replaced, body=raw)
    assert answer.status == 403 and answer.body.startswith(WRONG_SIGNATURE)
    # Raw bytes that are not UTF-8 at all, outside percent-encoding, with a signature over anything else.
    answer = client.post("/sms", {"MessageSid": message_sid()}, body=b"MessageSid=SM1&Body=\xff\xfe\x80")
    assert answer.status == 403 and answer.body.startswith(WRONG_SIGNATURE)


def test_missing_parameters_get_safe_replies(line, catalogue):
    _, client, _ = line
    assert sms_messages(client.post("/sms", {})) == [catalogue.prompts["sms_error"].text]
    assert sms_messages(client.post("/sms", {"MessageSid": message_sid()})) == [catalogue.prompts["sms_error"].text]
    assert sms_messages(client.post("/sms", {"MessageSid": message_sid(), "From": CALLER}))  # no Body: the menu
    assert voice_twiml(client.post("/voice", {})).find("Gather") is not None
    assert voice_twiml(client.post("/voice/menu", {})).find("Gather") is not None
    menu = voice_twiml(client.post("/voice/menu?node=main&slow=0&misses=0&silences=0", {"CallSid": call_sid()}))
    assert menu.find("Gather") is not None, "no Digits: treated as silence, asked again"
    assert client.post("/sms/status", {}).status == 204


def test_a_signature_replayed_on_another_url_or_body_is_refused(line):
    _, client, _ = line
    params = {"CallSid": call_sid(), "From": CALLER, "Digits": "1"}
    menu_url = PUBLIC + "/voice/menu?node=main&slow=0&misses=0&silences=0"
    signature = client.sign(menu_url, params)
    assert twiml(client.post(menu_url, params, signature=signature)) is not None, "the original is good"
    replays = [
        (PUBLIC + "/voice/menu?node=symptoms&slow=0&misses=0&silences=0", params),
        (PUBLIC + "/voice/menu?node=main&slow=1&misses=0&silences=0", params),
        (PUBLIC + "/voice", params),
        (PUBLIC + "/sms", params),
        (PUBLIC + "/voice/dial-done?node=main&slow=0&misses=0&silences=0", params),
        (menu_url, dict(params, Digits="0")),
        (menu_url, dict(params, Extra="1")),
    ]
    for url, sent in replays:
        answer = client.post(url, sent, signature=signature)
        assert answer.status == 403 and answer.body.startswith(WRONG_SIGNATURE), url
        assert signature.encode() not in answer.body, url
    for header in ("", "not-base64!", signature[:-4]):
        assert client.post(menu_url, params, signature=header).status == 403


@pytest.mark.parametrize("path", [
    "/audio/../Procfile",
    "/audio/..%2fProcfile",
    "/audio/..%2f..%2fetc%2fpasswd",
    "/audio/%2e%2e/%2e%2e/etc/passwd",
    "/audio/%2e%2e%2fservice%2fconfig.py",
    "/audio/....//Procfile",
    "/audio/..\\..\\Procfile",
    "/audio/%00../Procfile",
    "/audio/manifest.json",
    "/audio//etc/passwd",
    "/audio/welcome-normal-000000000000.mp3/../../Procfile",
])
def test_path_traversal_on_audio_is_refused(line, path):
    _, client, _ = line
    answer = client.raw("GET", path)
    assert answer.status in (400, 404), (path, answer.status)
    assert b"gunicorn" not in answer.body and b"root:" not in answer.body and b"TWILIO" not in answer.body


@pytest.mark.parametrize("body", [
    "'; DROP TABLE outbox; --",
    "1' OR '1'='1",
    '"; DELETE FROM subscribers WHERE "1"="1',
    "symptoms'); UPDATE processed_messages SET message_sid=NULL; --",
    "% _ \\ \\' \\\" ;",
    "JOIN'--",
    "STOP\x00",
    "\x00\x01\x02",
])
def test_sql_metacharacters_in_a_text_get_a_safe_reply(line, body):
    _, client, url = line
    answer = client.post("/sms", sms_params(body, From="+447400999111"))
    assert answer.status == 200
    twiml(answer)
    engine = create_engine(url)
    try:
        assert {"outbox", "subscribers", "processed_messages"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_line_is_healthy_after_all_that(line):
    web, client, _ = line
    status, body = get(web.port, "/healthz")
    assert status == 200 and json.loads(body)["database"] == "ok"
    assert len(sms_messages(client.post("/sms", sms_params("symptoms")))) == 1


@pytest.fixture
def own_line(tmp_path):
    """The Procfile's web process of a charity with a callback team (callbacks switched on)."""
    env = app_env(f"sqlite:///{tmp_path / 'line.db'}", tmp_path)
    release(env)
    app_spec = f"service:create_app({{'PROMPTS_DIR': {str(prompts_with_callbacks(tmp_path))!r}}})"
    with WebProcess(env, tmp_path / "web.log", workers=1, app_spec=app_spec) as web:
        yield web, SignedClient(web.port)


def test_a_keyed_callback_number_stays_out_of_the_log(own_line):
    """The callback steps carry the keyed number in the action URL (call state lives in URLs), and the
    Procfile's access log prints every request line with its query: the number must travel sealed."""
    web, client = own_line
    params = {"CallSid": call_sid(), "From": "anonymous"}
    entered = client.post("/voice/menu?node=callback_number&slow=0&misses=0&silences=0",
                          dict(params, Digits="07400123456#"))
    gather = voice_twiml(entered).find("Gather")
    assert gather is not None
    voice_twiml(client.post(gather.get("action"), dict(params, Digits="2")))
    match = FULL_NUMBER.search(web.log())
    assert match is None, f"the web log holds a keyed number: {match.group()}"
