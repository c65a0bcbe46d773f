"""The prompt files: checked at start-up, and a broken file is named with its line."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from service.basics import gsm
from service.config import PROJECT_ROOT
from service.content import MAX_MENU_OPTIONS, RESERVED_KEYS, ContentError, load_catalogue

from .helpers import edit

SOURCES = (PROJECT_ROOT / "docs" / "sources.md")


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


@pytest.fixture
def prompts(tmp_path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


def problems_for(prompts: Path) -> str:
    with pytest.raises(ContentError) as caught:
        load_catalogue(prompts)
    return str(caught.value)


def test_the_shipped_prompts_load(cat):
    assert {"what_is_all", "symptoms", "diagnosis", "treatment", "survival", "living", "research", "risks",
            "childhood", "help", "side_effects", "infection", "fertility", "money", "carers", "questions",
            "follow_up", "phases", "transplant", "targeted"} == {t.id for t in cat.topics.values() if t.in_menu}
    assert sorted(t.id for t in cat.topics.values() if not t.in_menu) == ["crisis", "fever"]


def test_menus_are_small_and_keep_reserved_keys_free(cat):
    for menu in cat.menus.values():
        assert len(menu.options) <= MAX_MENU_OPTIONS
        assert not {key for key, _ in menu.options} & RESERVED_KEYS


def test_the_most_asked_topics_are_one_press_away(cat):
    main = {target for _, target in cat.menus["main"].options}
    assert {"symptoms", "treatment", "help"} <= main


def test_every_sms_text_is_gsm7_within_two_segments(cat):
    for text_id, text in cat.sms_texts().items():
        assert gsm.is_gsm7(text), text_id
        assert gsm.segments(text) <= 2, text_id


def test_every_summary_ends_with_where_to_get_help(cat):
    numbers = [n.number for n in cat.help_numbers]
    for topic in cat.topics.values():
        last_sentences = " ".join(re.split(r"(?<=[.!?])\s+", topic.voice.text)[-3:])
        assert any(n in last_sentences for n in numbers) or "GP" in last_sentences, topic.id
        sms_tail = topic.sms[-120:]
        assert any(n in sms_tail for n in numbers), topic.id


def test_every_number_given_is_in_the_projects_own_sources_exactly(cat):
    sources = SOURCES.read_text()
    for number in cat.help_numbers:
        assert f"| {number.number} |" in sources, number


def test_no_survival_statistics(cat):
    texts = [p.text for p in cat.voice_prompts().values()] + list(cat.sms_texts().values())
    for text in texts:
        assert "%" not in text and "percent" not in text.lower() and "per cent" not in text.lower()
        assert not re.search(r"\b\d+ (in|out of) \d+\b", text), text


def test_spoken_forms_avoid_what_voices_misread(cat):
    for pid, text in cat.spoken_texts().items():
        assert not re.search(r"\bALL\b", text), pid
        assert "A&E" not in text and "999" not in text and "111" not in text, pid


def test_a_broken_yaml_file_is_named_with_its_line(prompts):
    edit(prompts / "line.yaml", "  no_input: Sorry", "  no_input: [Sorry")
    message = problems_for(prompts)
    assert re.search(r"prompts/line\.yaml:\d+: is not valid YAML", message), message


def test_a_menu_pointing_nowhere_is_named(prompts):
    edit(prompts / "menus.yaml", '"3": help', '"3": helpp')
    message = problems_for(prompts)
    assert "prompts/menus.yaml" in message and "'helpp'" in message


def test_a_reserved_key_in_a_menu_is_refused(prompts):
    edit(prompts / "menus.yaml", '"4": risks', '"7": risks')
    message = problems_for(prompts)
    assert re.search(r"prompts/menus\.yaml:\d+: menu 'about' uses the reserved key '7'", message), message


def test_a_sixth_option_is_refused(prompts):
    edit(prompts / "menus.yaml", '    "5": research\n', '    "5": research\n    "6": living\n')
    message = problems_for(prompts)
    assert "has 6 options; at most 5" in message


def test_an_sms_with_a_curly_quote_is_refused(prompts):
    edit(prompts / "topics" / "risks.yaml", "it is not catching.", "it\u2019s not catching.")
    message = problems_for(prompts)
    assert "outside GSM-7" in message and "topic.risks.sms" in message


def test_an_sms_over_two_segments_is_refused(prompts):
    edit(prompts / "topics" / "risks.yaml", "sms: >-\n", "sms: >-\n  " + "Longer text. " * 10 + "\n  ")
    message = problems_for(prompts)
    assert "topic.risks.sms" in message and "segments" in message


def test_a_number_not_in_the_contacts_is_refused(prompts):
    edit(prompts / "topics" / "risks.yaml", "Call Macmillan on 0808 808 00 00.", "Call Macmillan on 0808 808 00 01.")
    message = problems_for(prompts)
    assert "'0808 808 00 01'" in message and "help_numbers" in message


def test_a_keyword_in_two_topics_is_refused(prompts):
    edit(prompts / "topics" / "risks.yaml", "keywords: [what causes it, risks,", "keywords: [chemo, risks,")
    message = problems_for(prompts)
    assert "'chemo' belongs to both" in message


def test_a_spoken_menu_that_forgets_a_key_is_refused(prompts):
    trials = "For research and clinical trials, press 5.\n      "
    hash_key = "To talk to someone, press 0. For the main menu, press hash.\n"
    edit(prompts / "line.yaml", trials + hash_key + "    say", hash_key + "    say")
    edit(prompts / "line.yaml", trials + hash_key + "  menu_living", hash_key + "  menu_living")
    message = problems_for(prompts)
    assert "never says \"press 5\"" in message


def test_a_missing_prompt_is_named(prompts):
    edit(prompts / "line.yaml", "  goodbye:", "  goodby:")
    message = problems_for(prompts)
    assert "'goodbye' is missing" in message and "'goodby' is not used" in message


@pytest.mark.parametrize("dial", ["08088080000", "+44 808 808", "+999123456", "support line"])
def test_a_support_line_that_is_no_valid_number_in_e164_is_refused(prompts, dial):
    edit(prompts / "contacts.yaml", 'dial: "+448088080000"', f'dial: "{dial}"')
    message = problems_for(prompts)
    assert re.search(rf"prompts/contacts\.yaml:\d+: dial '{re.escape(dial)}' must be a valid number in E\.164",
                     message), message


def test_bad_opening_hours_are_refused(prompts):
    edit(prompts / "contacts.yaml", 'mon: ["08:00", "20:00"]', 'mon: ["8am", "20:00"]')
    message = problems_for(prompts)
    assert re.search(r"prompts/contacts\.yaml:\d+: '8am' is not a 24-hour time", message), message


def test_the_app_refuses_to_start_with_broken_prompts(prompts, monkeypatch):
    from service import create_app

    edit(prompts / "menus.yaml", '"3": help', '"3": nowhere')
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    with pytest.raises(ContentError, match="nowhere"):
        create_app({"PROMPTS_DIR": prompts, "DATABASE_URL": "sqlite://", "TESTING": True})


def flask_content_check(prompts: Path, tmp_path: Path):
    """`flask --app service content check` on these prompts, in a process of its own."""
    import os
    import subprocess
    import sys

    flask = str(Path(sys.executable).with_name("flask"))
    env = {**os.environ, "LINE_DEV_MODE": "1", "LINE_INSTANCE_PATH": str(tmp_path / "instance")}
    return subprocess.run([flask, "--app", f"service:create_app({{'PROMPTS_DIR': {str(prompts)!r}}})",  # noqa: S603
                           "content", "check"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_flask_command_names_the_broken_file_without_a_traceback(prompts, tmp_path):
    edit(prompts / "menus.yaml", '"3": help', '"3": nowhere')
    done = flask_content_check(prompts, tmp_path)
    assert done.returncode == 1
    assert re.search(r"prompts/menus\.yaml:\d+: menu 'main' key 3 goes to 'nowhere'", done.stderr), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


UNKNOWN_NUMBER = r"prompts/topics/crisis\.yaml:\d+: 'topic\.crisis' gives the number '116 124', which is not in " \
                 r"prompts/contacts\.yaml help_numbers"


def test_a_topic_naming_an_unknown_number_is_named_by_flask_without_a_traceback(prompts, tmp_path):
    edit(prompts / "topics" / "crisis.yaml", "day or night, on 116 123.", "day or night, on 116 124.")
    done = flask_content_check(prompts, tmp_path)
    assert done.returncode == 1
    assert re.search(UNKNOWN_NUMBER, done.stderr), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def every_flask_command(app) -> list[list[str]]:
    """The arguments of every command the line adds to `flask`, and of Flask's own `routes`."""
    import click

    found = [["routes"]]
    with click.Context(app.cli) as ctx:
        for name in app.cli.list_commands(ctx):
            command = app.cli.get_command(ctx, name)
            if isinstance(command, click.Group):
                found += [[name, sub] for sub in command.list_commands(ctx)]
            else:
                found.append([name])
    return found


def test_every_flask_command_names_a_broken_file_without_a_traceback(app, prompts, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    from service import create_app

    edit(prompts / "topics" / "crisis.yaml", "day or night, on 116 123.", "day or night, on 116 124.")
    monkeypatch.setenv("LINE_DEV_MODE", "1")
    monkeypatch.setenv("LINE_INSTANCE_PATH", str(tmp_path / "instance"))
    flask = FlaskGroup(create_app=lambda: create_app({"PROMPTS_DIR": prompts}))
    commands = every_flask_command(app)
    assert ["content", "check"] in commands and ["sms", "send-due"] in commands and ["admin", "create-user"] in commands
    for args in commands:
        result = CliRunner().invoke(flask, args)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)
        assert re.search(UNKNOWN_NUMBER, result.output), (args, result.output)
        assert "Traceback" not in result.output, args
