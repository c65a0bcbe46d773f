"""The database: one SQLAlchemy engine per process, sessions per unit of work,
and the schema managed by Alembic."""
from __future__ import annotations

import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from sqlalchemy import bindparam, create_engine, event, exc, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class _Bound:
    """One application's engine and session factory."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)


class Database:
    """Flask-style extension: each app gets its own engine, found through ``current_app``."""

    KEY = "line_db"

    def init_app(self, app) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        app.extensions[self.KEY] = _Bound(url)

    @property
    def _bound(self) -> _Bound:
        return current_app.extensions[self.KEY]

    def engine_for(self, app) -> Engine:
        """An app's engine, outside a request (tests close it when they are done)."""
        return app.extensions[self.KEY].engine

    @property
    def engine(self) -> Engine:
        return self._bound.engine

    @contextmanager
    def session(self):
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._bound.sessions() as session, session.begin():
            yield session

    def new_session(self) -> Session:
        return self._bound.sessions()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def upgrade(self) -> None:
        upgrade(self.engine.url.render_as_string(hide_password=False))


# Each dialect's INSERT that knows ON CONFLICT.
CONFLICT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@lru_cache(maxsize=64)
def insert_ignoring(dialect: str, model, key: str, columns: tuple[str, ...]):
    """INSERT of ``columns`` (bound parameters of the same names) ... ON CONFLICT (key) DO NOTHING
    RETURNING key, built once per shape: webhooks run it for every text."""
    values = {name: bindparam(name) for name in columns}
    conflict_insert = CONFLICT_INSERTS.get(dialect)
    if conflict_insert is None:
        statement = insert(model).values(**values)
    else:
        statement = conflict_insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    # rowcount is not reliable for INSERT on every driver; a returned row is.
    return statement.returning(getattr(model, key))


def insert_ignoring_duplicates(session: Session, model, values: dict, key: str) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row is new."""
    statement = insert_ignoring(session.get_bind().dialect.name, model, key, tuple(values))
    return session.execute(statement, values).first() is not None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # hide_parameters: a failed statement's values (phone numbers) never reach the logs.
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the web process read while send-due writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL is safe against an application crash (an OS crash may lose the
            # last commits) and spares every webhook a disk flush.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5, pool_timeout=5, connect_args={"connect_timeout": 5},
                           hide_parameters=True)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is checked before use (the server may have restarted
# since); a busy connection is not: SQLAlchemy's pool_pre_ping, a round trip on every checkout,
# cost more than a webhook's own statements. A dead one found this way recycles the whole pool
# (a restart killed them all). A connection used within the second before a restart fails its
# request instead; that too recycles the pool, and a text is tried once more (sms.py).
IDLE_PING_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        record.info["returned_at"] = (id(dbapi_connection), time.monotonic())

    @event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_connection, record, _proxy) -> None:
        connection_id, returned_at = record.info.get("returned_at", (None, 0.0))
        if connection_id != id(dbapi_connection) or time.monotonic() - returned_at < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.InvalidatePoolError(f"idle connection is gone ({type(error).__name__})") from error
        if not alive:
            raise exc.InvalidatePoolError("idle connection is gone")


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


db = Database()
