"""`make soak` runs these (LINE_SOAK=1); `make test` skips them, as they take minutes."""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: long load and fault runs, only with LINE_SOAK=1 (`make soak`)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LINE_SOAK") == "1":
        return
    skip = pytest.mark.skip(reason="a soak run: `make soak` (LINE_SOAK=1) runs it")
    for item in items:
        if item.get_closest_marker("soak"):
            item.add_marker(skip)
