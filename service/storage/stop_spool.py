"""A STOP that survives any database outage.

When the database cannot store a STOP, the opt-out is appended to a local file (one JSON line:
the number, the time, the MessageSid), flushed to disk with fsync, and the texter is answered
with the opt-out confirmation (a 200: Twilio stops retrying, and nothing is lost). The spool is
replayed into the database at every web start and at the start of every `send-due` run, before
anything is sent; a number that texted START after its spooled STOP is left opted in.

The file holds phone numbers: it is owner-only, and emptied once replayed. Put STOP_SPOOL_PATH
on storage that outlives a restart (a platform's ephemeral disk is lost with the dyno).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..basics import clock, phones
from ..basics.privacy import masked
from . import subscriptions
from .db import db
from .models import Subscriber

log = logging.getLogger(__name__)


def spool_path(app: Flask) -> Path:
    return Path(app.config["STOP_SPOOL_PATH"])


def write(app: Flask, phone: str, message_sid: str) -> None:
    """Append one STOP and fsync it; raises OSError if it cannot be made durable."""
    path = spool_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"phone": phone, "at": clock.now().isoformat(), "sid": message_sid[:64]}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):  # the new name itself durable too, where the file system allows
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    log.error("STOP from %s could not be stored: spooled to %s, replayed when the database is back",
              masked(phone), path)


def replay(app: Flask) -> bool:
    """Store every spooled STOP; True when the spool is empty afterwards (False: the database is
    still away, and nothing may be sent until it is back)."""
    path = spool_path(app)
    if not path.is_file():
        return True
    with app.app_context(), open(path, "r+", encoding="utf-8") as spool:
        fcntl.flock(spool, fcntl.LOCK_EX)
        entries = []
        for number, raw in enumerate(spool, start=1):
            try:
                entry = json.loads(raw)
                if not phones.is_e164(entry["phone"]):
                    raise ValueError("no E.164 number")
                entries.append((entry["phone"], dt.datetime.fromisoformat(entry["at"]), entry.get("sid", "")))
            except (ValueError, KeyError, TypeError):
                log.error("%s:%d: not a spooled STOP, skipped: %r", path, number, raw[:80])
        if not entries:
            spool.truncate(0)
            return True
        try:
            with db.session() as session:
                for phone, at, sid in entries:
                    _apply(session, phone, at, sid)
        except SQLAlchemyError as error:
            log.error("%d spooled STOP(s) not yet stored (%s): kept in %s", len(entries), type(error).__name__, path)
            return False
        spool.seek(0)
        spool.truncate(0)
        os.fsync(spool.fileno())
    log.warning("replayed %d spooled STOP(s) into the database", len(entries))
    return True


def _apply(session, phone: str, at: dt.datetime, sid: str) -> None:
    found = session.scalars(select(Subscriber).where(Subscriber.phone == phone)).first()
    if found is not None and found.state != "opted_out" and found.updated_at > at:
        log.info("spooled STOP %s from %s: the number has texted since (START?), left as it is", sid, masked(phone))
        return
    subscriptions.opt_out(session, phone)
