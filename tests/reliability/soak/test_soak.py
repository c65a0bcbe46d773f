"""The soak: 200 simulated callers and texters for 60 s against the Procfile's web process.

Zero 5xx, zero invalid TwiML, every text answered exactly once (redeliveries get
nothing), every answered MessageSid recorded, no full number in the log.
"""
from __future__ import annotations

import pytest

from ...helpers import postgres_url
from .harness import temporary_database
from .run import soak

pytestmark = pytest.mark.soak


def test_200_callers_and_texters_for_60_seconds_on_sqlite(tmp_path):
    result = soak(f"sqlite:///{tmp_path / 'line.db'}", tmp_path, callers=100, texters=100, seconds=60)
    print(result["summary"])
    assert result["problems"] == [], result


def test_200_callers_and_texters_for_60_seconds_on_postgresql(tmp_path):
    server = postgres_url()
    if not server:
        pytest.skip("needs TEST_DATABASE_URL (a PostgreSQL server; a temporary database is made on it)")
    with temporary_database(server, prefix="soak") as url:
        result = soak(url, tmp_path, callers=100, texters=100, seconds=60)
    print(result["summary"])
    assert result["problems"] == [], result
