"""What the console shows, computed from the tables. Pure reads (except marking a
callback done and purging old ones); every date is a Europe/London date.

Usage is summarised per session (a call, or one inbound text): one row per
session comes back from the database and is grouped by day here, which keeps
the SQL the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, case, delete, distinct, func, select, update
from sqlalchemy.orm import Session

from ..audio.manifest import MANIFEST_NAME, Manifest, ManifestError, ManifestMissing
from ..basics import clock
from ..basics.clock import LONDON
from ..content import MAIN_MENU, Catalogue, review_status
from ..content.approvals import Approval, Summary, summarise
from ..storage.models import CallbackRequest, OutboxMessage, Subscriber, UsageEvent
from . import helped as helped_report

USAGE_DAYS = 30
OPT_OUT_WEEKS = 12
SUBSCRIBER_STATES = ("none", "pending", "active", "finished", "opted_out")
OUTBOX_STATES = ("queued", "sending", "sent", "delivered", "failed", "parked", "cancelled")
CSV_COLUMNS = ("date", "calls", "callers", "texts", "key_presses", "speech_inputs",
               "calls_with_slow_speech", "calls_hung_up", "helped_yes", "helped_no")


def london_today() -> dt.date:
    return clock.now().astimezone(LONDON).date()


def london_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant a London day starts (DST-aware)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# -- usage ---------------------------------------------------------------

@dataclass(frozen=True)
class SessionSummary:
    channel: str
    session_hash: str
    caller_hash: str
    day: dt.date
    keys: int
    speech: int
    slow: bool
    ended_by_line: bool
    last_node: str | None


@dataclass
class DayRow:
    date: dt.date
    calls: int = 0
    callers: int = 0
    texts: int = 0
    key_presses: int = 0
    speech_inputs: int = 0
    calls_with_slow_speech: int = 0
    calls_hung_up: int = 0
    # Answers to "did this help?" given that day.
    helped_yes: int = 0
    helped_no: int = 0

    def csv_row(self) -> list:
        return [self.date.isoformat(), *(getattr(self, name) for name in CSV_COLUMNS[1:])]


@dataclass
class NodeRow:
    node: str
    label: str
    kind: str  # "menu", "topic" or "other"
    voice: int = 0
    sms: int = 0
    hung_up: int = 0

    @property
    def hang_up_share(self) -> float | None:
        return share(self.hung_up, self.voice)


@dataclass
class Usage:
    first_day: dt.date
    last_day: dt.date
    days: list[DayRow]
    topics: list[NodeRow]
    drop_offs: list[NodeRow]
    calls: int
    texts: int
    key_presses: int
    speech_inputs: int
    slow_calls: int
    calls_hung_up: int
    helped: list[helped_report.HelpedRow]

    @property
    def helped_yes(self) -> int:
        return sum(row.yes for row in self.helped)

    @property
    def helped_no(self) -> int:
        return sum(row.no for row in self.helped)

    @property
    def speech_share(self) -> float | None:
        return share(self.speech_inputs, self.key_presses + self.speech_inputs)

    @property
    def key_share(self) -> float | None:
        return share(self.key_presses, self.key_presses + self.speech_inputs)

    @property
    def slow_share(self) -> float | None:
        return share(self.slow_calls, self.calls)

    @property
    def usual_speed_share(self) -> float | None:
        return share(self.calls - self.slow_calls, self.calls)


def usage_window(days: int = USAGE_DAYS) -> tuple[dt.date, dt.date]:
    last = london_today()
    return last - dt.timedelta(days=days - 1), last


def session_summaries(session: Session, since: dt.datetime) -> list[SessionSummary]:
    ev = UsageEvent
    totals = (
        select(
            ev.channel, ev.session_hash,
            func.min(ev.caller_hash).label("caller_hash"),
            func.min(ev.occurred_at).label("started_at"),
            func.sum(case((ev.event == "key", 1), else_=0)).label("keys"),
            func.sum(case((ev.event == "speech", 1), else_=0)).label("speech"),
            func.max(case((and_(ev.event == "reached", ev.detail == "slow"), 1), else_=0)).label("slow"),
            func.max(case((ev.event == "ended", 1), else_=0)).label("ended"),
        )
        .where(ev.occurred_at >= since)
        .group_by(ev.channel, ev.session_hash)
    )
    ranked = (
        select(ev.session_hash, ev.node,
               func.row_number().over(partition_by=ev.session_hash,
                                      order_by=(ev.occurred_at.desc(), ev.id.desc())).label("position"))
        .where(ev.occurred_at >= since, ev.channel == "voice")
        .subquery()
    )
    last_nodes = dict(session.execute(
        select(ranked.c.session_hash, ranked.c.node).where(ranked.c.position == 1)).all())
    found = []
    for row in session.execute(totals):
        started = row.started_at
        found.append(SessionSummary(
            channel=row.channel, session_hash=row.session_hash, caller_hash=row.caller_hash,
            day=started.astimezone(LONDON).date(), keys=int(row.keys or 0), speech=int(row.speech or 0),
            slow=bool(row.slow), ended_by_line=bool(row.ended),
            last_node=last_nodes.get(row.session_hash) if row.channel == "voice" else None))
    return found


def topic_title(cat: Catalogue, topic_id: str | None) -> str:
    """A topic's title as written (the title may be a prompt with a spoken form)."""
    topic = cat.topics.get(topic_id or "")
    if topic is None:
        return topic_id or "none"
    return getattr(topic.title, "text", topic.title)


# The node a call's usage events name while it is being put through (voice.py records it).
TRANSFER_NODE = "transfer"


def node_label(cat: Catalogue, node: str) -> tuple[str, str]:
    """A person's name for a menu or topic id, and which it is."""
    if node in cat.topics:
        return topic_title(cat, node), "topic"
    if node == MAIN_MENU:
        return "Main menu", "menu"
    if node == TRANSFER_NODE:
        return "During a transfer to the support line", "transfer"
    if node in cat.menus:
        for key, target in cat.menus[MAIN_MENU].options:
            if target == node:
                return f"Menu {key} ({node})", "menu"
        return f"Menu {node!r}", "menu"
    return node, "other"


def usage(session: Session, cat: Catalogue, days: int = USAGE_DAYS) -> Usage:
    first_day, last_day = usage_window(days)
    summaries = session_summaries(session, london_midnight(first_day))
    by_day = {first_day + dt.timedelta(days=i): DayRow(first_day + dt.timedelta(days=i)) for i in range(days)}
    callers_by_day: dict[dt.date, set[str]] = defaultdict(set)
    hung_up_at: Counter[str] = Counter()
    for summary in summaries:
        row = by_day.get(summary.day)
        if row is None:
            continue
        if summary.channel == "sms":
            row.texts += 1
            continue
        if summary.channel != "voice":
            continue
        row.calls += 1
        callers_by_day[summary.day].add(summary.caller_hash)
        row.key_presses += summary.keys
        row.speech_inputs += summary.speech
        row.calls_with_slow_speech += summary.slow
        if not summary.ended_by_line:
            row.calls_hung_up += 1
            hung_up_at[summary.last_node or "(before any menu)"] += 1
    for day, callers in callers_by_day.items():
        by_day[day].callers = len(callers)
    for day, (yes, no) in helped_report.by_day(session, first_day).items():
        if day in by_day:
            by_day[day].helped_yes, by_day[day].helped_no = yes, no

    reached = session.execute(
        select(UsageEvent.channel, UsageEvent.node, func.count(distinct(UsageEvent.session_hash)))
        .where(UsageEvent.event == "reached", UsageEvent.node.is_not(None),
               UsageEvent.occurred_at >= london_midnight(first_day))
        .group_by(UsageEvent.channel, UsageEvent.node)
    ).all()
    nodes: dict[str, NodeRow] = {}

    def node_row(node: str) -> NodeRow:
        if node not in nodes:
            label, kind = node_label(cat, node)
            nodes[node] = NodeRow(node, label, kind)
        return nodes[node]

    for channel, node, sessions in reached:
        if channel in ("voice", "sms"):
            setattr(node_row(node), channel, getattr(node_row(node), channel) + sessions)
    for node, count in hung_up_at.items():
        node_row(node).hung_up = count

    rows = list(by_day.values())
    topics = sorted((n for n in nodes.values() if n.kind == "topic"), key=lambda n: (-(n.voice + n.sms), n.label))
    drop_offs = sorted((n for n in nodes.values() if n.hung_up), key=lambda n: (n.kind != "menu", -n.hung_up, n.label))
    return Usage(
        first_day=first_day, last_day=last_day, days=rows, topics=topics, drop_offs=drop_offs,
        calls=sum(r.calls for r in rows), texts=sum(r.texts for r in rows),
        key_presses=sum(r.key_presses for r in rows), speech_inputs=sum(r.speech_inputs for r in rows),
        slow_calls=sum(r.calls_with_slow_speech for r in rows), calls_hung_up=sum(r.calls_hung_up for r in rows),
        helped=helped_report.by_topic(session, first_day, lambda topic: topic_title(cat, topic)),
    )


# -- callback requests -----------------------------------------------------

def callbacks(session: Session, state: str) -> list[CallbackRequest]:
    order = CallbackRequest.created_at if state == "open" else CallbackRequest.done_at.desc()
    return list(session.scalars(select(CallbackRequest).where(CallbackRequest.state == state)
                                .order_by(order, CallbackRequest.id)))


def mark_callback_done(session: Session, request_id: int, by: str) -> CallbackRequest | None:
    """Mark an open request done; None when there is no such request. Marking twice keeps the first."""
    session.execute(update(CallbackRequest)
                    .where(CallbackRequest.id == request_id, CallbackRequest.state == "open")
                    .values(state="done", done_at=clock.now(), done_by=by[:64]))
    return session.get(CallbackRequest, request_id, populate_existing=True)


def purge_callbacks(session: Session, retention_days: int) -> int:
    """Delete requests marked done more than ``retention_days`` ago; how many went."""
    cutoff = clock.now() - dt.timedelta(days=retention_days)
    result = session.execute(delete(CallbackRequest)
                             .where(CallbackRequest.state == "done", CallbackRequest.done_at < cutoff))
    return result.rowcount or 0


# -- subscribers -------------------------------------------------------------

@dataclass
class Subscribers:
    by_state: list[tuple[str, int]]
    opt_outs_by_week: list[tuple[dt.date, int]]
    outbox_by_state: list[tuple[str, int]]
    parked: list[OutboxMessage]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def subscribers(session: Session, weeks: int = OPT_OUT_WEEKS) -> Subscribers:
    counts = dict(session.execute(select(Subscriber.state, func.count()).group_by(Subscriber.state)).all())
    by_state = [(state, counts.pop(state, 0)) for state in SUBSCRIBER_STATES] + sorted(counts.items())
    this_week = week_start(london_today())
    first_week = this_week - dt.timedelta(weeks=weeks - 1)
    opt_outs = Counter(
        week_start(at.astimezone(LONDON).date())
        for at in session.scalars(select(Subscriber.opted_out_at)
                                  .where(Subscriber.opted_out_at >= london_midnight(first_week)))
    )
    weekly = [(first_week + dt.timedelta(weeks=i), opt_outs.get(first_week + dt.timedelta(weeks=i), 0))
              for i in range(weeks)]
    outbox = dict(session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    outbox_by_state = [(state, outbox.pop(state, 0)) for state in OUTBOX_STATES] + sorted(outbox.items())
    parked = list(session.scalars(select(OutboxMessage).where(OutboxMessage.state == "parked")
                                  .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc()).limit(200)))
    return Subscribers(by_state, weekly, outbox_by_state, parked)


# -- content -------------------------------------------------------------------

@dataclass(frozen=True)
class Clip:
    file: str
    seconds: float | None


@dataclass(frozen=True)
class PromptRow:
    id: str
    text: str
    say: str
    normal: Clip | None
    slow: Clip | None
    engine: str | None
    status: str  # "current", "stale" (the words changed since the build), "missing", "spoken live"


@dataclass(frozen=True)
class TopicReview:
    id: str
    title: str
    reviewed_by: str
    reviewed_on: dt.date
    next_review: dt.date
    status: str  # content.review_status: "current", "due soon", "overdue"
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ContentReport:
    prompts: list[PromptRow]
    built_at: dt.datetime | None
    built_at_source: str
    manifest_problem: str | None
    reviews: list[TopicReview]
    # Every prompt's approval (None: the approvals file could not be read at start-up).
    approvals: Summary | None = None


def _clip(entry: dict | None) -> Clip | None:
    if not isinstance(entry, dict) or not entry.get("file"):
        return None
    seconds = entry.get("seconds")
    return Clip(str(entry["file"]), float(seconds) if isinstance(seconds, int | float) else None)


def content(cat: Catalogue, audio_dir: Path, approvals: dict[str, Approval] | None = None) -> ContentReport:
    """Every voice prompt with its clip, from ``audio/manifest.json`` as it is now."""
    manifest_path = Path(audio_dir) / MANIFEST_NAME
    problem = None
    try:
        manifest = Manifest.load(audio_dir)
    except ManifestMissing:
        manifest = Manifest.empty(audio_dir)
        problem = f"No audio manifest at {manifest_path}: every prompt is spoken live."
    except ManifestError as error:
        manifest = Manifest.empty(audio_dir)
        problem = f"The audio manifest at {manifest_path} cannot be read ({error.__cause__ or error})."
    rows = []
    for prompt_id, prompt in sorted(cat.voice_prompts().items()):
        entry = manifest.entry(prompt_id)
        entry = entry if isinstance(entry, dict) else {}
        clips = entry.get("clips") if isinstance(entry.get("clips"), dict) else {}
        rows.append(PromptRow(prompt_id, prompt.text, prompt.say, _clip(clips.get("normal")),
                              _clip(clips.get("slow")), entry.get("engine"), manifest.status(prompt_id, prompt.say)))
    built_at, source = manifest.built_at()
    today = london_today()
    reviews = [TopicReview(t.id, t.title.text, t.review.reviewed_by, t.review.reviewed_on, t.review.next_review,
                           review_status(t.review.next_review, today), t.sources)
               for t in sorted(cat.topics.values(), key=lambda t: t.review.next_review)]
    summary = summarise(cat, approvals, today) if approvals is not None else None
    return ContentReport(rows, built_at, source, problem, reviews, summary)
