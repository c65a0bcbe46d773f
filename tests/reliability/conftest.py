"""Fixtures of the reliability runs, which start the line's own processes (the Procfile's web
process, `send-due`) against a database of their own."""
from __future__ import annotations

import pytest

from ..helpers import postgres_url
from .soak.harness import temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database_url(request, tmp_path):
    """A fresh database on each engine the line runs on: a SQLite file, or (with TEST_DATABASE_URL)
    a PostgreSQL database made for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'line.db'}"
        return
    server = postgres_url()
    if not server:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (`.ci/run` sets it)")
    with temporary_database(server) as url:
        yield url
