"""Sign-off: approvals bound to the exact words, the release gate, status, approve and the review pack."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys

import pytest

from service.config import PROJECT_ROOT
from service.content import ContentError, load_catalogue
from service.content.approvals import Approver, load, summarise, units

from . import wall_clock
from .browser import axe_violations, describe
from .helpers import PUBLIC, TOKEN, edit, prompts_copy

FEVER_WORDS = "Paracetamol, ibuprofen and steroids can hide a fever."
CLINICIAN = "Sam Patel, haematology clinical nurse specialist, NMC 12A3456E"


@pytest.fixture
def prompts(tmp_path):
    return prompts_copy(tmp_path)


def production(app_factory, url, prompts, **config):
    """A production start (not development, not a test app) on a copy of the prompts."""
    return app_factory(url, PROMPTS_DIR=prompts, TESTING=False, DEV_MODE=False, **config)


def flask(tmp_path, prompts, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """`flask --app service ...` as an operator runs it: a production environment, the prompts copy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TWILIO_", "PUBLIC_", "DATABASE_"))}
    env.update({k: os.environ[k] for k in (wall_clock.TIME_VARIABLE, wall_clock.EPOCH_VARIABLE) if k in os.environ})
    env.update(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=PUBLIC, DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
               LINE_INSTANCE_PATH=str(tmp_path / "instance"))
    app = f"service:create_app({{'PROMPTS_DIR': {str(prompts)!r}}})"
    return subprocess.run([sys.executable, "-m", "flask", "--app", app, *args], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120, input=input)


def test_every_prompt_is_approved_as_committed_and_only_editorially():
    cat = load_catalogue()
    summary = summarise(cat, load(PROJECT_ROOT / "prompts", cat), dt.date(2026, 12, 7))
    assert len(summary.states) == len(units(cat)) > 100
    assert summary.not_approved == []
    assert all(s.approval.approver.name for s in summary.states)


def test_every_form_of_a_topic_is_bound_to_its_words():
    cat = load_catalogue()
    assert set(units(cat)["topic.fever"].forms) == {"title", "title_spoken", "text", "spoken", "sms"}
    assert set(units(cat)["welcome"].forms) == {"text", "spoken"}
    assert set(units(cat)["series.week1_fever"].forms) == {"sms"}
    assert {"support_closed", "callback_booked", "series.confirm", "sms_greeting"} <= set(units(cat))


def test_a_production_start_says_clinical_sign_off_is_still_to_come(app_factory, sqlite_only, prompts, caplog):
    with caplog.at_level(logging.WARNING, logger="service.content.signoff"):
        production(app_factory, sqlite_only, prompts)
    assert any("clinical sign-off still to come" in r.getMessage() for r in caplog.records)


def test_one_changed_word_stops_a_production_start_naming_the_topic(app_factory, sqlite_only, prompts):
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    with pytest.raises(ContentError) as refused:
        production(app_factory, sqlite_only, prompts)
    assert "prompts/topics/fever.yaml: topic.fever is changed since approval (text)" in str(refused.value)


def test_development_serves_changed_words_with_a_warning(app_factory, sqlite_only, prompts, caplog):
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    with caplog.at_level(logging.WARNING, logger="service.content.signoff"):
        app_factory(sqlite_only, PROMPTS_DIR=prompts, DEV_MODE=True, TESTING=False,
                    PUBLIC_BASE_URL="http://127.0.0.1:5000")
    assert any("topic.fever is changed since approval" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_the_operator_setting_serves_unapproved_words_with_an_error_at_every_start(app_factory, sqlite_only,
                                                                                    prompts, caplog):
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="service.content.signoff"):
            production(app_factory, sqlite_only, prompts, ALLOW_UNAPPROVED_CONTENT=True)
        assert [r for r in caplog.records if "UNAPPROVED CONTENT IN PRODUCTION" in r.getMessage()
                and "topic.fever" in r.getMessage()]


def test_the_release_fails_on_a_changed_word_until_it_is_approved(tmp_path, prompts):
    passed = flask(tmp_path, prompts, "release")
    assert passed.returncode == 0, passed.stderr
    assert "release checks passed" in passed.stdout
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    refused = flask(tmp_path, prompts, "release")
    assert refused.returncode == 1
    assert "prompts/topics/fever.yaml: topic.fever is changed since approval (text)" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    # Approving needs the app: a development start, which allows the changed words with a warning.
    # Approvals are made in a checkout (development) and committed: production will not even start.
    approved = flask(tmp_path, prompts, "content", "approve", "--by", CLINICIAN, "topic.fever")
    assert approved.returncode == 1
    env_dev = flask_dev(tmp_path, prompts, "content", "approve", "--by", CLINICIAN, "topic.fever")
    assert env_dev.returncode == 0, env_dev.stderr
    assert "recorded a clinical approval by " + CLINICIAN in env_dev.stdout
    again = flask(tmp_path, prompts, "release")
    assert again.returncode == 0, again.stderr
    assert f"topic.fever:\n    approved_by: {CLINICIAN}" in (prompts / "approvals.yaml").read_text()


def flask_dev(tmp_path, prompts, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TWILIO_", "PUBLIC_", "DATABASE_"))}
    env.update({k: os.environ[k] for k in (wall_clock.TIME_VARIABLE, wall_clock.EPOCH_VARIABLE) if k in os.environ})
    env.update(LINE_DEV_MODE="1", LINE_INSTANCE_PATH=str(tmp_path / "instance"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}")
    app = f"service:create_app({{'PROMPTS_DIR': {str(prompts)!r}}})"
    return subprocess.run([sys.executable, "-m", "flask", "--app", app, *args], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120, input=input)


def test_approve_with_no_ids_lists_the_changed_prompts_and_asks(tmp_path, prompts):
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    declined = flask_dev(tmp_path, prompts, "content", "approve", "--by", CLINICIAN, input="n\n")
    assert declined.returncode == 1
    assert "prompts/topics/fever.yaml: topic.fever (changed since approval)" in declined.stdout
    assert "Approve these 1 prompt(s) as " + CLINICIAN in declined.stdout
    accepted = flask_dev(tmp_path, prompts, "content", "approve", "--by", CLINICIAN, input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    status = flask_dev(tmp_path, prompts, "content", "status")
    line = next(row for row in status.stdout.splitlines() if row.startswith("topic.fever "))
    assert "approved; clinical approval by " + CLINICIAN in line
    other = next(row for row in status.stdout.splitlines() if row.startswith("topic.symptoms "))
    assert "editorial approval by Content editor (not a clinician)" in other


@pytest.mark.parametrize("by, message", [
    ("", "--by needs the approver"),
    ("   ,  ", "--by needs the approver"),
    ("Sam Patel", "names no role"),
    ("Sam Patel, nurse, twelve", "is not a professional registration"),
])
def test_approve_refuses_an_empty_or_unclear_approver(tmp_path, prompts, by, message):
    refused = flask_dev(tmp_path, prompts, "content", "approve", "--by", by, "topic.fever")
    assert refused.returncode == 2
    assert message in refused.stderr


@pytest.mark.parametrize("by", ["Jo, editor, GMC pending", "Jo, editor, not NMC registered", "Jo, editor, HCPC none",
                                "Jo, editor, nmc abcd"])
def test_a_registration_must_be_a_real_number(by):
    with pytest.raises(ValueError, match="is not a professional registration"):
        Approver.parse(by)


def test_the_release_holds_even_in_development_mode(tmp_path, prompts):
    edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    refused = flask_dev(tmp_path, prompts, "release")
    assert refused.returncode == 1
    assert "prompts/topics/fever.yaml: topic.fever is changed since approval" in refused.stderr
    assert "release checks passed" not in refused.stdout


def test_an_editorial_approval_does_not_replace_a_clinical_one_unasked(tmp_path, prompts):
    assert flask_dev(tmp_path, prompts, "content", "approve", "--by", CLINICIAN, "topic.fever").returncode == 0
    editor = "Content editor (not a clinician), ALL line content editor"
    refused = flask_dev(tmp_path, prompts, "content", "approve", "--by", editor, "topic.fever")
    assert refused.returncode == 1 and "topic.fever (add --force if that is meant)" in refused.stderr
    assert flask_dev(tmp_path, prompts, "content", "approve", "--by", editor, "--force", "topic.fever").returncode == 0


def test_a_registration_makes_an_approval_clinical():
    assert Approver.parse(CLINICIAN).clinical
    assert Approver.parse("Dr Ada Jones, consultant haematologist, GMC 1234567").clinical
    assert not Approver.parse("Content editor (not a clinician), ALL line content editor").clinical


def test_status_shows_reviews_due_30_days_ahead(app, clock):
    clock.set(dt.datetime(2027, 5, 10, 12, tzinfo=dt.UTC))
    result = app.test_cli_runner().invoke(args=["content", "status"])
    assert result.exit_code == 0, result.output
    fever = next(row for row in result.output.splitlines() if row.startswith("topic.fever "))
    assert "review due soon (2027-06-01)" in fever
    clock.set(dt.datetime(2027, 6, 2, 12, tzinfo=dt.UTC))
    result = app.test_cli_runner().invoke(args=["content", "status"])
    assert "review overdue (2027-06-01)" in next(r for r in result.output.splitlines() if r.startswith("topic.fever "))


# -- bad input: the file and line, and the gate fails closed ------------------------------

def approvals_text(prompts) -> str:
    return (prompts / "approvals.yaml").read_text()


@pytest.mark.parametrize("damage, message", [
    (lambda text: None, r"prompts/approvals\.yaml: is missing"),
    (lambda text: text.replace("approvals:\n", "approvals: [\n", 1), r"prompts/approvals\.yaml:\d+: is not valid YAML"),
    (lambda text: text.replace("  topic.fever:\n", "  topic.fevr:\n", 1),
     r"prompts/approvals\.yaml:\d+: approves 'topic.fevr', which is no prompt of the line"),
    (lambda text: re.sub(r"(  topic\.fever:\n    approved_by: )[^\n]*", r"\1''", text, count=1),
     r"prompts/approvals\.yaml:\d+: topic\.fever: approved_by: --by needs the approver"),
    (lambda text: re.sub(r"(  topic\.fever:\n(?:.*\n)*?        sha256: )\w", r"\g<1>0", text, count=1),
     r"prompts/approvals\.yaml:\d+: topic\.fever \w+: sha256 does not match the approved text"),
])
def test_a_broken_approvals_file_is_named_and_the_release_fails_closed(tmp_path, prompts, damage, message):
    damaged = damage(approvals_text(prompts))
    if damaged is None:
        (prompts / "approvals.yaml").unlink()
    else:
        assert damaged != approvals_text(prompts)
        (prompts / "approvals.yaml").write_text(damaged)
    refused = flask(tmp_path, prompts, "release")
    assert refused.returncode == 1
    assert re.search(message, refused.stderr), refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    checked = flask_dev(tmp_path, prompts, "content", "check")
    assert checked.returncode == 1
    assert re.search(message, checked.stderr), checked.stderr


# -- the review pack -----------------------------------------------------------------------

def test_the_review_pack_has_every_topic_its_clips_and_a_word_diff(tmp_path, prompts):
    for _form in ("text", "spoken"):  # the spoken words change too: the fever clips no longer say them
        edit(prompts / "topics" / "fever.yaml", FEVER_WORDS, "Paracetamol, ibuprofen and steroids may hide a fever.")
    pack = tmp_path / "pack"
    made = flask_dev(tmp_path, prompts, "content", "review-pack", str(pack))
    assert made.returncode == 0, made.stderr
    page = (pack / "index.html").read_text()
    cat = load_catalogue(prompts)
    for topic in cat.topics.values():
        assert f'id="topic-{topic.id.replace("_", "-")}"' in page, topic.id
    assert "<del>can</del> <ins>may</ins>" in page
    clips = re.findall(r'<audio id="[^"]+" controls preload="none" src="(audio/[^"]+)"', page)
    assert len(clips) >= 2 * (len(cat.topics) - 1)
    assert not any(clip.startswith("audio/topic.fever.2-") for clip in clips), "an old clip beside new words"
    assert any(clip.startswith("audio/topic.fever-") for clip in clips), "the unchanged part is still heard"
    assert "Listen (part 2, usual speed)" in page
    for clip in clips:
        assert (pack / clip).is_file(), clip
    assert "https://www.nice.org.uk/guidance/cg151" in page


def test_the_review_pack_opens_offline_and_axe_finds_nothing(tmp_path, prompts, page):
    pack = tmp_path / "pack"
    made = flask_dev(tmp_path, prompts, "content", "review-pack", str(pack))
    assert made.returncode == 0, made.stderr
    page.goto((pack / "index.html").as_uri())
    assert page.locator("h1").inner_text() == "ALL information line: review pack"
    assert page.locator("section.prompt").count() == len(units(load_catalogue(prompts)))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the prompts"
    violations = axe_violations(page, impacts=("minor", "moderate", "serious", "critical"))
    assert violations == [], describe(violations)
    page.emulate_media(media="print")
    assert page.locator("nav.toc").is_hidden()

