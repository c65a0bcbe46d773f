"""The release gate: no words reach production that differ from what was approved.

At every start the running app reads ``prompts/approvals.yaml`` against its catalogue. In
development (``LINE_DEV_MODE=1``: `make run`, the tests) unapproved words are allowed with a
warning. Anywhere else the app refuses to start, naming each prompt (file and id) whose words
differ from their approval, unless ALLOW_UNAPPROVED_CONTENT=1, which logs an error at every start.
The Procfile's release command (`flask --app service release`) starts the app this way, so on a
Heroku-style platform a refused release leaves the previous one serving.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from ..basics import clock
from . import ContentError
from .approvals import Approval, ApprovalError, load, summarise
from .model import Catalogue

log = logging.getLogger(__name__)
LIST_AT_MOST = 40


def gate(app: Flask, cat: Catalogue) -> dict[str, Approval] | None:
    """Check the approvals at start-up; raise ContentError where production must not start.
    Returns the approvals (None if the file cannot be read) for the console to show."""
    production = not app.config["DEV_MODE"] and not app.config.get("TESTING")
    allow = app.config.get("ALLOW_UNAPPROVED_CONTENT", False)
    try:
        approvals = load(Path(app.config["PROMPTS_DIR"]), cat)
    except ApprovalError as error:
        if production and not allow:
            raise ContentError(error.problems + ["the line will not start in production with a broken approvals "
                                                 "file (set ALLOW_UNAPPROVED_CONTENT=1 only to override)"]) from None
        (log.error if production else log.warning)("approvals unreadable, serving unapproved words%s: %s",
                                                   " (ALLOW_UNAPPROVED_CONTENT=1)" if production else "",
                                                   "; ".join(error.problems))
        return None
    summary = summarise(cat, approvals, clock.now().date())
    unapproved = summary.not_approved
    if unapproved:
        lines = [state.describe() for state in unapproved]
        if len(lines) > LIST_AT_MOST:
            lines = lines[:LIST_AT_MOST] + [f"... and {len(unapproved) - LIST_AT_MOST} more"]
        if production and not allow:
            raise ContentError(lines + [
                "these words differ from what was approved: review them and run `flask --app service content "
                "approve --by \"Name, role, registration\" ID ...` (or set ALLOW_UNAPPROVED_CONTENT=1 to serve "
                "them unapproved)"])
        level = log.error if production else log.warning
        level("%s%d prompt(s) not approved: %s", "UNAPPROVED CONTENT IN PRODUCTION (ALLOW_UNAPPROVED_CONTENT=1): "
              if production else "", len(unapproved), "; ".join(lines))
    editorial = summary.editorial_only
    if editorial:
        (log.warning if production else log.info)(
            "clinical sign-off still to come: %d of %d prompts are approved editorially only (no professional "
            "registration); see `flask --app service content status`", len(editorial), len(summary.states))
    return approvals
