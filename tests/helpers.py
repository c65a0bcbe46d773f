"""Helpers the tests share (the fixtures are in conftest.py): the test line's numbers and token,
a client that signs requests as Twilio does, a caller and a texter driven by the simulator's own
driver (``service.simulator.phone``), databases, and edits to a copy of the prompts."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

from sqlalchemy import MetaData, create_engine
from twilio.request_validator import RequestValidator

from service import admin
from service.admin.auth import create_user
from service.basics import gsm
from service.config import PROJECT_ROOT, normalise_database_url
from service.simulator import phone
from service.storage.db import db, upgrade
from service.storage.models import UsageEvent

TOKEN = "12345678901234567890123456789012"  # digits only: must stay a string
PUBLIC = "https://line.example.org"
# `make run`'s origin: development mode is refused beside a public one.
DEV_ORIGIN = "http://127.0.0.1:5000"
CALLER = "+447400123456"  # a valid UK mobile
LANDLINE = "+442079460000"
LINE_NUMBER = "+441632960000"
# A Wednesday afternoon in winter (London = UTC): the support line is open.
OPEN_TIME = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
# A Wednesday at 3am: closed.
CLOSED_TIME = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)


# Texts about a fever in treatment, as people write them: each must get the urgent advice first.
FEVER_TEXTS = ["my temp is 39 and I feel awful", "high temperature on chemo", "FEVER", "I have a fever",
               "feeling very unwell", "shivering and feel terrible", "temperature 38.2 what do I do",
               "yes I have a fever", "I think I have sepsis", "feverish after chemo"]


# -- Twilio's side -------------------------------------------------------------------

class Twilio:
    """Posts to the app exactly as Twilio would: form-encoded and signed."""

    def __init__(self, app, token: str = TOKEN):
        self.app = app
        self.client = app.test_client()
        self.validator = RequestValidator(token)

    def post(self, url: str, params: dict, signature: str | None = None, headers: dict | None = None):
        """``url`` is absolute on the public origin, or a path."""
        if url.startswith("/"):
            url = PUBLIC + url
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = self.validator.compute_signature(url, params) if signature is None else signature
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": sig, **(headers or {})})


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


class Call:
    """A caller, driven by the simulator's call driver; each action returns the prompt ids heard."""

    def __init__(self, app, caller: str = CALLER, call_sid: str = "CA" + "a" * 32, through_parts: bool = True):
        line = phone.Line(app)
        # through_parts=False: each part of a topic is its own step (to press 6 or star between them).
        self.driver = phone.Call(line, caller, call_sid, through_parts)
        self.twilio = Twilio(app)
        self.cat = line.catalogue
        self.params = self.driver.params()
        self.told_part_keys = False

    # -- actions --------------------------------------------------------
    def dial_in(self) -> list[str]:
        return self._heard(self.driver.dial_in())

    def press(self, key: str) -> list[str]:
        return self._heard(self.driver.answer(Digits=key))

    def say(self, words: str) -> list[str]:
        return self._heard(self.driver.answer(SpeechResult=words, Confidence="0.9"))

    def silence(self) -> list[str]:
        return self._heard(self.driver.answer())

    def dial_ends(self, status: str) -> list[str]:
        assert self.root.find("Dial") is not None, "no <Dial> to end"
        return self._heard(self.driver.transfer_ended(answered=status == "completed"))

    def _heard(self, step: phone.CallStep) -> list[str]:
        """Prompt ids in the order played, inside and outside the Gather."""
        for heard in step.heard:
            assert heard.prompt_id is not None, f"unknown words spoken: {heard.text!r}"
        ids = [heard.prompt_id for heard in step.heard]
        if "part_keys" in ids:
            # Said once a call after a topic's first part: noted here, so tests compare the topic alone.
            assert not self.told_part_keys, "the keys for parts were told twice on one call"
            self.told_part_keys = True
            ids.remove("part_keys")
        return ids

    # -- what the caller gets ------------------------------------------------
    @property
    def root(self) -> ET.Element:
        return self.driver.document

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def state(self) -> dict:
        query = urllib.parse.urlsplit(self.gather.get("action")).query
        return dict(urllib.parse.parse_qsl(query))

    @property
    def hung_up(self) -> bool:
        return self.root.find("Hangup") is not None

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]


class Texter:
    """Someone texting, driven by the simulator's texter; every reply must fit two GSM-7 segments."""

    def __init__(self, app, number: str = CALLER):
        self.app = app
        self.twilio = Twilio(app)
        self.number = number
        self.driver = phone.Texter(phone.Line(app), number)
        self.cat = self.driver.line.catalogue

    def send(self, body: str, sid: str | None = None, **extra) -> str | None:
        replies = self.driver.send(body, sid, **extra)
        assert len(replies) <= 1
        if not replies:
            return None
        assert gsm.fits(replies[0]), f"reply does not fit two GSM-7 segments: {replies[0]!r}"
        return replies[0]


# -- the console ----------------------------------------------------------------------

NAME = "sam"
PASSWORD = "tidal plum orchard 42"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def with_console(app):
    """The console on a test app (create_app registers it once it is wired in)."""
    if "admin" not in app.blueprints:
        admin.init_app(app)
    return app


def make_user(app, name: str = NAME, password: str = PASSWORD) -> None:
    with app.app_context():
        create_user(name, password)


def csrf_token(client, path: str = "/admin/login") -> str:
    page = client.get(path)
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(app, client=None, name: str = NAME, password: str = PASSWORD):
    client = client or app.test_client()
    response = client.post("/admin/login", data={"name": name, "password": password,
                                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def seed(app, *rows) -> None:
    with app.app_context(), db.session() as session:
        session.add_all(rows)


def event(channel, session_hash, name, node=None, detail=None, at=OPEN_TIME, caller="caller-x"):
    return UsageEvent(channel=channel, caller_hash=caller, session_hash=session_hash, event=name, node=node,
                      detail=detail, occurred_at=at)


def seed_usage(app) -> None:
    day_before = OPEN_TIME - dt.timedelta(days=1)
    seed(
        app,
        # Call A: a topic by keys, then the line said goodbye.
        event("voice", "call-a", "reached", "main"),
        event("voice", "call-a", "key", "main", "1"),
        event("voice", "call-a", "reached", "symptoms"),
        event("voice", "call-a", "key", "symptoms", "9"),
        event("voice", "call-a", "ended", "symptoms"),
        # Call B, same caller: slower speech, spoke, hung up while hearing treatment.
        event("voice", "call-b", "reached", "main", "slow", at=OPEN_TIME + dt.timedelta(minutes=5)),
        event("voice", "call-b", "speech", "main", at=OPEN_TIME + dt.timedelta(minutes=6)),
        event("voice", "call-b", "reached", "treatment", "slow", at=OPEN_TIME + dt.timedelta(minutes=6)),
        # Call C, the day before, another caller: hung up in the "about" menu.
        event("voice", "call-c", "reached", "main", at=day_before, caller="caller-y"),
        event("voice", "call-c", "key", "main", "4", at=day_before, caller="caller-y"),
        event("voice", "call-c", "reached", "about", at=day_before, caller="caller-y"),
        event("voice", "call-c", "silence", "about", at=day_before + dt.timedelta(seconds=8), caller="caller-y"),
        # Call D, 31 days ago: outside the window.
        event("voice", "call-d", "reached", "main", at=OPEN_TIME - dt.timedelta(days=31)),
        # Texts: one reached a topic today, one said something else yesterday.
        event("sms", "sms-1", "reached", "symptoms"),
        event("sms", "sms-2", "text", None, at=day_before, caller="caller-z"),
    )


# -- databases ------------------------------------------------------------------------

_prepared: set[str] = set()


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


def prepare_database(url: str) -> None:
    """Build the schema with the real migrations, once per database per test run."""
    if url in _prepared:
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        # Every table there, not just the models': a run of an older schema may have left others.
        existing = MetaData()
        existing.reflect(conn)
        existing.drop_all(conn)
    engine.dispose()
    upgrade(url)
    _prepared.add(url)


def empty_database(url: str) -> None:
    engine = create_engine(url)
    existing = MetaData()
    with engine.begin() as conn:
        existing.reflect(conn)
        for table in reversed(existing.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())
    engine.dispose()


# -- prompts and words ------------------------------------------------------------------

# 150 words a minute: the pace the line's timing rules are written for.
WORDS_PER_SECOND = 2.5


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a file; fails if it is not there (a test must edit what it means to)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def prompts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "prompts"
    if not target.exists():
        shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


def prompts_with_callbacks(tmp_path: Path) -> Path:
    """The shipped prompts with call-back requests switched on (a charity with a callback team)."""
    prompts = prompts_copy(tmp_path)
    contacts = prompts / "contacts.yaml"
    text = contacts.read_text()
    assert "\n  enabled: false\n" in text
    contacts.write_text(text.replace("\n  enabled: false\n", "\n  enabled: true\n", 1))
    return prompts


def spoken_words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def words_until(text: str, phrase: str) -> int:
    """Words spoken up to the end of the first ``phrase`` (all of them for ""); fails if it is not there."""
    words = spoken_words(text)
    wanted = spoken_words(phrase)
    if not wanted:
        return len(words)
    for start in range(len(words) - len(wanted) + 1):
        if words[start:start + len(wanted)] == wanted:
            return start + len(wanted)
    raise AssertionError(f"{phrase!r} is never said in {text!r}")


def seconds_until(text: str, phrase: str) -> float:
    """Seconds from the start of ``text`` to the end of ``phrase`` at 150 words a minute."""
    return words_until(text, phrase) / WORDS_PER_SECOND


def after(cat, topic_id: str) -> list[str]:
    """What a caller hears after a topic's summary: the menu that follows it, if any, then the options."""
    more = cat.follow_ons.get(topic_id)
    return [*([more.voice] if more else []), "after_topic"]


def parts(cat, topic_id: str) -> list[str]:
    """A topic's parts, as heard one after another by a caller who just listens."""
    return [part.id for part in cat.topics[topic_id].parts]


def again(cat, topic_id: str) -> list[str]:
    """Star at a topic's options: its last part again, then the options (star twice: the part before)."""
    return [cat.topics[topic_id].parts[-1].id, *after(cat, topic_id)]


def summary(cat, topic_id: str) -> list[str]:
    """A topic as heard on arriving by a caller who just listens: every part, then what follows
    it (the once-a-call "part_keys" is left out by ``Call``: see ``Call.told_part_keys``)."""
    return [*parts(cat, topic_id), *after(cat, topic_id)]


def topic_paths(cat) -> list[tuple[tuple[str, ...], str]]:
    """(keys, topic) for every way a caller can press their way from the main menu to a topic."""
    paths = []
    for key, target in cat.menus["main"].options:
        if target in cat.topics:
            paths.append(((key,), target))
            more = cat.follow_ons.get(target)
            for sub_key, sub_target in more.options if more else ():
                paths.append(((key, sub_key), sub_target))
        else:
            for sub_key, sub_target in cat.menus[target].options:
                paths.append(((key, sub_key), sub_target))
    return paths
