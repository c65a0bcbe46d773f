"""A short soak in `make test`: 20 callers and texters for 5 s against the Procfile's web process,
on PostgreSQL (a temporary database on TEST_DATABASE_URL's server) where there is one, else SQLite.

The full one (200 for 60 s, on both databases) is tests/reliability/soak/test_soak.py, run by `make soak`.
"""
from __future__ import annotations

from ..helpers import postgres_url
from .soak.harness import temporary_database
from .soak.run import soak


def test_20_callers_and_texters_for_5_seconds(tmp_path):
    server = postgres_url()
    if server:
        with temporary_database(server) as url:
            result = soak(url, tmp_path, callers=10, texters=10, seconds=5)
    else:
        result = soak(f"sqlite:///{tmp_path / 'line.db'}", tmp_path, callers=10, texters=10, seconds=5)
    assert result["problems"] == [], result
