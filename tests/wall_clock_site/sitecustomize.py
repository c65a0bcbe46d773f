"""Test-only: the processes the tests start read the suite's pinned wall clock (tests/wall_clock.py).

Python imports this module at start-up because the tests put its folder first on PYTHONPATH. It
changes nothing until the line's clock module is imported, and then points it at the pinned wall.
Production never has this folder on its path.
"""
from __future__ import annotations

import datetime as _dt
import importlib.abc
import importlib.util
import os
import sys
import time

_TIME = os.environ.get("LINE_TEST_WALL_TIME")
_EPOCH = os.environ.get("LINE_TEST_WALL_EPOCH")


def _wall():
    start = _dt.datetime.fromisoformat(_TIME).astimezone(_dt.UTC)
    epoch = float(_EPOCH)
    return lambda: start + _dt.timedelta(seconds=time.monotonic() - epoch)


class _PinTheClock(importlib.abc.MetaPathFinder):
    """When ``service.basics.clock`` is first imported, load it as usual, then set its clock to the wall."""

    def find_spec(self, name, path=None, target=None):
        if name != "service.basics.clock":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.set_clock(_wall())

        spec.loader.exec_module = exec_module
        return spec


if _TIME and _EPOCH:
    sys.meta_path.insert(0, _PinTheClock())
