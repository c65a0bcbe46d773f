"""`flask --app service content check`: is every word fit for a frightened listener?

Reports, per prompt, spoken seconds (from the clip where one exists), the longest
sentence, a reading grade, and SMS segments; fails on what would hurt a caller.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from . import gsm
from .content import Catalogue

# A calm pace for a listener who may be older or upset: 150 words a minute.
WORDS_PER_SECOND = 2.5
SUMMARY_MIN_SECONDS, SUMMARY_MAX_SECONDS = 15.0, 45.0
MAX_SENTENCE_WORDS = 25
REVIEW_WARNING = dt.timedelta(days=60)
# Flesch-Kincaid grade 6 is a reading age of about 11.
TARGET_GRADE = 6.0


@dataclass
class Row:
    prompt_id: str
    kind: str
    seconds: float | None
    longest_sentence: int
    grade: float
    sms_segments: int | None = None
    encoding: str | None = None
    measured: bool = False


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s.strip()]


def words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def _grade(text: str) -> float:
    import textstat

    return round(textstat.flesch_kincaid_grade(text), 1)


def check(cat: Catalogue, durations: dict[str, float], today: dt.date) -> tuple[list[Row], list[str], list[str]]:
    """Rows for the report, failures (exit non-zero) and warnings."""
    rows: list[Row] = []
    failures: list[str] = []
    warnings: list[str] = []
    for pid, prompt in sorted(cat.voice_prompts().items()):
        measured = pid in durations
        seconds = durations[pid] if measured else words(prompt.say) / WORDS_PER_SECOND
        longest = max(words(s) for s in sentences(prompt.text))
        rows.append(Row(pid, "summary" if pid.startswith("topic.") else "voice", round(seconds, 1), longest,
                        _grade(prompt.text), measured=measured))
        where = cat.origins.get(pid, "prompts")
        if pid.startswith("topic."):
            if seconds > SUMMARY_MAX_SECONDS:
                failures.append(f"{where}: {pid} takes {seconds:.0f} s to say; at most {SUMMARY_MAX_SECONDS:.0f}")
            if seconds < SUMMARY_MIN_SECONDS:
                failures.append(f"{where}: {pid} takes {seconds:.0f} s to say; at least {SUMMARY_MIN_SECONDS:.0f}")
        if longest > MAX_SENTENCE_WORDS:
            failures.append(f"{where}: {pid} has a sentence of {longest} words; at most {MAX_SENTENCE_WORDS}")
    for text_id, text in sorted(cat.sms_texts().items()):
        longest = max(words(s) for s in sentences(text))
        rows.append(Row(text_id, "sms", None, longest, _grade(text), gsm.segments(text),
                        "GSM-7" if gsm.is_gsm7(text) else "UCS-2"))
        if not gsm.fits(text):
            failures.append(f"{text_id}: SMS needs {gsm.segments(text)} segments or is not GSM-7")
        if longest > MAX_SENTENCE_WORDS:
            failures.append(f"{text_id}: has a sentence of {longest} words; at most {MAX_SENTENCE_WORDS}")
    for row in rows:
        if row.kind == "summary" and row.grade > TARGET_GRADE + 2:
            warnings.append(f"{row.prompt_id}: reading grade {row.grade} (aim for about {TARGET_GRADE:.0f}, "
                            "a reading age of 11)")
    review = cat.source.next_review
    if today >= review:
        failures.append(f"prompts/source.yaml: the source was due for review on {review:%d %b %Y}; "
                        "check the summaries against the current page and update the dates")
    elif today >= review - REVIEW_WARNING:
        warnings.append(f"prompts/source.yaml: the source is due for review on {review:%d %b %Y}")
    return rows, failures, warnings


def format_table(rows: list[Row]) -> str:
    lines = [f"{'prompt':32} {'kind':8} {'seconds':>8} {'longest':>8} {'grade':>6} {'sms':>4} {'encoding':8}"]
    for row in rows:
        seconds = "" if row.seconds is None else f"{row.seconds:.1f}{'' if row.measured else '~'}"
        lines.append(f"{row.prompt_id:32} {row.kind:8} {seconds:>8} {row.longest_sentence:>8} {row.grade:>6} "
                     f"{row.sms_segments or '':>4} {row.encoding or '':8}")
    return "\n".join(lines)
