"""What a clinical reviewer signs off: urgent advice first, honest promises, reviewed and sourced
content, and a repository that stands on its own."""
from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from service.basics import phones
from service.config import PROJECT_ROOT
from service.content import ContentError, check, load_catalogue
from service.engine.places import read_back
from service.web.extensions import loaded

from ..helpers import (
    CLOSED_TIME,
    FEVER_TEXTS,
    Call,
    Texter,
    edit,
    parse,
    prompts_copy,
    prompts_with_callbacks,
    seconds_until,
)

CAT = load_catalogue()
SOURCES = (PROJECT_ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
TODAY = dt.date(2026, 12, 1)
TWENTY_FOUR_HOUR_LINE = "twenty four hour line"
NINE_NINE_NINE = "nine nine nine"


def say(prompt_id: str) -> str:
    return CAT.prompt(prompt_id).say


# -- 1. the repository stands on its own ------------------------------------------

OUTSIDE = re.compile(r"\.\./shared|[\"']shared[\"']")


def test_nothing_in_the_product_reads_outside_the_repository():
    places = [PROJECT_ROOT / name for name in ("service", "tests", "prompts", ".ci")]
    files = [path for place in places for path in place.rglob("*") if path.is_file()
             and path.suffix in {".py", ".yaml", ".yml", ".html", ".js", ".css", ".json", ""}]
    files += [PROJECT_ROOT / "Makefile", PROJECT_ROOT / "pyproject.toml"]
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in files
                 if OUTSIDE.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []


def test_the_source_page_is_its_public_https_address():
    assert CAT.source.url.startswith("https://www.cancerresearchuk.org/")
    assert CAT.source.url in SOURCES


def test_a_source_that_is_a_local_path_is_refused(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "source.yaml", "source: https://", "source: ../elsewhere/")
    with pytest.raises(ContentError, match=r"prompts/source\.yaml:\d+: 'source' must be the https address"):
        load_catalogue(prompts)


def test_every_help_number_has_the_page_it_was_checked_on_in_the_sources():
    for number in CAT.help_numbers:
        assert number.source.startswith("https://") and number.checked, number
        assert number.source in SOURCES, number
        assert re.search(rf"^\| {re.escape(number.number)} \|", SOURCES, re.MULTILINE), number


def test_every_number_the_sources_list_is_one_the_line_may_give():
    listed = re.findall(r"^\| ([\d ]+) \|", SOURCES.split("## Help numbers", 1)[1], re.MULTILINE)
    assert sorted(listed) == sorted(n.number for n in CAT.help_numbers)


def test_a_help_number_without_its_page_is_refused(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "contacts.yaml", 'source: "https://www.samaritans.org', 'source: "www.samaritans.org')
    with pytest.raises(ContentError, match="116 123: 'source' must be the https page"):
        load_catalogue(prompts)


# The approved organisations, the helplines' own pages for their own numbers, and pages named
# on the team's checked facts sheet.
APPROVED_HOSTS = ("nhs.uk", "nice.org.uk", "cancerresearchuk.org", "macmillan.org.uk", "bloodcancer.org.uk",
                  "leukaemiacare.org.uk", "gov.uk", "samaritans.org", "giveusashout.org", "acas.org.uk",
                  "hscni.net", "nhs.wales", "independentage.org")


@pytest.mark.parametrize("topic_id", sorted(CAT.topics))
def test_every_topic_cites_pages_that_the_sources_file_records(topic_id):
    topic = CAT.topics[topic_id]
    assert topic.sources
    for url in topic.sources:
        host = urllib.parse.urlsplit(url).hostname
        assert url in SOURCES, url
        assert any(host == approved or host.endswith("." + approved) for approved in APPROVED_HOSTS), url


# -- 2. urgent advice first -------------------------------------------------------

@pytest.mark.parametrize("prompt_id,phrase,seconds", [
    ("welcome", NINE_NINE_NINE, 15),
    ("welcome", TWENTY_FOUR_HOUR_LINE, 15),
    ("topic.treatment", TWENTY_FOUR_HOUR_LINE, 12),
    ("topic.treatment", NINE_NINE_NINE, 12),
    ("topic.help", NINE_NINE_NINE, 15),
    ("topic.help", TWENTY_FOUR_HOUR_LINE, 15),
    ("topic.symptoms", TWENTY_FOUR_HOUR_LINE, 12),
    ("topic.fever", TWENTY_FOUR_HOUR_LINE, 12),
    ("topic.fever", NINE_NINE_NINE, 15),
])
def test_urgent_advice_comes_first(prompt_id, phrase, seconds):
    assert seconds_until(say(prompt_id), phrase) <= seconds


def test_the_opening_says_it_is_a_recorded_information_line():
    assert "recorded information" in CAT.prompts["welcome"].text


@pytest.mark.parametrize("prompt_id", ["support_closed", "help_numbers", "callback_booked", "topic.help",
                                       "topic.fever", "topic.treatment", "welcome"])
def test_where_frightened_people_land_they_hear_999_and_the_24_hour_line(prompt_id):
    assert NINE_NINE_NINE in say(prompt_id)
    assert TWENTY_FOUR_HOUR_LINE in say(prompt_id)


def test_treatment_sends_people_to_the_number_and_their_teams_limit():
    text = CAT.topics["treatment"].voice.text
    assert "Paracetamol, ibuprofen and steroids can hide a fever" in text
    assert "team's temperature limit" in text
    assert "38" not in text and "Some hospitals" not in text
    assert "37.5C" in text and "36C" in text


def test_help_names_a_fever_in_treatment_as_urgent_and_sepsis_in_everyday_words():
    text = CAT.topics["help"].voice.text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    fever = next(i for i, s in enumerate(sentences) if "temperature" in s)
    assert "24-hour line" in sentences[fever] + sentences[fever + 1]
    assert "Sepsis is a dangerous reaction to an infection." in sentences
    assert "confusion" in text and "blotchy" in text


def test_no_prompt_uses_mottled_or_other_words_a_frightened_caller_may_not_know():
    texts = [p.text for p in CAT.voice_prompts().values()] + list(CAT.sms_texts().values())
    for text in texts:
        assert "mottled" not in text.lower() and "petechia" not in text.lower() and "neutropenic" not in text.lower()


def test_symptoms_say_when_not_to_wait_and_what_to_ask_the_gp():
    text = CAT.topics["symptoms"].voice.text
    assert "having treatment" in text.lower() and "24-hour line" in text
    assert "urgent blood test" in text
    assert "red or purple spots" in text
    assert re.search(r"Do not wait[^.]*bruising, bleeding or spots", text)


GIVES_111 = sorted(tid for tid, text in CAT.written_texts().items() if re.search(r"(?<!\d)(?<!\d )111(?!\d)", text))


def test_111_is_given_where_people_look_for_help():
    assert {"help_numbers", "support_closed", "sms_help", "topic.help.sms"} <= set(GIVES_111)
    assert any(part.id in GIVES_111 for part in CAT.topics["help"].parts), "a part of the help topic"


@pytest.mark.parametrize("text_id", GIVES_111)
def test_wherever_111_is_given_northern_ireland_is_told_what_to_do(text_id):
    text = CAT.written_texts()[text_id]
    assert "Northern Ireland" in text or "N. Ireland" in text or re.search(r"\bNI\b", text)


def test_the_content_check_refuses_111_without_northern_ireland(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "line.yaml", "Urgent: 111 (N. Ireland:\n    GP out-of-hours).", "Urgent: 111.")
    _, failures, _ = check(load_catalogue(prompts), {}, TODAY)
    assert any("sms_error gives 111 without the Northern Ireland alternative" in f for f in failures), failures


@pytest.mark.parametrize("body", FEVER_TEXTS)
def test_a_texted_fever_gets_the_urgent_advice_first_even_as_a_first_text(any_db_app, body):
    reply = Texter(any_db_app).send(body)
    cat = loaded(any_db_app).catalogue
    assert reply == cat.topic_sms("fever")
    first_segment = reply[:153]
    assert "24-hour line" in first_segment and "999" in first_segment


@pytest.mark.parametrize("body", ["hello", "hi there", "?"])
def test_a_first_text_gets_999_and_the_24_hour_line_in_its_first_segment(app, body):
    reply = Texter(app).send(body)
    assert reply == loaded(app).catalogue.greeting_with_menu()
    first_segment = reply[:153]
    assert "999" in first_segment and "24-hour line" in first_segment


def test_the_transfer_names_the_support_line_and_says_it_is_not_the_hospital(app, clock):
    call = Call(app)
    call.dial_in()
    clock.set(dt.datetime(2026, 12, 2, 14, tzinfo=dt.UTC))
    assert call.press("0")[0] == "transfer"
    text = CAT.prompts["transfer"].text
    assert CAT.support_line.name in text and "not your hospital" in text and "24-hour line" in text


def test_a_caller_who_says_fever_hears_the_urgent_advice(app):
    call = Call(app)
    call.dial_in()
    assert call.say("I've got a temperature")[0] == "topic.fever"


def test_the_first_weekly_text_is_the_fever_rule_and_every_text_says_how_to_stop():
    first = CAT.series[0].sms
    assert "24-hour line" in first and "999" in first and "hide a fever" in first
    for text in CAT.series:
        assert "STOP" in text.sms, text.id


def test_no_weekly_text_says_prescriptions_are_free_everywhere():
    for text in [*CAT.series, *CAT.topics.values()]:
        if "rescriptions" in text.sms:
            assert "England" in text.sms, text.id


# -- 3. promise only what happens -------------------------------------------------

def test_by_default_nobody_is_promised_a_call_back(app, clock):
    clock.set(CLOSED_TIME)
    assert not loaded(app).catalogue.callbacks.enabled
    call = Call(app)
    call.dial_in()
    assert call.press("0") == ["support_closed", "closed_options"]
    assert call.press("1") == ["wrong_key", "closed_options"]
    assert call.press("2") == ["wrong_key", "closed_options"]
    assert call.press("8") == ["text_sent", "closed_options"]
    heard_words = " ".join(CAT.prompt(pid).text for pid in ("support_closed", "closed_options"))
    assert "call you back" not in heard_words


def test_with_a_callback_team_the_offer_is_made(tmp_path, sqlite_only, app_factory, clock):
    clock.set(CLOSED_TIME)
    call = Call(app_factory(sqlite_only, PROMPTS_DIR=prompts_with_callbacks(tmp_path)))
    call.dial_in()
    assert call.press("0") == ["support_closed", "callback_offer"]


@pytest.mark.parametrize("number,allowed", [
    ("01134960000", True), ("02079460000", True), ("03069990000", True),
    ("07400123456", True), ("07512345678", True), ("07812345678", True), ("07123456789", True),
    ("09098790000", False),  # premium rate
    ("07024123456", False),  # personal number
    ("07600123456", False),  # pager
    ("07624123456", False),  # Isle of Man
    ("08456000000", False),  # shared cost
    ("08712345678", False),  # shared cost
    ("08001234567", False),  # freephone: not a person's number
    ("0207946000", False), ("123", False), ("", False),
])
def test_only_uk_landlines_and_mobiles_can_be_called_back(number, allowed):
    assert phones.is_callback_number(number) is allowed


@pytest.fixture
def at_number_entry(tmp_path, sqlite_only, app_factory, clock) -> Call:
    """A call at 3am to a line with a callback team, at "key in the number to call"."""
    clock.set(CLOSED_TIME)
    call = Call(app_factory(sqlite_only, PROMPTS_DIR=prompts_with_callbacks(tmp_path)))
    call.dial_in()
    call.press("0")
    assert call.press("2") == ["callback_enter"]
    return call


def test_a_premium_rate_number_is_refused_on_the_call(at_number_entry):
    call = at_number_entry
    assert call.press("09098790000") == ["callback_invalid", "callback_enter"]
    assert call.press("٠٢٠٧٩٤٦٠٠٠٠") == ["callback_invalid", "callback_enter"]


def test_our_support_line_is_said_only_of_a_line_the_charity_runs(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "contacts.yaml", "The Macmillan Support Line is closed now. It is open every day from 8am",
         "Our support line, the Macmillan Support Line, is open every day from 8am")
    with pytest.raises(ContentError, match="run_by_us is false"):
        load_catalogue(prompts)
    edit(prompts / "contacts.yaml", "run_by_us: false", "run_by_us: true")
    assert load_catalogue(prompts).support_line.run_by_us


def test_no_text_calls_itself_free():
    for text_id, text in CAT.sms_texts().items():
        assert not re.search(r"\bfree (line|text|service)\b|\bthis free\b", text, re.IGNORECASE), text_id


# -- 4. reviewed content ----------------------------------------------------------

@pytest.mark.parametrize("topic_id", sorted(CAT.topics))
def test_every_topic_records_its_reviewer_dates_and_sources(topic_id):
    topic = CAT.topics[topic_id]
    assert topic.review.reviewed_by and topic.review.reviewed_on < topic.review.next_review


def test_a_topic_without_a_review_is_refused(tmp_path):
    prompts = prompts_copy(tmp_path)
    path = prompts / "topics" / "risks.yaml"
    text = path.read_text()
    path.write_text(re.sub(r"review:\n(  .*\n)+", "", text, count=1))
    with pytest.raises(ContentError, match=r"prompts/topics/risks\.yaml(:\d+)?: needs a 'review'"):
        load_catalogue(prompts)


def test_a_topic_without_sources_is_refused(tmp_path):
    prompts = prompts_copy(tmp_path)
    path = prompts / "topics" / "risks.yaml"
    path.write_text(re.sub(r"sources:\n(  - .*\n)+", "sources: []\n", path.read_text(), count=1))
    with pytest.raises(ContentError, match=r"prompts/topics/risks\.yaml:\d+: 'sources' must list"):
        load_catalogue(prompts)


def test_a_topic_review_warns_sixty_days_before_and_fails_after(tmp_path):
    prompts = prompts_copy(tmp_path)
    edit(prompts / "topics" / "risks.yaml", "next_review: 2027-12-01", "next_review: 2027-03-01")
    cat = load_catalogue(prompts)
    _, failures, warnings = check(cat, {}, dt.date(2027, 2, 1))
    assert not failures
    assert any("prompts/topics/risks.yaml: topic 'risks' is due for review on 01 Mar 2027" in w for w in warnings)
    _, failures, _ = check(cat, {}, dt.date(2027, 3, 1))
    assert any("prompts/topics/risks.yaml: topic 'risks' was due for review" in f for f in failures)


# -- 5. small things a caller notices ---------------------------------------------

# A menu that follows a topic's summary is always followed by after_topic, which says it.
@pytest.mark.parametrize("prompt_id", [*(m.voice for m in CAT.menus.values() if not m.after), "after_topic"])
def test_every_menu_says_how_to_reach_a_person(prompt_id):
    assert "press 0" in say(prompt_id) or "0 to talk to someone" in say(prompt_id)


def test_callers_are_told_once_that_they_can_say_what_they_want(app):
    call = Call(app)
    heard = call.dial_in()
    told = [pid for pid in heard if "say what you want" in CAT.prompt(pid).text]
    assert told == ["keys"]


def test_the_read_back_says_you_entered():
    assert CAT.prompts["callback_read_back"].say == "You entered"


def test_the_slow_read_back_plays_the_slow_digit_clips_in_groups(at_number_entry):
    call = at_number_entry
    call.press("02079460000")
    usual = [play.text for play in call.gather.findall("Play")]
    call.press("7")
    slow = [play.text for play in call.gather.findall("Play")]
    assert "Pause" not in [child.tag for child in call.gather], "the clips carry their own gaps"

    def digits(urls):
        return [url for url in urls if url.rsplit("/", 1)[-1].startswith("digit_")]

    assert not set(digits(slow)) & set(digits(usual)), "the slow clips, not the usual ones"
    for urls, speed in ((usual, "normal"), (slow, "slow")):
        names = [url.rsplit("/", 1)[-1].split("-") for url in digits(urls)]
        assert [name[0] for name in names] == list(read_back("02079460000"))
        assert {name[1] for name in names} == {speed}


def test_a_and_e_is_never_written_into_a_spoken_form():
    for prompt_id, words in CAT.spoken_texts().items():
        assert "A&E" not in words and "&" not in words, prompt_id


def test_every_closed_line_answer_is_valid_twiml(app, clock):
    clock.set(CLOSED_TIME)
    call = Call(app)
    call.dial_in()
    call.press("0")
    for action in ("*", "#"):
        root = parse(call.twilio.post(call.gather.get("action"), dict(call.params, Digits=action)))
        assert root.find("Gather") is not None, ET.tostring(root)
    assert call.silence() == ["no_input", "closed_options"]
