"""The one content checker, at two levels.

1. Load errors (``load_errors``): what would break the line or mislead a caller: a missing or
   unused prompt, a menu key going nowhere, a topic out of reach, a keyword owned twice, an SMS
   over budget, "our" line for a line the charity does not run, a number not in contacts.yaml.
   A catalogue with any of them is never loaded: ContentError names each file and line.
2. Editorial checks (``editorial``, `flask --app service content check`): is every word fit for
   a frightened listener? Spoken seconds (from the clip where one exists), the longest sentence,
   a reading grade, SMS segments, 111 with Northern Ireland's alternative, and review dates.

``check`` runs both.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..basics import gsm
from .model import (
    MAIN_MENU,
    MAX_MENU_OPTIONS,
    NEXT_PART_KEY,
    RETURNING_KEY,
    SMS_PROMPTS,
    SMS_STATE_COMMANDS,
    VOICE_PROMPTS,
    Catalogue,
)
from .safety import NUMBER_PATTERN, safety_failures


class ContentError(ValueError):
    """One or more prompt files are broken; the message names each file and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The prompt files have problems:\n  " + "\n  ".join(problems))


# -- 1. load errors ----------------------------------------------------------------------

def load_errors(cat: Catalogue) -> list[str]:
    """Problems that span files: missing ids, broken menu links, SMS budgets, keywords."""
    problems: list[str] = []

    def at(key: str) -> str:
        return cat.origins.get(key, "prompts")

    for pid in VOICE_PROMPTS + SMS_PROMPTS:
        if pid not in cat.prompts:
            problems.append(f"prompts/line.yaml: the prompt {pid!r} is missing")
    for pid in set(cat.prompts) - set(VOICE_PROMPTS) - set(SMS_PROMPTS) - {m.voice for m in cat.menus.values()} \
            - {m.sms for m in cat.menus.values()}:
        problems.append(f"{at(pid)}: the prompt {pid!r} is not used by the line (a typo?)")

    nodes = set(cat.topics) | set(cat.menus)
    clash = set(cat.topics) & set(cat.menus)
    for name in sorted(clash):
        problems.append(f"{at('menu.' + name)}: {name!r} is both a topic and a menu")
    if MAIN_MENU not in cat.menus:
        problems.append("prompts/menus.yaml: there is no 'main' menu")
    followed: dict[str, str] = {}
    for menu in cat.menus.values():
        where = at(f"menu.{menu.id}")
        if menu.after is not None:
            topic = cat.topics.get(menu.after)
            if topic is None or not topic.in_menu:
                problems.append(f"{where}: menu {menu.id!r} comes after {menu.after!r}, which is no topic on a menu")
            elif menu.after in followed:
                problems.append(f"{where}: menu {menu.id!r} comes after {menu.after!r}, as menu "
                                f"{followed[menu.after]!r} does already; a topic leads on to one menu")
            followed.setdefault(menu.after, menu.id)
        if menu.after and menu.target(NEXT_PART_KEY):
            problems.append(f"{where}: menu {menu.id!r} follows a topic and may not use {NEXT_PART_KEY}: in a topic it "
                            "skips to the next part")
        if menu.id == MAIN_MENU and menu.target(RETURNING_KEY):
            problems.append(f"{where}: the main menu may not use {RETURNING_KEY}: a returning caller presses it "
                            "to hear their last topic again")
        if len(menu.options) > MAX_MENU_OPTIONS:
            problems.append(f"{where}: menu {menu.id!r} has {len(menu.options)} options; at most {MAX_MENU_OPTIONS}")
        for prompt_id in (menu.voice, menu.sms):
            if prompt_id not in cat.prompts:
                problems.append(f"{where}: menu {menu.id!r} names the prompt {prompt_id!r}, which does not exist")
        for key, target in menu.options:
            if target not in nodes:
                problems.append(f"{where}: menu {menu.id!r} key {key} goes to {target!r}, which is no topic or menu")
            elif target == MAIN_MENU:
                problems.append(f"{where}: menu {menu.id!r} key {key} goes to the main menu; that is what # is for")
        if menu.voice in cat.prompts:
            spoken = cat.prompts[menu.voice].say.lower()
            for key, _ in menu.options:
                if f"press {key}" not in spoken:
                    problems.append(f"{at(menu.voice)}: {menu.voice!r} never says \"press {key}\", "
                                    f"but menu {menu.id!r} has an option on {key}")
        if menu.sms in cat.prompts:
            lines = [line.strip() for line in cat.prompts[menu.sms].text.splitlines()]
            for key, _ in menu.options:
                if not any(line.startswith(f"{key} ") for line in lines):
                    problems.append(f"{at(menu.sms)}: {menu.sms!r} has no line starting \"{key} \", "
                                    f"but menu {menu.id!r} has an option on {key}")

    depth = _depths(cat)
    if "help" not in cat.topics:
        problems.append("prompts/topics: there is no 'help' topic (where to get help); the line offers it")
    for topic_id in sorted(cat.topics):
        if not cat.topics[topic_id].in_menu:
            if topic_id in depth:
                problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} says in_menu: false but a menu "
                                "offers it")
            continue
        if topic_id not in depth:
            problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} cannot be reached from the main menu")
        elif depth[topic_id] > 2:
            problems.append(f"{at('topic.' + topic_id)}: topic {topic_id!r} is {depth[topic_id]} presses away; "
                            "at most 2")

    owners: dict[str, str] = {}
    groups = [(f"topic {t.id}", t.keywords) for t in cat.topics.values()]
    groups += [(f"menu {m.id}", m.keywords) for m in cat.menus.values()]
    groups += [(f"voice command {k}", v) for k, v in cat.voice_commands.items()]
    groups += [("voice digits", cat.voice_digits)]
    for owner, words in groups:
        for word in words:
            if word in owners and owners[word] != owner:
                problems.append(f"prompts: the keyword {word!r} belongs to both {owners[word]} and {owner}")
            owners.setdefault(word, owner)
    sms_owners: dict[str, str] = {}
    for name, words in cat.sms_commands.items():
        for word in words:
            if word in sms_owners:
                problems.append(f"prompts/keywords.yaml: the SMS keyword {word!r} belongs to both "
                                f"{sms_owners[word]} and {name}")
            sms_owners[word] = name
            if name in SMS_STATE_COMMANDS and word in owners and owners[word].startswith(("topic", "menu")):
                problems.append(f"prompts/keywords.yaml: the SMS keyword {word!r} is also a keyword of "
                                f"{owners[word]}")

    for text_id, text in cat.sms_texts().items():
        bad = gsm.non_gsm_characters(text)
        origin = at(text_id.removesuffix("+menu").removesuffix(".sms") if text_id.startswith("menu.")
                    else text_id)
        if bad:
            problems.append(f"{origin}: SMS text {text_id!r} has characters outside GSM-7: "
                            + " ".join(repr(ch) for ch in bad))
        elif gsm.segments(text) > gsm.SEGMENT_BUDGET:
            problems.append(f"{origin}: SMS text {text_id!r} needs {gsm.segments(text)} segments "
                            f"({gsm.septets(text)} characters); at most {gsm.SEGMENT_BUDGET}")
    if "sms_greeting" in cat.prompts and gsm.segments(cat.prompts["sms_greeting"].text) > 1:
        problems.append(f"{at('sms_greeting')}: the greeting must fit one segment")

    line = cat.support_line
    written = cat.written_texts()
    if not line.run_by_us:
        for text_id, text in written.items():
            if re.search(r"\bour (support )?(line|team|nurses?)\b", text, re.IGNORECASE):
                problems.append(f"{at(text_id.removesuffix('.sms'))}: {text_id!r} speaks of \"our\" line or team, "
                                f"but {line.name} is not run by this charity (support_line.run_by_us is false)")
        if line.name.lower() not in line.closed.text.lower():
            problems.append(f"{at('support_closed')}: support_line.closed must name {line.name!r}, the line "
                            "that 0 reaches")
    transfer = cat.prompts.get("transfer")
    if transfer and line.name.lower() not in transfer.text.lower():
        problems.append(f"{at('transfer')}: 'transfer' must name {line.name!r} (contacts.yaml support_line.name), "
                        "so that a caller knows who they are put through to")

    known = {n.number for n in cat.help_numbers}
    for text_id, text in written.items():
        for number in NUMBER_PATTERN.findall(text):
            if number not in known:
                problems.append(f"{at(text_id.removesuffix('.sms'))}: {text_id!r} gives the number "
                                f"{number!r}, which is not in prompts/contacts.yaml help_numbers")
    return problems


def _depths(cat: Catalogue) -> dict[str, int]:
    """Presses needed from the main menu to reach each topic or menu."""
    depth = {MAIN_MENU: 0}
    frontier = [MAIN_MENU]
    while frontier:
        node = frontier.pop(0)
        menu = cat.menus.get(node) or cat.follow_ons.get(node)
        if not menu:
            continue
        for _, target in menu.options:
            if target not in depth:
                depth[target] = depth[node] + 1
                frontier.append(target)
    return depth


# -- 2. editorial checks -----------------------------------------------------------------

# A calm pace for a listener who may be older or upset: 150 words a minute.
WORDS_PER_SECOND = 2.5
# A summary says enough to be worth the press, and no more than a worried listener can hold.
SUMMARY_MIN_SECONDS, SUMMARY_MAX_SECONDS = 20.0, 45.0
# No clip a caller sits through on the way to an answer is longer than this.
PART_MAX_SECONDS = 30.0
MAX_SENTENCE_WORDS = 20
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


def editorial(cat: Catalogue, durations: dict[str, float], today: dt.date) -> tuple[list[Row], list[str], list[str]]:
    """Rows for the report, failures (exit non-zero) and warnings."""
    rows: list[Row] = []
    failures: list[str] = []
    warnings: list[str] = []
    for pid, prompt in sorted(cat.voice_prompts().items()):
        measured = pid in durations
        seconds = durations[pid] if measured else words(prompt.say) / WORDS_PER_SECOND
        longest = max(words(s) for s in sentences(prompt.text) + sentences(prompt.say))
        rows.append(Row(pid, "summary" if pid.startswith("topic.") else "voice", round(seconds, 1), longest,
                        _grade(prompt.text), measured=measured))
        where = cat.origins.get(pid, "prompts")
        if pid.startswith("topic.") and seconds > PART_MAX_SECONDS:
            failures.append(f"{where}: {pid} takes {seconds:.0f} s to say; a part is at most {PART_MAX_SECONDS:.0f}: "
                            "split it with a blank line")
        if longest > MAX_SENTENCE_WORDS:
            failures.append(f"{where}: {pid} has a sentence of {longest} words, as written or as spoken; "
                            f"at most {MAX_SENTENCE_WORDS}")
    timed = {row.prompt_id: row.seconds for row in rows}
    for topic in cat.topics.values():
        where = cat.origins.get(f"topic.{topic.id}", "prompts")
        seconds = sum(timed[part.id] for part in topic.parts)
        if seconds > SUMMARY_MAX_SECONDS:
            failures.append(f"{where}: topic.{topic.id} takes {seconds:.0f} s to say in all; at most "
                            f"{SUMMARY_MAX_SECONDS:.0f}")
        if seconds < SUMMARY_MIN_SECONDS:
            failures.append(f"{where}: topic.{topic.id} takes {seconds:.0f} s to say in all; at least "
                            f"{SUMMARY_MIN_SECONDS:.0f}")
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
    failures += safety_failures(cat)
    due = [("prompts/source.yaml", "the source page", cat.source.next_review)]
    due += [(f"prompts/topics/{t.id}.yaml", f"topic {t.id!r}", t.review.next_review) for t in cat.topics.values()]
    due += [(path, path.removeprefix("prompts/"), review.next_review) for path, review in cat.file_reviews.items()]
    for topic in cat.topics.values():
        if topic.review.next_review == cat.source.next_review:
            failures.append(f"prompts/topics/{topic.id}.yaml: topic {topic.id!r} copies its next_review from "
                            "prompts/source.yaml; give each topic a review cycle of its own")
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


def check(cat: Catalogue, durations: dict[str, float], today: dt.date) -> tuple[list[Row], list[str], list[str]]:
    """Both levels: the report's rows, every failure (load errors first) and the warnings."""
    rows, failures, warnings = editorial(cat, durations, today)
    return rows, load_errors(cat) + failures, warnings
