"""A review pack a clinician opens offline: every prompt's words in every form side by side, both
clips, the sources, the review dates, the approval state, and a word-level diff of anything
changed since it was approved. One folder: ``index.html``, ``pack.css`` and ``audio/``."""
from __future__ import annotations

import datetime as dt
import difflib
import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .approvals import Approval, State, Summary
from .model import Catalogue

FORM_LABELS = {"title": "Title (written)", "title_spoken": "Title (spoken)", "text": "Written",
               "spoken": "Spoken (what the voice reads)", "sms": "Text message"}


@dataclass
class Entry:
    state: State
    anchor: str
    heading: str
    forms: list[tuple[str, str, Markup | None]]  # label, current words, diff against the approved words
    clips: list[tuple[str, str]]  # speed label, relative path
    sources: tuple[str, ...]
    reviewed_on: dt.date | None
    next_review: dt.date | None


def word_diff(approved: str, current: str) -> Markup:
    """The current words with deletions struck through and insertions marked, word by word."""
    # A part break is a word of its own ("¶"), so moving where a topic splits shows in the diff.
    old, new = approved.replace("\n", " ¶ ").split(), current.replace("\n", " ¶ ").split()
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(new[b1:b2])))
            continue
        if a2 > a1:
            out.append(f"<del>{html.escape(' '.join(old[a1:a2]))}</del>")
        if b2 > b1:
            out.append(f"<ins>{html.escape(' '.join(new[b1:b2]))}</ins>")
    return Markup(" ".join(out))  # noqa: S704 (every word in it went through html.escape)


def entries(cat: Catalogue, summary: Summary, clips: dict[str, dict[str, str]]) -> list[Entry]:
    found = []
    for state in summary.states:
        unit = state.unit
        approval: Approval | None = state.approval
        forms = []
        for form, words in unit.forms.items():
            diff = None
            if approval and form in state.changed_forms and form in approval.forms:
                diff = word_diff(approval.forms[form][1], words)
            forms.append((FORM_LABELS.get(form, form), words, diff))
        topic = cat.topics.get(unit.prompt_id.removeprefix("topic.")) if unit.prompt_id.startswith("topic.") else None
        heading = f"{topic.title.text} ({unit.prompt_id})" if topic else unit.prompt_id
        # A topic is heard in parts: each part's clips, at each speed.
        heard = [part.id for part in topic.parts] if topic else [unit.prompt_id]
        listen = [(f"part {n}, {label}" if len(heard) > 1 else label, clips[pid][key])
                  for n, pid in enumerate(heard, 1)
                  for key, label in (("normal", "usual speed"), ("slow", "slow")) if key in clips.get(pid, {})]
        found.append(Entry(state, re.sub(r"[^a-z0-9]+", "-", unit.prompt_id.lower()), heading, forms, listen,
                           topic.sources if topic else (), topic.review.reviewed_on if topic else None,
                           unit.next_review))
    return found


def write(target: Path, render, cat: Catalogue, summary: Summary, manifest: dict, audio_dir: Path,
          today: dt.date) -> Path:
    """Write the pack into ``target`` (created; an existing pack there is replaced) and return index.html."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    (target / "audio").mkdir(exist_ok=True)
    clips: dict[str, dict[str, str]] = {}
    spoken = cat.spoken_texts()
    for prompt_id, record in (manifest.get("prompts") or {}).items():
        # Only a clip made from today's words: an old clip beside new words would mislead a reviewer.
        if record.get("text") != spoken.get(prompt_id):
            continue
        for speed, clip in (record.get("clips") or {}).items():
            source = Path(audio_dir) / clip["file"]
            if source.is_file():
                shutil.copyfile(source, target / "audio" / clip["file"])
                clips.setdefault(prompt_id, {})[speed] = f"audio/{clip['file']}"
    items = entries(cat, summary, clips)
    sections = [
        ("Topics", [e for e in items if e.state.unit.prompt_id.startswith("topic.")]),
        ("What every caller hears (line.yaml)", [e for e in items if e.state.unit.where == "prompts/line.yaml"
                                                 and not e.state.unit.prompt_id.startswith("sms_")]),
        ("Texts (line.yaml)", [e for e in items if e.state.unit.prompt_id.startswith("sms_")]),
        ("The closed line and call-backs (contacts.yaml)", [e for e in items
                                                            if e.state.unit.where == "prompts/contacts.yaml"]),
        ("The weekly texts (series.yaml)", [e for e in items if e.state.unit.where == "prompts/series.yaml"]),
    ]
    page = render(sections=sections, summary=summary, today=today)
    index = target / "index.html"
    index.write_text(page, encoding="utf-8")
    (target / "pack.css").write_text(CSS, encoding="utf-8")
    return index


CSS = """\
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0 auto; max-width: 72rem; padding: 1rem;
       color: #111; background: #fff; }
a { color: #0b4f9c; }
a:focus, audio:focus, summary:focus { outline: 3px solid #c60; outline-offset: 2px; }
.forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.form { border: 1px solid #666; border-radius: 4px; padding: 0.5rem 0.75rem; }
.form h4 { margin: 0 0 0.25rem; font-size: 1rem; }
.state-approved { color: #0a5d1a; } .state-changed { color: #8a1c00; } .state-never { color: #8a1c00; }
del { background: #fde2e2; color: #6b0000; } ins { background: #dff5e1; color: #064d14; text-decoration: underline; }
table { border-collapse: collapse; } th, td { border: 1px solid #666; padding: 0.25rem 0.5rem; text-align: left; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; }
section.prompt { border-top: 2px solid #333; margin-top: 1.5rem; page-break-inside: avoid; }
@media print { audio, .skip, nav.toc { display: none; } a[href^="http"]::after { content: " (" attr(href) ")"; }
               section.prompt { page-break-inside: avoid; } }
"""
