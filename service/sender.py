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
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import subscriptions
from .analytics import masked
from .clock import now
from .db import db
from .models import OutboxMessage, Subscriber

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
SERIES_HOURS = (dt.time(9, 0), dt.time(20, 0))
STALE_CLAIM = dt.timedelta(minutes=10)
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
UNSUBSCRIBED = 21610  # Twilio: the recipient has opted out (STOP) at the carrier.


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
            from .signatures import external_url

            return external_url("sms.delivery_status")

    # -- the loop ------------------------------------------------------------
    def run_once(self) -> Counter:
        """Send everything due now, then return the counts."""
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
                     .order_by(OutboxMessage.due_at, OutboxMessage.id)
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
                .order_by(OutboxMessage.due_at, OutboxMessage.id)).all()
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
            parked = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < cutoff,
                       OutboxMessage.send_started_at.is_not(None))
                .values(state="parked", last_error="a worker stopped while asking Twilio to send this; "
                                                   "it may or may not have gone, so it is not sent again")).rowcount
        if requeued or parked:
            log.warning("stale claims: %d requeued (never tried), %d parked (outcome unknown)", requeued, parked)
        if requeued:
            self.counts["requeued"] += requeued
        if parked:
            self.counts["parked"] += parked

    # -- sending one -----------------------------------------------------------
    def _throttle(self) -> None:
        wait = self._last_send + self.interval - time.monotonic()
        if wait > 0:
            self.stop.wait(wait)
        self._last_send = time.monotonic()

    def send_one(self, token: str, row_id: int) -> None:
        with db.session() as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.state != "sending" or row.claimed_by != token:
                # Cancelled (STOP) or taken over after the claim: never send.
                self.counts["skipped"] += 1
                return
            subscriber = session.scalars(select(Subscriber).where(Subscriber.phone == row.to_number)).first()
            if subscriber is not None and subscriber.state == "opted_out":
                row.state, row.last_error = "cancelled", "opted out"
                self.counts["cancelled"] += 1
                return
            row.send_started_at = now()
            to_number, body = row.to_number, row.body
        self._throttle()
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
            self._failed(row_id, error)
            return
        except requests.exceptions.ConnectionError as error:
            if isinstance(error, requests.exceptions.ConnectTimeout) or not isinstance(
                    error, requests.exceptions.Timeout):
                # The request never reached Twilio: safe to try again.
                self._retry(row_id, f"could not reach Twilio: {type(error).__name__}")
                return
            self._park(row_id, f"no answer from Twilio ({type(error).__name__}); it may have been sent")
            return
        except requests.exceptions.RequestException as error:
            self._park(row_id, f"no answer from Twilio ({type(error).__name__}); it may have been sent")
            return
        self._sent(row_id, message.sid)

    def _sent(self, row_id: int, sid: str) -> None:
        cat = self.app.extensions["line.catalogue"]
        moment = now()
        with db.session() as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            # Sent is sent, even if a STOP arrived while Twilio was answering: the record must be true.
            row.state, row.sent_at, row.twilio_sid = "sent", moment, sid
            if row.kind == "series" and row.subscriber_id is not None:
                subscriber = session.get(Subscriber, row.subscriber_id, with_for_update=True)
                subscriptions.series_text_sent(session, cat, subscriber, row.series_position, moment)
        self.counts["sent"] += 1

    def _retry(self, row_id: int, reason: str) -> None:
        with db.session() as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            row.attempts += 1
            row.last_error = reason
            row.send_started_at = None
            if row.attempts >= self.config["SEND_MAX_ATTEMPTS"]:
                row.state = "parked"
                row.last_error = f"gave up after {row.attempts} tries: {reason}"
                self.counts["parked"] += 1
            else:
                row.state = "failed"
                row.due_at = now() + retry_delay(row.attempts)
                self.counts["retried"] += 1
        log.warning("text %d not sent (%s); %s", row_id, reason, "will retry" if row.state == "failed" else "parked")

    def _park(self, row_id: int, reason: str) -> None:
        with db.session() as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            row.state, row.last_error = "parked", reason
        self.counts["parked"] += 1
        log.error("text %d parked: %s", row_id, reason)

    def _failed(self, row_id: int, error: TwilioRestException) -> None:
        reason = f"Twilio HTTP {error.status} error {error.code}: {error.msg}"[:500]
        if error.code == UNSUBSCRIBED:
            with db.session() as session:
                row = session.get(OutboxMessage, row_id, with_for_update=True)
                subscriptions.opt_out(session, row.to_number)
                row.state, row.last_error = "cancelled", reason
                log.info("text %d: %s has opted out at the carrier (21610)", row_id, masked(row.to_number))
            self.counts["cancelled"] += 1
        elif error.status == 429 or error.status >= 500:
            self._retry(row_id, reason)
        else:
            self._park(row_id, reason)
