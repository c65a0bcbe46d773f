"""The hazard log (docs/safety/hazard-log.md) names the tests that prove its controls: they exist."""
from __future__ import annotations

import ast
import re

from service.config import PROJECT_ROOT

LOG = PROJECT_ROOT / "docs" / "safety" / "hazard-log.md"
FIELDS = ("Cause:", "Effect:", "Severity:", "Controls:", "Tests:", "Residual risk:")


def hazards() -> dict[str, str]:
    parts = re.split(r"^## (H\d\d .*)$", LOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_log_has_at_least_twelve_hazards_each_complete():
    found = hazards()
    assert len(found) >= 12
    for title, body in found.items():
        for field in FIELDS:
            assert f"- {field}" in body, f"{title}: no {field}"
        assert re.search(r"Likelihood before controls: (Very low|Low|Medium|High|Very high)\. Risk: [1-5]", body), title


def test_every_test_the_log_names_exists():
    named = re.findall(r"^  - (tests/[\w/]+\.py)::(\w+)$", LOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert len(named) >= 24
    for path, name in named:
        source = PROJECT_ROOT / path
        assert source.is_file(), f"{path} does not exist"
        functions = {node.name for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                     if isinstance(node, ast.FunctionDef)}
        assert name in functions, f"{path}::{name} does not exist (renamed? update docs/safety/hazard-log.md)"


def test_every_hazard_names_at_least_one_test():
    for title, body in hazards().items():
        assert re.search(r"^  - tests/", body, flags=re.MULTILINE), title
