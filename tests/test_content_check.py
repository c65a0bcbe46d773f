"""`flask --app service content check`: what it measures and what it refuses."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from service.config import PROJECT_ROOT
from service.content import ContentError, check, load_catalogue
from service.web.extensions import loaded

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
    parts = [row for row in rows if row.kind == "summary"]
    assert parts and all(row.measured for row in parts), "summaries are timed from their clips, part by part"
    assert all(row.seconds <= 30 for row in parts)
    by_id = {row.prompt_id: row.seconds for row in parts}
    assert all(20 <= sum(by_id[p.id] for p in topic.parts) <= 45 for topic in cat.topics.values())


def test_a_summary_over_45_seconds_fails(prompts):
    cat = load_catalogue(prompts)
    rows, failures, _ = check(cat, {"topic.risks": 25.0, "topic.risks.2": 21.2}, TODAY)
    assert any("topic.risks takes 46 s to say in all" in f for f in failures)
    assert not any("a part is at most" in f for f in failures)


def test_a_part_over_30_seconds_fails_however_short_the_summary(prompts):
    cat = load_catalogue(prompts)
    _, failures, _ = check(cat, {"topic.risks": 31.0, "topic.risks.2": 8.0}, TODAY)
    assert any("topic.risks takes 31 s to say; a part is at most 30: split it with a blank line" in f
               for f in failures)


def test_parts_must_be_split_the_same_way_as_written_and_as_spoken(prompts):
    path = prompts / "topics" / "risks.yaml"
    text = path.read_text()
    spoken = text.index("  say:")
    path.write_text(text[:spoken] + text[spoken:].replace("\n\n", "\n", 1))
    with pytest.raises(ContentError, match="risks.yaml.*'text' has 2 parts and 'say' has 1"):
        load_catalogue(prompts)


def test_a_summary_under_20_seconds_fails(prompts):
    cat = load_catalogue(prompts)
    _, failures, _ = check(cat, {"topic.childhood": 12.0, "topic.childhood.2": 7.0}, TODAY)
    assert any("topic.childhood takes 19 s to say in all" in f and "at least 20" in f for f in failures)
    _, failures, _ = check(cat, {"topic.childhood": 12.5, "topic.childhood.2": 8.0}, TODAY)
    assert not any("topic.childhood" in f for f in failures)


def test_an_estimate_is_used_when_there_is_no_clip(prompts):
    cat = load_catalogue(prompts)
    rows, _, _ = check(cat, {}, TODAY)
    row = next(r for r in rows if r.prompt_id == "topic.symptoms")
    assert not row.measured and row.seconds > 15


def test_a_long_sentence_fails(prompts):
    path = prompts / "topics" / "risks.yaml"
    text = path.read_text().replace("no one knows the cause.",
                                    "no one knows the cause " + "and more " * 8 + "too.", 1)
    path.write_text(text)
    cat = load_catalogue(prompts)
    _, failures, _ = check(cat, {}, TODAY)
    assert any("topic.risks has a sentence of" in f for f in failures)


def test_review_date_warns_sixty_days_before_and_fails_after(prompts):
    cat = load_catalogue(prompts)
    assert cat.source.next_review == dt.date(2027, 10, 28)
    _, failures, warnings = check(cat, {}, dt.date(2027, 9, 1))
    assert not any("prompts/source.yaml" in f for f in failures)
    assert any("prompts/source.yaml: the source page is due for review on 28 Oct 2027" in w for w in warnings)
    _, failures, _ = check(cat, {}, dt.date(2027, 10, 28))
    assert any("prompts/source.yaml: the source page was due for review" in f for f in failures)


def test_the_command_exits_non_zero_on_a_failure(app, clock):
    clock.set(dt.datetime(2028, 1, 1, 12, tzinfo=dt.UTC))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "FAIL: prompts/source.yaml" in result.output


# -- the clinical review's rules: each failure names the file, the line and the rule -------

def failures_after(prompts, path: str, old: str, new: str, today: dt.date = TODAY) -> list[str]:
    target = prompts / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))
    _, failures, _ = check(load_catalogue(prompts), {}, today)
    return failures


def test_the_shipped_content_meets_every_safety_rule(prompts):
    _, failures, _ = check(load_catalogue(prompts), {}, TODAY)
    assert failures == []


def test_a_topic_text_without_urgent_advice_fails(prompts):
    failures = failures_after(prompts, "topics/risks.yaml",
                              "Unwell in\n  treatment: your hospital 24-hour line now. Emergency: 999.", "Thank you.")
    assert any(f.startswith("prompts/topics/risks.yaml:") and "topic 'risks' (texted) gives no urgent advice" in f
               for f in failures), failures
    assert any("topic 'risks' (texted) never names the hospital's 24-hour line" in f for f in failures), failures


def test_999_must_come_in_the_first_45_words_of_fever_and_symptoms(prompts):
    failures = failures_after(prompts, "topics/symptoms.yaml",
                              "    Very unwell with a fever, or a face or neck that swells suddenly? Call 999.\n",
                              "")
    failures = [f for f in failures if "first 45 words" in f]
    assert failures and failures[0].startswith("prompts/topics/symptoms.yaml:"), failures


def test_the_nurses_number_needs_their_name_and_hours(prompts):
    failures = failures_after(prompts, "topics/research.yaml",
                              "nurses 0808 800 4040 (Mon-Fri 9am-5pm)", "nurses 0808 800 4040")
    assert any(f.startswith("prompts/topics/research.yaml:") and "topic.research.sms (texted) gives 0808 800 4040 "
               "without \"Cancer Research UK nurses\" before it and \"Mon-Fri 9am-5pm\" after it" in f
               for f in failures), failures


def test_a_series_text_that_sends_an_infection_to_a_gp_fails(prompts):
    failures = failures_after(prompts, "series.yaml", "your hospital\n      24-hour line now (no answer: 999).",
                              "ask your GP for an\n      urgent appointment.")
    assert any(f.startswith("prompts/series.yaml:") and "'week3_infection' sends a fever or infection to a GP" in f
               for f in failures), failures
    assert any("'week3_infection' speaks of a fever or infection without the hospital's 24-hour line" in f
               for f in failures), failures


@pytest.mark.parametrize("path", ["line.yaml", "contacts.yaml", "series.yaml"])
def test_a_file_with_urgent_advice_has_a_review_date_of_its_own(prompts, path):
    target = prompts / path
    text = target.read_text()
    start = text.index("review:\n")
    end = text.index("next_review:", start)
    end = text.index("\n", end) + 1
    target.write_text(text[:start] + text[end:])
    with pytest.raises(ContentError, match=rf"prompts/{path}:\d+: needs a 'review' \(reviewed_by, reviewed_on, "
                                           r"next_review\)"):
        load_catalogue(prompts)
    target.write_text(text)
    _, failures, _ = check(load_catalogue(prompts), {}, dt.date(2027, 6, 2))
    assert any(f.startswith(f"prompts/{path}: {path} was due for review on 01 Jun 2027") for f in failures), failures


def test_a_topic_may_not_copy_the_overview_pages_review_date(prompts):
    failures = failures_after(prompts, "topics/risks.yaml", "next_review: 2027-12-01", "next_review: 2027-10-28")
    assert "prompts/topics/risks.yaml: topic 'risks' copies its next_review from prompts/source.yaml; give each " \
           "topic a review cycle of its own" in failures


def test_a_spoken_sentence_over_20_words_fails(prompts):
    failures = failures_after(prompts, "topics/risks.yaml", "    Worried about your risk? Talk to your G P.\n",
                              "    Worried about your risk? Talk to your G P " + "and then " * 8 + "again.\n")
    assert any("topic.risks.2 has a sentence of 22 words, as written or as spoken; at most 20" in f
               for f in failures), failures


def test_the_transfer_must_name_the_line_it_reaches(prompts):
    target = prompts / "line.yaml"
    target.write_text(target.read_text().replace("Putting you through to the Macmillan Support Line,",
                                                 "Putting you through to someone,"))
    with pytest.raises(ContentError, match=r"prompts/line\.yaml:\d+: 'transfer' must name 'Macmillan Support Line'"):
        load_catalogue(prompts)


def test_a_spoken_number_that_differs_from_the_written_one_fails(prompts):
    failures = failures_after(prompts, "topics/help.yaml", "on one one six, one two three.",
                              "on one one six, one two four.")
    assert any(f.startswith("prompts/topics/help.yaml:") and "topic.help.2: the numbers spoken" in f and "116124" in f
               for f in failures), failures


def test_the_urgent_advice_is_checked_as_the_voice_says_it(prompts):
    failures = failures_after(prompts, "topics/fever.yaml", "Call nine nine nine or go to A and E.", "Call later.")
    failures = [f for f in failures if "(as the voice says it)" in f or "numbers spoken" in f]
    assert failures, "a spoken 999 taken away must fail"


def test_an_empty_part_or_a_follow_on_menu_on_6_or_a_first_part_without_999_is_refused(prompts):
    path = prompts / "topics" / "risks.yaml"
    original = path.read_text()
    path.write_text(original.replace("\n\n    ", "\n\n\n    "))          # in the words and in what is said
    with pytest.raises(ContentError, match="risks.yaml.*an empty part"):
        load_catalogue(prompts)
    path.write_text(original)
    menus = prompts / "menus.yaml"
    text = menus.read_text()
    assert '    "4": childhood' in text
    menus.write_text(text.replace('    "4": childhood', '    "6": childhood', 1))
    with pytest.raises(ContentError, match="follows a topic and may not use 6"):
        load_catalogue(prompts)
