"""Usage events off the request path: the in-memory queue and its writer."""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from service.storage.event_buffer import EventBuffer
from service.storage.models import Base, UsageEvent

TABLE = UsageEvent.__table__


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'events.db'}")
    Base.metadata.create_all(engine, tables=[TABLE])
    yield engine
    engine.dispose()


def row(n: int) -> dict:
    import datetime as dt
    return {"channel": "voice", "caller_hash": f"{n:064x}", "session_hash": f"{n:064x}", "event": "reached",
            "node": "main", "detail": None, "occurred_at": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}


def written(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(TABLE))


def test_rows_wait_in_memory_until_a_batch_is_written(engine):
    buffer = EventBuffer(lambda: engine, TABLE, interval=3600)
    for n in range(25):
        buffer.add(row(n))
    assert written(engine) == 0 and buffer.pending() == 25
    assert buffer.flush() == 25
    assert written(engine) == 25 and buffer.pending() == 0
    assert buffer.flush() == 0


def test_the_writer_thread_writes_without_being_asked(engine):
    buffer = EventBuffer(lambda: engine, TABLE, interval=0.05)
    for n in range(10):
        buffer.add(row(n))
    deadline = time.monotonic() + 30
    while written(engine) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written(engine) == 10
    buffer.close()


def test_a_database_fault_keeps_the_rows_for_the_next_try(engine):
    down = [True]

    def engine_or_fault():
        if down[0]:
            raise OperationalError("connect", {}, Exception("server closed the connection"))
        return engine

    buffer = EventBuffer(engine_or_fault, TABLE, interval=3600)
    buffer.add(row(1))
    assert buffer.flush() == 0
    buffer.add(row(2))
    assert buffer.pending() == 2
    down[0] = False
    assert buffer.flush() == 2
    with engine.connect() as connection:
        order = connection.scalars(select(TABLE.c.caller_hash).order_by(TABLE.c.id)).all()
    assert order == [f"{1:064x}", f"{2:064x}"], "the older rows first, as they happened"


def test_while_the_database_is_away_memory_is_bounded_and_the_oldest_go(engine, caplog):
    buffer = EventBuffer(lambda: engine, TABLE, interval=3600, max_pending=5)
    for n in range(8):
        buffer.add(row(n))
    assert buffer.pending() == 5 and buffer.dropped == 3
    assert caplog.text.count("dropped so far") == 1, "said once, not for every row"
    buffer.flush()
    with engine.connect() as connection:
        kept = connection.scalars(select(TABLE.c.caller_hash)).all()
    assert sorted(kept) == [f"{n:064x}" for n in range(3, 8)]


def test_close_writes_what_is_left(engine):
    buffer = EventBuffer(lambda: engine, TABLE, interval=3600)
    buffer.add(row(1))
    buffer.close()
    assert written(engine) == 1


def _child_adds_one_and_exits(buffer: EventBuffer) -> None:
    buffer.add(row(99))
    buffer.close()


def test_a_forked_worker_writes_its_own_rows_never_its_parents(engine):
    buffer = EventBuffer(lambda: engine, TABLE, interval=3600)
    buffer.add(row(1))
    child = multiprocessing.get_context("fork").Process(target=_child_adds_one_and_exits, args=(buffer,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    engine.dispose()
    with engine.connect() as connection:
        assert connection.scalars(select(TABLE.c.caller_hash)).all() == [f"{99:064x}"]
    assert buffer.pending() == 1
    buffer.close()
    assert written(engine) == 2


def test_a_row_the_database_refuses_is_dropped_alone_and_never_holds_up_the_rest(engine, caplog):
    buffer = EventBuffer(lambda: engine, TABLE, interval=3600)
    buffer.add(row(1))
    buffer.add(dict(row(2), channel=None))  # NOT NULL: refused, every time
    buffer.add(row(3))
    assert buffer.flush() == 2
    assert buffer.pending() == 0 and buffer.dropped == 1
    assert "1 refused by the database and dropped" in caplog.text
    buffer.add(row(4))
    assert buffer.flush() == 1 and written(engine) == 3


def test_a_clean_exit_waits_for_the_batch_the_writer_is_writing(engine):
    writing = threading.Event()

    def slow_for_the_writer():
        if threading.current_thread().name.startswith("write-"):
            writing.set()
            time.sleep(0.5)
        return engine

    buffer = EventBuffer(slow_for_the_writer, TABLE, interval=0.05)
    for n in range(12):
        buffer.add(row(n))
    assert writing.wait(30), "the writer took a batch"
    buffer.close()
    assert written(engine) == 12
