"""`flask --app service sms send-due`: take due texts out of the outbox and send them.

At most once per row. A row moves queued -> sending (claimed under a token
unique to this batch) -> send_started_at is committed -> Twilio is asked ->
sent. If a worker dies after claiming but before starting, the row goes back
to the queue; if it dies after starting, nobody can know whether Twilio got
it, so the row is parked with that reason instead of being sent twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import Counter

import requests
from flask import Flask
from sqlalchemy import case, select, update
from sqlalchemy.exc import SQLAlchemyError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from ..basics import phones
from ..basics.clock import LONDON, now
from ..basics.privacy import masked
from ..storage import stop_spool, subscriptions
from ..storage.db import db
from ..storage.delivery import UNSUBSCRIBED
from ..storage.models import OutboxMessage, Subscriber
from ..web.extensions import loaded

log = logging.getLogger(__name__)

SERIES_HOURS = (dt.time(9, 0), dt.time(20, 0))
STALE_CLAIM = dt.timedelta(minutes=10)
RETRY_BASE = dt.timedelta(seconds=60)
RETRY_CAP = dt.timedelta(hours=1)
# A caller waiting for "text me this" goes before the weekly series.
SEND_ORDER = (case((OutboxMessage.kind == "text_me", 0), else_=1), OutboxMessage.due_at, OutboxMessage.id)


class SenderConfigError(RuntimeError):
    pass


def make_client(config: dict) -> Client:
    """The real Twilio REST client, pointed at TWILIO_API_URL (a local fake in tests and demos)."""
    missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(name)]
    if not (config.get("TWILIO_PHONE_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID")):
        missing.append("TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise SenderConfigError("cannot send texts: set " + ", ".join(missing))
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=15))
    client.api.base_url = config["TWILIO_API_URL"]
    return client


def in_series_hours(moment: dt.datetime) -> bool:
    local = moment.astimezone(LONDON).time()
    return SERIES_HOURS[0] <= local < SERIES_HOURS[1]


def never_reached_twilio(error: requests.exceptions.RequestException) -> bool:
    """True only when the connection was never made (refused, DNS, connect timeout): then the
    request cannot have reached Twilio and a retry cannot double a text. A reset or a read
    timeout after the request was written may follow a send, so those are not retried."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.exceptions.ConnectionError):
        return False
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)


def retry_delay(attempts: int) -> dt.timedelta:
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


class Sender:
    def __init__(self, app: Flask, client: Client | None = None, name: str = "worker",
                 stop: threading.Event | None = None):
        self.app = app
        self.config = app.config
        self.client = client or make_client(app.config)
        self.name = name
        self.stop = stop or threading.Event()
        self.counts: Counter = Counter()
        self.interval = 1.0 / float(app.config["SEND_RATE_PER_SECOND"])
        self._last_send = 0.0
        self.status_callback = self._status_callback_url()

    def _status_callback_url(self) -> str | None:
        base = self.config.get("PUBLIC_BASE_URL")
        if not base:
            log.warning("PUBLIC_BASE_URL is not set: texts are sent without a delivery StatusCallback")
            return None
        with self.app.test_request_context(base_url=base):
            from ..web.urls import external_url

            return external_url("sms.delivery_status")

    # -- the loop ------------------------------------------------------------
    def run_once(self) -> Counter:
        """Send everything due now, then return the counts."""
        # A STOP spooled while the database was away is stored before anything is sent; while it
        # cannot be, nothing is sent at all.
        if not stop_spool.replay(self.app):
            return self.counts
        with self.app.app_context():
            self.recover_stale_claims()
            while not self.stop.is_set():
                token, rows = self.claim()
                if not rows:
                    break
                for index, row_id in enumerate(rows):
                    if self.stop.is_set():
                        self.release(token, rows[index:])
                        break
                    self.send_one(token, row_id)
        return self.counts

    def run_forever(self, idle_seconds: float) -> Counter:
        """The worker loop: a database or network fault is logged and tried again, never fatal."""
        while not self.stop.is_set():
            try:
                self.run_once()
            except SQLAlchemyError as error:
                log.error("send-due: database fault (%s); trying again in %.0f s", type(error).__name__,
                          idle_seconds)
            self.stop.wait(idle_seconds)
        return self.counts

    # -- claiming ------------------------------------------------------------
    def claim(self) -> tuple[str, list[int]]:
        token = f"{self.name}-{uuid.uuid4().hex[:12]}"
        moment = now()
        with db.session() as session:
            query = (select(OutboxMessage.id)
                     .where(OutboxMessage.state.in_(("queued", "failed")), OutboxMessage.due_at <= moment)
                     .order_by(*SEND_ORDER)
                     .limit(self.config["SEND_BATCH_SIZE"]))
            if not in_series_hours(moment):
                query = query.where(OutboxMessage.kind != "series")
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = session.scalars(query).all()
            if ids:
                # The state condition makes the claim safe without row locks too (SQLite).
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.state.in_(("queued", "failed")))
                    .values(state="sending", claimed_by=token, claimed_at=moment, send_started_at=None))
        with db.session() as session:
            claimed = session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.claimed_by == token, OutboxMessage.state == "sending")
                .order_by(*SEND_ORDER)).all()
        return token, list(claimed)

    def release(self, token: str, row_ids: list[int]) -> None:
        """Stopping: give back rows this batch claimed but never started."""
        with db.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.claimed_by == token,
                       OutboxMessage.state == "sending", OutboxMessage.send_started_at.is_(None))
                .values(state="queued", claimed_by=None, claimed_at=None))

    def recover_stale_claims(self) -> None:
        cutoff = now() - STALE_CLAIM
        with db.session() as session:
            requeued = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < cutoff,
                       OutboxMessage.send_started_at.is_(None))
                .values(state="queued", claimed_by=None, claimed_at=None)).rowcount
            unknown = session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < cutoff,
                       OutboxMessage.send_started_at.is_not(None))).all()
        for row_id in unknown:
            self._park(None, row_id, "a worker stopped while asking Twilio to send this; "
                                     "it may or may not have gone, so it is not sent again", stale_before=cutoff)
        if requeued or unknown:
            log.warning("stale claims: %d requeued (never tried), %d parked (outcome unknown)",
                        requeued, len(unknown))
        if requeued:
            self.counts["requeued"] += requeued

    # -- sending one -----------------------------------------------------------
    def _throttle(self) -> None:
        wait = self._last_send + self.interval - time.monotonic()
        if wait > 0:
            self.stop.wait(wait)
        self._last_send = time.monotonic()

    def send_one(self, token: str, row_id: int) -> None:
        # Throttle first, so the at-most-once window below covers only the request itself.
        self._throttle()
        moment = now()
        opted_out = (select(Subscriber.id)
                     .where(Subscriber.phone == OutboxMessage.to_number, Subscriber.state == "opted_out")
                     .exists())
        with db.session() as session:
            # One conditional UPDATE: still ours, not cancelled, number not opted out. Atomic on
            # SQLite and PostgreSQL alike, so a STOP committed before it always wins.
            started = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == "sending",
                       OutboxMessage.claimed_by == token, ~opted_out)
                .values(send_started_at=moment)).rowcount
            row = session.get(OutboxMessage, row_id)
            if not started:
                if row is not None and row.state == "sending" and row.claimed_by == token:
                    row.state, row.last_error = "cancelled", "opted out"
                    self.counts["cancelled"] += 1
                else:
                    self.counts["skipped"] += 1  # cancelled by STOP or taken over: never send
                return
            to_number, body = row.to_number, row.body
        if not phones.in_countries(to_number, self.config["ALLOWED_COUNTRY_CODES"]):
            self._park(token, row_id, "the number is outside ALLOWED_COUNTRY_CODES; not sent")
            return
        params = {"to": to_number, "body": body}
        if self.config.get("TWILIO_MESSAGING_SERVICE_SID"):
            params["messaging_service_sid"] = self.config["TWILIO_MESSAGING_SERVICE_SID"]
        else:
            params["from_"] = self.config["TWILIO_PHONE_NUMBER"]
        if self.status_callback:
            params["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as error:
            self._failed(token, row_id, error)
            return
        except requests.exceptions.RequestException as error:
            if never_reached_twilio(error):
                self._retry(token, row_id, f"could not reach Twilio: {type(error).__name__}")
                return
            self._park(token, row_id, f"no answer from Twilio ({type(error).__name__}); it may have been sent")
            return
        self._sent(row_id, message.sid)

    # Lock order everywhere: subscriber first, then outbox rows (as STOP does), so
    # a STOP and a sender finishing can never deadlock each other.
    def _lock(self, session, row_id: int) -> tuple[Subscriber | None, OutboxMessage]:
        subscriber_id = session.scalar(select(OutboxMessage.subscriber_id).where(OutboxMessage.id == row_id))
        subscriber = (session.get(Subscriber, subscriber_id, with_for_update=True)
                      if subscriber_id is not None else None)
        return subscriber, session.get(OutboxMessage, row_id, with_for_update=True)

    def _advance_series(self, session, subscriber: Subscriber | None, row: OutboxMessage,
                        moment: dt.datetime) -> None:
        """A series text is done with (sent, or parked for good): the next is due a week later."""
        if row.kind == "series" and subscriber is not None and row.series_position is not None:
            subscriptions.series_text_sent(session, loaded(self.app).catalogue, subscriber,
                                           row.series_position, moment)

    def _sent(self, row_id: int, sid: str) -> None:
        moment = now()
        with db.session() as session:
            subscriber, row = self._lock(session, row_id)
            # Sent is sent, even if a STOP arrived while Twilio was answering: the record must be true.
            row.state, row.sent_at, row.twilio_sid = "sent", moment, sid
            self._advance_series(session, subscriber, row, moment)
        self.counts["sent"] += 1

    def _still_ours(self, row: OutboxMessage, token: str) -> bool:
        """A STOP may have cancelled the row while Twilio was answering: leave it cancelled."""
        if row.state == "sending" and row.claimed_by == token:
            return True
        self.counts["skipped"] += 1
        return False

    def _retry(self, token: str, row_id: int, reason: str) -> None:
        with db.session() as session:
            subscriber, row = self._lock(session, row_id)
            if not self._still_ours(row, token):
                return
            row.attempts += 1
            row.send_started_at = None
            if row.attempts >= self.config["SEND_MAX_ATTEMPTS"]:
                row.state = "parked"
                row.last_error = f"gave up after {row.attempts} tries: {reason}"
                self._advance_series(session, subscriber, row, now())
                self.counts["parked"] += 1
            else:
                row.state = "failed"
                row.last_error = reason
                row.due_at = now() + retry_delay(row.attempts)
                self.counts["retried"] += 1
            state = row.state
        log.warning("text %d not sent (%s); %s", row_id, reason, "will retry" if state == "failed" else "parked")

    def _park(self, token: str | None, row_id: int, reason: str, stale_before: dt.datetime | None = None) -> None:
        with db.session() as session:
            subscriber, row = self._lock(session, row_id)
            if token is not None and not self._still_ours(row, token):
                return
            if stale_before is not None and not (
                    row.state == "sending" and row.send_started_at is not None and row.claimed_at < stale_before):
                return  # its worker finished it after all (sent, or cancelled by STOP)
            row.state, row.last_error = "parked", reason
            self._advance_series(session, subscriber, row, now())
        self.counts["parked"] += 1
        log.error("text %d parked: %s", row_id, reason)

    def _failed(self, token: str, row_id: int, error: TwilioRestException) -> None:
        # Twilio's message can quote the number; only status and code reach the log and the row.
        reason = f"Twilio HTTP {error.status} error {error.code}"
        if error.code == UNSUBSCRIBED:
            with db.session() as session:
                to_number = session.scalar(select(OutboxMessage.to_number).where(OutboxMessage.id == row_id))
                subscriptions.opt_out(session, to_number)  # locks the subscriber, then the rows
                row = session.get(OutboxMessage, row_id)
                row.last_error = f"{reason}: unsubscribed at the carrier; opted out"
                log.info("text %d: %s has opted out at the carrier (%d)", row_id, masked(to_number), UNSUBSCRIBED)
            self.counts["cancelled"] += 1
        elif error.status == 429 or error.status >= 500:
            self._retry(token, row_id, reason)
        else:
            self._park(token, row_id, reason)
