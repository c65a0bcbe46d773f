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
# A summary says enough to be worth the press, and no more than a worried listener can hold.
SUMMARY_MIN_SECONDS, SUMMARY_MAX_SECONDS = 20.0, 45.0
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
    for text_id, text in cat.written_texts().items():
        if UK_111.search(text) and not NORTHERN_IRELAND.search(text):
            failures.append(f"{cat.origins.get(text_id.removesuffix('.sms'), 'prompts')}: {text_id} gives 111 "
                            "without the Northern Ireland alternative (no general 111 there: the GP out-of-hours "
                            "service)")
    due = [("prompts/source.yaml", "the source page", cat.source.next_review)]
    due += [(f"prompts/topics/{t.id}.yaml", f"topic {t.id!r}", t.review.next_review) for t in cat.topics.values()]
    for where, what, review in due:
        status = review_status(review, today)
        if status == OVERDUE:
            failures.append(f"{where}: {what} was due for review on {review:%d %b %Y}; check it against its "
                            "sources and update the review dates")
        elif status == DUE_SOON:
            warnings.append(f"{where}: {what} is due for review on {review:%d %b %Y}")
    return rows, failures, warnings


CURRENT, DUE_SOON, OVERDUE = "current", "due soon", "overdue"


def review_status(next_review: dt.date, today: dt.date) -> str:
    """Past the review date the content check fails; in the 60 days before, it warns."""
    if today >= next_review:
        return OVERDUE
    if today >= next_review - REVIEW_WARNING:
        return DUE_SOON
    return CURRENT


# 111 as a number to call, not part of a longer number ("0808 111 ..."), and how the line names
# Northern Ireland, which has no general 111 service.
UK_111 = re.compile(r"(?<!\d)(?<!\d )111(?!\d)")
NORTHERN_IRELAND = re.compile(r"Northern Ireland|N\. ?Ireland|\bNI\b")



def format_table(rows: list[Row]) -> str:
    lines = [f"{'prompt':32} {'kind':8} {'seconds':>8} {'longest':>8} {'grade':>6} {'sms':>4} {'encoding':8}"]
    for row in rows:
        seconds = "" if row.seconds is None else f"{row.seconds:.1f}{'' if row.measured else '~'}"
        lines.append(f"{row.prompt_id:32} {row.kind:8} {seconds:>8} {row.longest_sentence:>8} {row.grade:>6} "
                     f"{row.sms_segments or '':>4} {row.encoding or '':8}")
    return "\n".join(lines)
