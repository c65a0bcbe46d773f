"""`flask --app service content check`: what it measures and what it refuses."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from service.config import PROJECT_ROOT
from service.content import check, load_catalogue
from service.extensions import loaded

TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def prompts(tmp_path):
    target = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


def test_the_shipped_content_passes_and_every_prompt_is_reported(app):
    cat = loaded(app).catalogue
    rows, failures, warnings = check(cat, loaded(app).clips.durations, TODAY)
    assert failures == []
    ids = {row.prompt_id for row in rows}
    assert set(cat.voice_prompts()) <= ids
    assert {f"topic.{t}.sms" for t in cat.topics} <= ids
    summaries = [row for row in rows if row.kind == "summary"]
    assert summaries and all(row.measured for row in summaries), "summaries are timed from their clips"
    assert all(20 <= row.seconds <= 45 for row in summaries)


def test_a_summary_over_45_seconds_fails(prompts):
    cat = load_catalogue(prompts)
    rows, failures, _ = check(cat, {"topic.risks": 46.2}, TODAY)
    assert any("topic.risks takes 46 s" in f for f in failures)


def test_a_summary_under_20_seconds_fails(prompts):
    cat = load_catalogue(prompts)
    _, failures, _ = check(cat, {"topic.childhood": 19.0}, TODAY)
    assert any("topic.childhood takes 19 s" in f and "at least 20" in f for f in failures)
    _, failures, _ = check(cat, {"topic.childhood": 20.5}, TODAY)
    assert not any("topic.childhood" in f for f in failures)


def test_an_estimate_is_used_when_there_is_no_clip(prompts):
    cat = load_catalogue(prompts)
    rows, _, _ = check(cat, {}, TODAY)
    row = next(r for r in rows if r.prompt_id == "topic.symptoms")
    assert not row.measured and row.seconds > 15


def test_a_long_sentence_fails(prompts):
    path = prompts / "topics" / "risks.yaml"
    text = path.read_text().replace("Some things may raise the risk.",
                                    "Some things may raise the risk " + "and more " * 12 + "too.", 1)
    path.write_text(text)
    cat = load_catalogue(prompts)
    _, failures, _ = check(cat, {}, TODAY)
    assert any("topic.risks has a sentence of" in f for f in failures)


def test_review_date_warns_sixty_days_before_and_fails_after(prompts):
    cat = load_catalogue(prompts)
    assert cat.source.next_review == dt.date(2027, 10, 28)
    _, failures, warnings = check(cat, {}, dt.date(2027, 9, 1))
    assert not any("review" in f for f in failures)
    assert any("due for review on 28 Oct 2027" in w for w in warnings)
    _, failures, _ = check(cat, {}, dt.date(2027, 10, 28))
    assert any("was due for review" in f for f in failures)


def test_the_command_exits_non_zero_on_a_failure(app, clock):
    clock.set(dt.datetime(2028, 1, 1, 12, tzinfo=dt.UTC))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "FAIL: prompts/source.yaml" in result.output
