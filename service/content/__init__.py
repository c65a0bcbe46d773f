"""The words of the line, from ``prompts/``: the model (``model``), the YAML reader that remembers
file and line (``reader``), the loaders (``load``) and the one checker, at two levels (``validate``).

Everything the line speaks or texts lives in YAML files under ``prompts/``. They are
loaded once at start-up and checked: a broken file stops the app with the file, the
line and the problem, never a failure on a call at 3am.

May import basics and config (docs/architecture.md).
"""
from .load import load_catalogue
from .model import (
    DAYS,
    GOODBYE_KEY,
    MAIN_MENU,
    MAX_MENU_OPTIONS,
    NEXT_PART_KEY,
    RESERVED_KEYS,
    RETURNING_KEY,
    Callbacks,
    Catalogue,
    HelpNumber,
    Menu,
    Prompt,
    Review,
    SeriesText,
    Source,
    SupportLine,
    Topic,
)
from .validate import ContentError, check, format_table, review_status

__all__ = [
    "DAYS", "GOODBYE_KEY", "MAIN_MENU", "MAX_MENU_OPTIONS", "NEXT_PART_KEY", "RESERVED_KEYS", "RETURNING_KEY",
    "Callbacks", "Catalogue",
    "ContentError", "HelpNumber", "Menu", "Prompt", "Review", "SeriesText", "Source", "SupportLine", "Topic",
    "check", "format_table", "load_catalogue", "review_status",
]
