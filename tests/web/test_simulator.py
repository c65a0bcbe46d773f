"""The simulators: the pretend phone, `flask line call|text`, and the web simulator's JSON API.

Each drives the real, signed webhooks; these tests check what a person using
them would see, against the catalogue's own words.
"""
from __future__ import annotations

import re

import pytest

from service.config import PROJECT_ROOT
from service.simulator.cli import ClipPlayer, line_cli
from service.simulator.phone import DEFAULT_CALLER, Call, CallStep, Heard, Line, Listening, SimulatorError, Texter
from service.web.extensions import loaded

from ..helpers import CALLER, CLOSED_TIME, DEV_ORIGIN, TOKEN, after, again

HEADERS = {"X-Simulator-Request": "1"}


@pytest.fixture
def sim_app(sqlite_only, app_factory):
    return app_factory(sqlite_only, SIMULATOR_ENABLED=True, DEV_MODE=True, PUBLIC_BASE_URL=DEV_ORIGIN)


def written(app, prompt_id: str) -> str:
    return loaded(app).catalogue.prompt(prompt_id).text


def ids(step) -> list[str | None]:
    return [heard.prompt_id for heard in step.heard]


def say_goodbye(step, press):
    """After 9 the line may ask one more thing before goodbye (an offer); decline it with 2."""
    for _ in range(3):
        if step.ended:
            return step
        step = press("2")
    raise AssertionError("the call did not end after 9")


# -- the pretend phone -----------------------------------------------------------

def test_a_whole_call_through_the_real_webhooks(app):
    call = Call(Line(app), CALLER)
    welcome = call.dial_in()
    assert ids(welcome) == ["welcome", "menu_main", "keys"]
    assert welcome.listening is not None and welcome.listening.num_digits == 1 and welcome.listening.speech
    assert welcome.state["node"] == "main"
    assert welcome.heard[0].text == written(app, "welcome")

    symptoms = call.press("1")
    cat = loaded(app).catalogue
    assert ids(symptoms) == ["topic.symptoms", "part_keys", "topic.symptoms.2", *after(cat, "symptoms")], \
        "a caller who just listens hears every part, and once a call how to skip on"
    assert symptoms.heard[0].text == written(app, "topic.symptoms")
    assert symptoms.state["node"] == "symptoms"

    assert ids(call.press("*")) == again(cat, "symptoms")

    goodbye = say_goodbye(call.press("9"), call.press)
    assert ids(goodbye)[-1] == "goodbye"
    assert goodbye.ended and goodbye.listening is None and call.ended
    with pytest.raises(SimulatorError, match="not waiting"):
        call.press("1")


def test_every_prompt_heard_is_named_and_a_clip_or_spoken_live(app):
    call = Call(Line(app), CALLER)
    for step in (call.dial_in(), call.say("treatment"), call.press("7"), call.silence()):
        for heard in step.heard:
            assert heard.prompt_id is not None, heard
            if heard.clip:
                assert heard.clip.rsplit("/", 1)[-1].startswith(f"{heard.prompt_id}-")
                assert ("-slow-" in heard.clip) == heard.slow


def test_keys_typed_together_are_pressed_one_per_menu(app):
    call = Call(Line(app), CALLER)
    call.dial_in()
    steps = call.type_keys("1*922")  # 2: "no" to "did this help?", then no to being reminded
    assert [ids(step)[0] for step in steps[:2]] == ["topic.symptoms", "topic.symptoms.2"]
    assert ids(steps[-1])[-1] == "goodbye"
    assert call.ended


def test_a_number_entry_takes_keys_up_to_its_finish_key(app, monkeypatch):
    call = Call(Line(app), CALLER)
    answers = []

    def answer(**params):
        answers.append(params)
        # The next Gather is an ordinary one-key menu.
        call.listening = Listening("/voice/menu?node=main", 1, "", True)
        return CallStep(())

    monkeypatch.setattr(call, "answer", answer)
    call.listening = Listening("/voice/menu?node=callback_number", None, "#", False)
    assert len(call.type_keys("07400123456#1")) == 2
    assert answers == [{"Digits": "07400123456"}, {"Digits": "1"}]

    answers.clear()
    call.listening = Listening("/voice/menu?node=callback_number", None, "#", False)
    call.type_keys("#")
    assert answers == [{}]  # the finish key alone: an empty result, as Twilio sends it

    answers.clear()
    call.listening = Listening("/voice/menu?node=callback_number", None, "#", False)
    call.say("oh seven four")
    assert answers == [{}]  # a Gather for keys only does not hear words


def test_a_transfer_is_followed_to_the_dial_action(app):
    call = Call(Line(app), CALLER)
    call.dial_in()
    transfer = call.press("0")
    assert transfer.transfer_to and transfer.listening is None and not transfer.ended
    after = call.transfer_ended(answered=False)
    assert ids(after)[0] == "transfer_failed"
    assert after.listening is not None


def test_a_wrong_token_is_refused_by_the_line(app):
    line = Line(app)
    line.validator = type(line.validator)(TOKEN[::-1])
    with pytest.raises(SimulatorError, match="403"):
        Call(line, CALLER).dial_in()


def test_a_url_on_another_origin_is_refused(app):
    with pytest.raises(SimulatorError, match="another origin"):
        Line(app).path_of("https://elsewhere.example.com/voice")


def test_texts_keep_the_menu_between_messages(app):
    line = Line(app)
    first = Texter(line, CALLER).send("hello")
    assert first == [loaded(app).catalogue.greeting_with_menu()]
    topic = Texter(line, CALLER).send("2")
    assert topic[0].startswith(loaded(app).catalogue.topics["treatment"].sms)
    assert Texter(line, CALLER).send("STOP") == [written(app, "sms_stop")]
    assert Texter(line, CALLER).send("menu") == []


# -- flask line call / text -----------------------------------------------------------

def test_line_call_prints_the_whole_call(app):
    result = app.test_cli_runner().invoke(line_cli, ["call", "--no-audio", "--from", CALLER], input="1\n\n*\n9\n2\n2\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Line: {written(app, 'welcome')}" in out
    assert out.count(f"Line: {written(app, 'topic.symptoms')}") == 1
    assert out.count(f"Line: {written(app, 'topic.symptoms.2')}") == 2, "star: the last part again"
    assert "You press 1." in out and "You press *." in out and "You press 9." in out
    assert f"Line: {written(app, 'goodbye')}" in out
    assert out.rstrip().endswith("The line hung up. Call ended.")
    # The clip that would play, by file name (it is served from audio/), or that it is spoken live.
    assert re.search(r"\[topic\.symptoms: (clip topic\.symptoms-normal-[0-9a-f]{12}\.mp3|spoken live, no clip)\]", out)


def test_line_call_speech_silence_and_hanging_up(app):
    result = app.test_cli_runner().invoke(line_cli, ["call", "--no-audio"], input="treatment\n\n\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert 'You say "treatment".' in out
    assert f"Line: {written(app, 'topic.treatment')}" in out
    assert "You stay silent." in out
    assert f"Line: {written(app, 'topic.treatment.2')}" in out, "silence after a part: the next part"
    assert f"Line: {written(app, 'no_input')}" in out, "silence at the options: the options again"
    assert out.rstrip().endswith("You hung up. Call ended.")


def test_line_call_transfer(app):
    result = app.test_cli_runner().invoke(line_cli, ["call", "--no-audio"], input="0\ny\n")
    assert result.exit_code == 0, result.output
    assert "[Transferring you to +44" in result.output
    assert f"Line: {written(app, 'goodbye')}" in result.output
    assert result.output.rstrip().endswith("The line hung up. Call ended.")


def test_line_call_when_the_support_line_is_closed(app, clock):
    clock.set(CLOSED_TIME)
    result = app.test_cli_runner().invoke(line_cli, ["call", "--no-audio"], input="0\n")
    assert result.exit_code == 0, result.output
    assert f"Line: {written(app, 'support_closed')}" in result.output
    assert "Transferring" not in result.output


def test_line_call_without_a_player_still_works(app, monkeypatch):
    monkeypatch.setattr("service.simulator.cli.shutil.which", lambda name: None)
    result = app.test_cli_runner().invoke(line_cli, ["call"], input="9\n")
    assert result.exit_code == 0, result.output
    assert "no audio player found" in result.output


def test_clips_play_in_order_through_a_local_player(app, monkeypatch, tmp_path):
    played = []
    monkeypatch.setattr("service.simulator.cli.find_player", lambda: ["fake-player", "-q"])
    monkeypatch.setattr("service.simulator.cli.subprocess.run",
                        lambda command, **kwargs: played.append(command))
    audio = tmp_path / "audio"
    audio.mkdir()
    names = {}
    for prompt_id in ("welcome", "keys"):
        names[prompt_id] = f"{prompt_id}-normal-0123456789ab.mp3"
        (audio / names[prompt_id]).write_bytes(b"ID3")
    app.config["AUDIO_DIR"] = audio
    line = Line(app)
    clip_of = {prompt_id: f"{line.base}/audio/{name}" for prompt_id, name in names.items()}
    player = ClipPlayer(audio, ["fake-player", "-q"])
    for prompt_id in ("welcome", "keys"):
        player.play(Heard(prompt_id, "", clip_of[prompt_id]))
    player.play(Heard("goodbye", "", f"{line.base}/audio/goodbye-normal-000000000000.mp3"))  # no such file
    player.play(Heard("goodbye", "", None))  # spoken live
    assert played == [["fake-player", "-q", str(audio / names["welcome"])],
                      ["fake-player", "-q", str(audio / names["keys"])]]


def test_line_call_survives_a_broken_player(app, monkeypatch, tmp_path):
    def broken(command, **kwargs):
        raise OSError("no sound card")

    monkeypatch.setattr("service.simulator.cli.subprocess.run", broken)
    (tmp_path / "welcome-normal-0123456789ab.mp3").write_bytes(b"ID3")
    player = ClipPlayer(tmp_path, ["fake-player"])
    player.play(Heard("welcome", "", "https://line.example.org/audio/welcome-normal-0123456789ab.mp3"))
    assert player.command is None


def test_line_text_prints_the_reply_and_keeps_the_menu(app):
    runner = app.test_cli_runner()
    result = runner.invoke(line_cli, ["text", "symptoms", "--from", CALLER])
    assert result.exit_code == 0, result.output
    symptoms = loaded(app).catalogue.topics["symptoms"].sms
    assert f"You ({CALLER}): symptoms" in result.output
    assert f"Line: {symptoms}" in result.output

    runner.invoke(line_cli, ["text", "4", "--from", CALLER])  # main menu: understanding ALL
    understanding = runner.invoke(line_cli, ["text", "1", "--from", CALLER])
    assert understanding.exit_code == 0, understanding.output
    first_topic = loaded(app).catalogue.menus["about"].options[0][1]
    assert loaded(app).catalogue.topics[first_topic].sms in understanding.output


def test_line_text_says_when_there_is_no_reply(app):
    runner = app.test_cli_runner()
    runner.invoke(line_cli, ["text", "STOP"])
    result = runner.invoke(line_cli, ["text", "symptoms"])
    assert result.exit_code == 0, result.output
    assert f"You ({DEFAULT_CALLER}): symptoms" in result.output
    assert f"(No reply: {DEFAULT_CALLER} has sent STOP, so the line answers nothing but START. Text START to get " \
           "replies again.)" in result.output
    restarted = runner.invoke(line_cli, ["text", "START"])
    assert "No reply" not in restarted.output
    assert "Line: " in runner.invoke(line_cli, ["text", "symptoms"]).output


def test_line_commands_are_registered(app):
    result = app.test_cli_runner().invoke(args=["line", "text", "symptoms"])
    assert result.exit_code == 0, result.output
    assert "Line: " in result.output


# -- the web simulator --------------------------------------------------------------

def test_the_web_simulator_is_off_unless_enabled(app):
    client = app.test_client()
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator/api/text", json={"body": "symptoms"}, headers=HEADERS).status_code == 404
    assert client.post("/simulator/api/call", json={}, headers=HEADERS).status_code == 404


def test_the_page_has_a_keypad_transcript_audio_and_a_text_box(sim_app):
    page = sim_app.test_client().get("/simulator")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in "1234567890*#":
        assert f'data-key="{key}"' in html
    for needed in ('id="transcript"', 'aria-live="polite"', "<audio", 'for="message"', 'for="words"',
                   ">Call<", ">Hang up<", ">Stay silent<", "<h1>"):
        assert needed in html, needed


def test_the_simulator_can_be_turned_off_at_run_time(sim_app):
    sim_app.config["SIMULATOR_ENABLED"] = False
    assert sim_app.test_client().get("/simulator").status_code == 404


def test_the_api_refuses_requests_a_cross_site_page_could_send(sim_app):
    client = sim_app.test_client()
    # A form post or a JSON post without the custom header: what another site can send without a preflight.
    assert client.post("/simulator/api/text", data={"body": "symptoms"}).status_code == 403
    assert client.post("/simulator/api/text", json={"body": "symptoms"}).status_code == 403
    assert client.post("/simulator/api/text", json={"body": "symptoms"},
                       headers={**HEADERS, "Origin": "https://evil.example.com"}).status_code == 403
    assert client.post("/simulator/api/text", json={"body": "symptoms"},
                       headers={**HEADERS, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    same_origin = client.post("/simulator/api/text", json={"body": "symptoms"},
                              headers={**HEADERS, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert same_origin.status_code == 200


def test_the_api_runs_a_call(sim_app):
    client = sim_app.test_client()
    started = client.post("/simulator/api/call", json={"from": CALLER}, headers=HEADERS)
    assert started.status_code == 200, started.data
    data = started.get_json()
    assert [heard["id"] for heard in data["heard"]] == ["welcome", "menu_main", "keys"]
    assert data["listening"] and not data["ended"]
    assert data["call"]["from"] == CALLER and data["call"]["listen"]["digits"] == 1
    for heard in data["heard"]:
        # Clips on the line's own origin are fetched from this server.
        assert heard["clip"] is None or heard["clip"].startswith("/audio/")

    pressed = client.post("/simulator/api/press", json={"call": data["call"], "keys": "1"}, headers=HEADERS)
    data = pressed.get_json()
    # The page goes a part at a time: 6 skips on, star twice goes back, silence plays the next part.
    assert [heard["id"] for heard in data["heard"]] == ["topic.symptoms", "part_keys"]
    assert data["call"]["listen"]["more"] is True
    assert data["heard"][0]["text"] == written(sim_app, "topic.symptoms")
    assert data["state"]["node"] == "symptoms"
    cat = loaded(sim_app).catalogue
    skipped = client.post("/simulator/api/press", json={"call": data["call"], "keys": "6"}, headers=HEADERS)
    assert [heard["id"] for heard in skipped.get_json()["heard"]] == again(cat, "symptoms")
    back = client.post("/simulator/api/press", json={"call": skipped.get_json()["call"], "keys": "*"},
                       headers=HEADERS).get_json()
    back = client.post("/simulator/api/press", json={"call": back["call"], "keys": "*"}, headers=HEADERS).get_json()
    assert [heard["id"] for heard in back["heard"]] == ["topic.symptoms"], "star twice: the part before"
    data = client.post("/simulator/api/silence", json={"call": back["call"]}, headers=HEADERS).get_json()
    assert [heard["id"] for heard in data["heard"]] == again(cat, "symptoms"), "then the next part by itself"

    said = client.post("/simulator/api/say", json={"call": data["call"], "words": "repeat"}, headers=HEADERS)
    assert [heard["id"] for heard in said.get_json()["heard"]] == again(cat, "symptoms")

    silent = client.post("/simulator/api/silence", json={"call": data["call"]}, headers=HEADERS).get_json()
    assert silent["heard"][0]["id"] == "no_input"

    data = client.post("/simulator/api/press", json={"call": silent["call"], "keys": "9"}, headers=HEADERS).get_json()
    assert [heard["id"] for heard in data["heard"]] == ["feedback_ask"]
    for _ in range(2):  # "no" to "did this help?", then no to being reminded of the topic
        data = client.post("/simulator/api/press", json={"call": data["call"], "keys": "2"}, headers=HEADERS).get_json()
    assert data["ended"] and data["heard"][-1]["id"] == "goodbye"
    pressed_after = client.post("/simulator/api/press", json={"call": data["call"], "keys": "1"}, headers=HEADERS)
    assert pressed_after.status_code == 400


def test_the_api_transfer(sim_app):
    client = sim_app.test_client()
    data = client.post("/simulator/api/call", json={}, headers=HEADERS).get_json()
    assert data["call"]["from"] == DEFAULT_CALLER
    data = client.post("/simulator/api/press", json={"call": data["call"], "keys": "0"}, headers=HEADERS).get_json()
    assert data["transfer_to"] and data["call"]["dial"] and not data["ended"]
    data = client.post("/simulator/api/transfer-ended", json={"call": data["call"], "answered": True},
                       headers=HEADERS).get_json()
    assert data["ended"] and [heard["id"] for heard in data["heard"]] == ["goodbye"]


@pytest.mark.parametrize("call", [
    None,
    {"sid": "CAnot-a-sid", "from": CALLER, "listen": None, "dial": None},
    {"sid": "CA" + "0" * 32, "from": CALLER, "listen": {"url": "/sms", "digits": 1, "finish": "", "speech": True},
     "dial": None},
    {"sid": "CA" + "0" * 32, "from": CALLER, "dial": "https://elsewhere.example.com/voice/dial-done",
     "listen": None},
    {"sid": "CA" + "0" * 32, "from": "not a number",
     "listen": {"url": "/voice/menu?node=main", "digits": 1, "finish": "", "speech": True}, "dial": None},
])
def test_the_api_refuses_a_call_it_did_not_make(sim_app, call):
    response = sim_app.test_client().post("/simulator/api/press", json={"call": call, "keys": "1"}, headers=HEADERS)
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize("body", [{"keys": "12a"}, {"keys": ""}, {"keys": 1}])
def test_the_api_refuses_keys_a_phone_has_not_got(sim_app, body):
    client = sim_app.test_client()
    call = client.post("/simulator/api/call", json={}, headers=HEADERS).get_json()["call"]
    response = client.post("/simulator/api/press", json={"call": call, **body}, headers=HEADERS)
    assert response.status_code == 400


def test_the_api_texts(sim_app):
    client = sim_app.test_client()
    response = client.post("/simulator/api/text", json={"from": CALLER, "body": "symptoms"}, headers=HEADERS)
    assert response.status_code == 200
    data = response.get_json()
    assert data["sent"] == "symptoms"
    assert data["replies"][0].startswith(loaded(sim_app).catalogue.topics["symptoms"].sms)
    empty = client.post("/simulator/api/text", json={"from": CALLER, "body": "  "}, headers=HEADERS)
    assert empty.status_code == 400


def test_the_readme_shows_the_simulators():
    readme = (PROJECT_ROOT / "README.md").read_text()
    for documented in ("flask --app service line call", "flask --app service line text", "/simulator",
                       "`SIMULATOR_ENABLED`", "--no-audio", "--from"):
        assert documented in readme, documented
    for option in ("--from", "--no-audio"):
        assert option in {opt for param in line_cli.commands["call"].params for opt in param.opts}
