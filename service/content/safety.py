"""The safety rules from the clinical review, run by the content check: urgent advice in every
topic's first part (written, spoken and texted), 999 early where frightened people land, the spoken
numbers equal to the written ones, no fever sent to a GP. Each failure names the file, line and rule."""
from __future__ import annotations

import re

from .model import Catalogue

# A run of three or more digits, optionally in groups, as a help number is written.
NUMBER_PATTERN = re.compile(r"(?<![\d.])\d{3,}(?: \d{2,})*(?!\d|\.\d)")

# -- 3. safety rules from the clinical review (each names the file, the line and the rule) -----

# A crisis answer's urgent advice is 999 and Samaritans, not the treatment line.
CRISIS_TOPIC = "crisis"
# Where someone frightened lands first: 999 within the first 45 words.
EARLY_999_TOPICS, EARLY_999_WORDS = ("fever", "symptoms"), 45
TWENTY_FOUR_HOUR = re.compile(r"24-hour")
EMERGENCY = re.compile(r"(?<!\d)999(?!\d)")
FEVER_OR_INFECTION = re.compile(r"fever|infection|temperature|unwell", re.IGNORECASE)
GP = re.compile(r"\b(GPs?|doctor|surgery)\b", re.IGNORECASE)
SPOKEN_999 = re.compile(r"\bnine nine nine\b", re.IGNORECASE)
SPOKEN_24_HOUR = re.compile(r"\btwenty four hour\b", re.IGNORECASE)
DIGIT_WORDS = {"oh": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
               "seven": "7", "eight": "8", "nine": "9"}


def spoken_numbers(say: str) -> list[str]:
    """Runs of three or more spoken digits ("oh eight oh eight, eight oh oh ..."), as digits."""
    found, run = [], ""
    for token in re.findall(r"[a-z]+|[^a-z\s,]", say.lower()):
        if token in DIGIT_WORDS:
            run += DIGIT_WORDS[token]
            continue
        if len(run) >= 3:
            found.append(run)
        run = ""
    if len(run) >= 3:
        found.append(run)
    return found


def safety_failures(cat: Catalogue) -> list[str]:
    failures: list[str] = []

    def at(key: str) -> str:
        return cat.origins.get(key, "prompts")

    for pid, prompt in sorted(cat.voice_prompts().items()):
        written = sorted(n.replace(" ", "") for n in NUMBER_PATTERN.findall(prompt.text))
        if written != sorted(spoken_numbers(prompt.say)):
            failures.append(f"{at(pid)}: {pid}: the numbers spoken ({', '.join(spoken_numbers(prompt.say)) or 'none'}) "
                            f"are not the numbers written ({', '.join(written) or 'none'})")
    for topic in sorted(cat.topics.values(), key=lambda t: t.id):
        # What a caller hears first: they may skip on (6) after it, so the urgent advice is in part 1.
        first_part = topic.parts[0] if topic.parts else topic.voice
        if not SPOKEN_999.search(first_part.say):
            failures.append(f"{at('topic.' + topic.id)}: topic {topic.id!r} (as the voice says it) never says "
                            "\"nine nine nine\" in its first part")
        if topic.id != CRISIS_TOPIC and not SPOKEN_24_HOUR.search(first_part.say):
            failures.append(f"{at('topic.' + topic.id)}: topic {topic.id!r} (as the voice says it) never says "
                            "\"twenty four hour\" line in its first part")
        for key, text, form in ((f"topic.{topic.id}", first_part.text, "written"),
                                (f"topic.{topic.id}.sms", topic.sms, "texted")):
            if not EMERGENCY.search(text):
                failures.append(f"{at(key)}: topic {topic.id!r} ({form}) gives no urgent advice: every topic says "
                                "what to do now, with 999")
            if topic.id != CRISIS_TOPIC and not TWENTY_FOUR_HOUR.search(text):
                failures.append(f"{at(key)}: topic {topic.id!r} ({form}) never names the hospital's 24-hour line "
                                "for someone unwell in treatment")
        if topic.id in EARLY_999_TOPICS:
            first = " ".join(topic.voice.text.split()[:EARLY_999_WORDS])
            if not EMERGENCY.search(first):
                failures.append(f"{at('topic.' + topic.id)}: topic {topic.id!r} must give 999 within its first "
                                f"{EARLY_999_WORDS} words")
    spoken = {pid: p.text for pid, p in cat.voice_prompts().items()}
    for number in cat.help_numbers:
        if not number.sms_hours:
            continue
        for texts, hours, form in ((spoken, number.hours, "spoken"), (cat.sms_texts(), number.sms_hours, "texted")):
            for text_id, text in sorted(texts.items()):
                for found in re.finditer(re.escape(number.number), text):
                    before = text[max(0, found.start() - 60):found.start()]
                    after = text[found.end():found.end() + 80]
                    if number.name.lower() not in before.lower() or hours.lower() not in after.lower():
                        failures.append(f"{at(text_id.removesuffix('.sms').split('+')[0])}: {text_id} ({form}) gives "
                                        f"{number.number} without \"{number.name}\" before it and \"{hours}\" "
                                        "after it (prompts/contacts.yaml)")
    for text in cat.series:
        if FEVER_OR_INFECTION.search(text.sms):
            if GP.search(text.sms):
                failures.append(f"{at('series.' + text.id)}: series text {text.id!r} sends a fever or infection to "
                                "a GP; people in treatment call the hospital's 24-hour line")
            if not TWENTY_FOUR_HOUR.search(text.sms):
                failures.append(f"{at('series.' + text.id)}: series text {text.id!r} speaks of a fever or infection "
                                "without the hospital's 24-hour line")
    return failures
