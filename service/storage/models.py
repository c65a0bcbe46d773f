"""Tables, the console's accounts among them. Times are stored as UTC; phone numbers in E.164,
and only where a text must be sent to them (subscribers, outbox) or a person called back
(callback requests). Analytics keep a salted hash."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..basics.clock import UTC
from ..basics.clock import now as clock_now


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, on SQLite (which has no time zones) and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class Subscriber(Base):
    """A phone number that has texted about the weekly series, or opted out."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    # none, pending (asked to JOIN, not yet YES), active, finished, opted_out
    state: Mapped[str] = mapped_column(String(16), default="none")
    series_position: Mapped[int] = mapped_column(Integer, default=0)
    next_send_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    joined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now, onupdate=clock_now)


class ProcessedMessage(Base):
    """Inbound MessageSids already answered: Twilio may deliver a message twice."""

    __tablename__ = "processed_messages"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)


class SmsSession(Base):
    """The SMS menu a texter is in, keyed by a salted hash of their number."""

    __tablename__ = "sms_sessions"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    menu: Mapped[str] = mapped_column(String(32))
    # The last topic texted to them: MORE leads on to what follows it.
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The last reply asked "did this help?" about that topic (so a 1 or 2 answers it), and the
    # London day it was last asked: a number is asked at most once a week.
    asking: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    asked_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now, onupdate=clock_now)


class OutboxMessage(Base):
    """Every text sent later than the webhook reply. The only path to the Twilio REST API."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: the same cause (a series step, a topic on a call) can never queue twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Indexed: STOP cancels by number, and a worker reads back its claim by token.
    to_number: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"))
    series_position: Mapped[int | None] = mapped_column(Integer)
    # queued, sending, sent, delivered, failed (will retry), parked, cancelled
    state: Mapped[str] = mapped_column(String(12), default="queued")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set, and committed, just before the request to Twilio: a row in "sending" without it
    # was never tried and may be requeued; with it, the outcome is unknown and it is parked.
    send_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)


class UsageEvent(Base):
    """Anonymous usage: what was reached and where people left. Never a phone number."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_occurred", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)
    channel: Mapped[str] = mapped_column(String(8))
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(16))
    node: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(32))


class CallbackRequest(Base):
    """A caller asked to be called back while the support line was closed.

    It must hold the number; it is deleted a set time after it is marked done.
    """

    __tablename__ = "callback_requests"
    __table_args__ = (Index("ix_callback_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(32))
    call_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # open, done
    state: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))


class ReturningCaller(Base):
    """A caller who agreed to be offered their last topic next time (30 days), by hash only."""

    __tablename__ = "returning_callers"

    caller_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))
    remembered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now, index=True)


class AdminUser(Base):
    """A person who may use the operator console. Only a password hash is stored."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last console page (every SEEN_EVERY at most): a login ends after ADMIN_IDLE_MINUTES without one.
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # In every login session's cookie; a new one at each login, none after logging out.
    session_token: Mapped[str] = mapped_column(String(64), default="", server_default="")

    # Flask-Login's user protocol; every stored account may log in.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login's "alternative token": the id alone would outlive a logout.
        return f"{self.id}:{self.session_token}"


class TextAllowance(Base):
    """One "text me this" slot taken: ``call:<call>:<n>`` or ``day:<pseudonym>:<date>:<n>``.

    A slot's key is unique, so two calls pressing 8 at the same moment can never take the same
    slot: the caps hold under any concurrency. Slots older than two days are purged."""

    __tablename__ = "text_allowances"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now, index=True)


class Feedback(Base):
    """One answer to "did this help?": the topic heard last, yes or no, and the London day.
    Nothing else: no number, no call id, no time of day, so an answer cannot be tied to a call."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(32), index=True)
    helped: Mapped[bool] = mapped_column(Boolean)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
