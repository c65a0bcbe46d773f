"""Rows written off the request path: kept in memory, written by a background thread in batches.

For anonymous usage events only, which a caller must never wait for. Anything that must not
be lost (a STOP, an opt-in, a delivery id, an outbox row) is written in the request's own
transaction instead.

The bound: a batch is written every ``interval`` seconds (0.25 by default), so a process that
is killed loses at most the last second of rows; a clean exit (gunicorn's SIGTERM, the end of
a ``flask`` command) waits for a batch being written and writes everything left. While the
database cannot be reached, rows wait in memory (at most ``max_pending``; the oldest beyond
that are dropped, and said so in the log) and a killed process loses all that wait. A row the
database refuses (not a lost connection: a value it will never take) is dropped on its own and
logged, so it can never hold up the rows behind it.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.25
# After a database fault, wait before trying again: the writer must not hammer a dead server.
RETRY_AFTER_FAULT_SECONDS = 5.0
MAX_PENDING = 100_000
# A fault is logged at most this often (the writer tries every few seconds).
LOG_EVERY_SECONDS = 60.0
# The database is away or the connection broke: the rows are kept and tried again.
AWAY = (OperationalError, InterfaceError, DisconnectionError)
_buffers: weakref.WeakSet[EventBuffer] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for buffer in list(_buffers):
        buffer._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class EventBuffer:
    """A per-process queue of rows for one table, written in batches by a daemon thread.

    Safe across ``fork`` (gunicorn ``--preload`` builds the app before forking its workers):
    each process starts its own writer on its first row, and never writes its parent's rows."""

    def __init__(self, engine: Callable[[], Engine], table: Table, *, interval: float = INTERVAL_SECONDS,
                 max_pending: int = MAX_PENDING, durable: bool = False):
        self._engine = engine
        self.table = table
        self.interval = interval
        self.max_pending = max_pending
        # Usage counts may lose their last instant in a database server crash: a caller never
        # waits for a disk flush for them (PostgreSQL synchronous_commit off for these batches).
        self.durable = durable
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        # Held while a batch is written: a clean exit waits for the writer's batch to land.
        self._flush_lock = threading.Lock()
        self._rows: deque[dict] = deque(maxlen=max_pending)
        self._pid: int | None = None
        self._stopped = threading.Event()
        self._retry_at = 0.0
        self.dropped = 0
        self._next_log = {"dropped": 0.0, "away": 0.0}
        _buffers.add(self)

    def _after_fork(self) -> None:
        # A lock held by another thread at fork time would stay held in the child for ever.
        self._start_lock = threading.Lock()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()

    def _log_now(self, kind: str) -> bool:
        if time.monotonic() < self._next_log[kind]:
            return False
        self._next_log[kind] = time.monotonic() + LOG_EVERY_SECONDS
        return True

    def add(self, row: dict) -> None:
        """Queue one row; never touches the database."""
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._start()
        with self._lock:
            if len(self._rows) == self.max_pending:
                # The deque drops its oldest row to take this one.
                self.dropped += 1
                if self._log_now("dropped"):
                    log.error("usage events: %d dropped so far, the database has not taken them (%d waiting)",
                              self.dropped, self.max_pending)
            self._rows.append(row)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows) if self._pid == os.getpid() else 0

    def flush(self) -> int:
        """Write what is waiting, now; returns the rows written (0 while the database is away: they
        wait for the next try)."""
        with self._flush_lock:
            with self._lock:
                if self._pid != os.getpid():
                    return 0
                rows = list(self._rows)
                self._rows.clear()
            if not rows:
                return 0
            try:
                self._write(rows)
            except AWAY as error:
                self._keep(rows, error)
                return 0
            except SQLAlchemyError:
                return self._one_by_one(rows)
            return len(rows)

    def _write(self, rows: list[dict]) -> None:
        with self._engine().begin() as connection:
            if not self.durable and connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            connection.execute(insert(self.table), rows)

    def _keep(self, rows: list[dict], error: Exception) -> None:
        """The database is away: the rows go back in front of any newer ones, for the next try."""
        with self._lock:
            newer = list(self._rows)
            self._rows.clear()
            self._rows.extend(rows[-self.max_pending:])
            self._rows.extend(newer)
        self._retry_at = time.monotonic() + RETRY_AFTER_FAULT_SECONDS
        if self._log_now("away"):
            log.error("usage events: %d not written yet (%s); trying again every %.0f s", len(rows),
                      type(error).__name__, RETRY_AFTER_FAULT_SECONDS)

    def _one_by_one(self, rows: list[dict]) -> int:
        """The database refused the batch: write the rows one at a time and drop those it refuses."""
        written, refused = 0, []
        for row in rows:
            try:
                self._write([row])
                written += 1
            except AWAY as error:
                self._keep(rows[written + len(refused):], error)
                break
            except SQLAlchemyError as error:
                refused.append(type(error).__name__)
        if refused:
            self.dropped += len(refused)
            log.error("usage events: %d refused by the database and dropped (%s)", len(refused), refused[0])
        return written

    def close(self) -> None:
        """Stop the writer and write what is left (at a clean exit); waits for a batch being written."""
        self._stopped.set()
        self._retry_at = 0.0
        self.flush()

    def _start(self) -> None:
        # A new process (or the first row): its own lock, queue and writer; the parent's rows are the parent's.
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._rows = deque(maxlen=self.max_pending)
        self._stopped = threading.Event()
        self._retry_at = 0.0
        self._pid = os.getpid()
        # The writer holds the buffer weakly: a buffer nobody uses any more (an app a test has
        # finished with) is collected, and its writer ends.
        threading.Thread(target=_write_batches, args=(weakref.ref(self), self._stopped, self.interval),
                         name=f"write-{self.table.name}", daemon=True).start()
        atexit.register(_close_at_exit, weakref.ref(self))

    def _write_due(self) -> None:
        if time.monotonic() >= self._retry_at:
            try:
                self.flush()
            except Exception:  # the writer must outlive anything one batch can throw
                log.exception("usage events: the writer failed; it carries on")


def _write_batches(ref: weakref.ref, stopped: threading.Event, interval: float) -> None:
    while not stopped.wait(interval):
        buffer = ref()
        if buffer is None:
            return
        buffer._write_due()
        del buffer


def _close_at_exit(ref: weakref.ref) -> None:
    buffer = ref()
    if buffer is not None:
        buffer.close()
