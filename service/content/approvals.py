"""Approvals bound to the exact words: who signed off each prompt, when, and the SHA-256 of every
form of it (written, spoken, texted) as approved.

The record is ``prompts/approvals.yaml``, committed beside the content, one entry per prompt with
the approved words themselves (so a diff shows what was approved and a review pack can show what
changed since). Nothing here reads the clock or the environment: callers pass ``today``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .model import Catalogue
from .reader import Reader, YamlMapping

FILE_NAME = "approvals.yaml"
# A registration names the register and the number: NMC 12A3456E, GMC 1234567, HCPC PA12345 ...
# The whole third field, with the register's own number shape (digits required).
REGISTRATION = re.compile(r"(NMC \d{2}[A-Z]\d{4}[A-Z]|GMC \d{7}|HCPC [A-Z]{2}\d{5,6}|GPhC \d{7})")
DUE_AHEAD = dt.timedelta(days=30)

APPROVED, CHANGED, UNAPPROVED = "approved", "changed since approval", "never approved"


class ApprovalError(ValueError):
    """The approvals file is missing, malformed or names what is not there; names file and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The approvals file has problems:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Approver:
    name: str
    role: str
    registration: str = ""

    @property
    def clinical(self) -> bool:
        """A clinical approval carries a professional registration; without one it is editorial."""
        return bool(self.registration)

    def __str__(self) -> str:
        return ", ".join(part for part in (self.name, self.role, self.registration) if part)

    @classmethod
    def parse(cls, text: str) -> Approver:
        """"Name, role, registration" as typed after --by; refuses an empty or nameless approver."""
        parts = [part.strip() for part in (text or "").split(",")]
        parts = [part for part in parts if part]
        if not parts:
            raise ValueError("--by needs the approver: \"Name, role, registration\" (for example "
                             "\"Sam Patel, haematology clinical nurse specialist, NMC 12A3456E\")")
        if len(parts) == 1:
            raise ValueError(f"--by {text!r} names no role: write \"Name, role, registration\" (the registration "
                             "only for a clinician)")
        name, role, rest = parts[0], parts[1], parts[2:]
        registration = ", ".join(rest)
        if registration and not REGISTRATION.fullmatch(registration):
            raise ValueError(f"{registration!r} is not a professional registration (NMC 12A3456E, GMC 1234567, "
                             "HCPC AB12345 or GPhC 1234567); leave it out for an editorial approval")
        return cls(name, role, registration)


@dataclass(frozen=True)
class Approval:
    prompt_id: str
    approver: Approver
    approved_on: dt.date
    # form -> (sha256, the approved words)
    forms: dict[str, tuple[str, str]]
    line: int | None = None


@dataclass(frozen=True)
class Unit:
    """One approvable prompt: its id, the file it lives in, and its words in every form."""

    prompt_id: str
    where: str
    forms: dict[str, str]
    next_review: dt.date | None


@dataclass
class State:
    unit: Unit
    state: str
    approval: Approval | None
    changed_forms: tuple[str, ...] = ()
    review: str = ""  # "", "due soon" or "overdue"

    @property
    def kind(self) -> str:
        if not self.approval:
            return ""
        return "clinical" if self.approval.approver.clinical else "editorial"

    def describe(self) -> str:
        """"prompts/topics/fever.yaml: topic.fever is changed since approval (text)": the file, the id, the state."""
        changed = f" ({', '.join(self.changed_forms)})" if self.approval and self.state != APPROVED else ""
        return f"{self.unit.where}: {self.unit.prompt_id} is {self.state}{changed}"


@dataclass
class Summary:
    states: list[State] = field(default_factory=list)

    def with_state(self, state: str) -> list[State]:
        return [s for s in self.states if s.state == state]

    @property
    def not_approved(self) -> list[State]:
        return [s for s in self.states if s.state != APPROVED]

    @property
    def clinical(self) -> list[State]:
        return [s for s in self.states if s.state == APPROVED and s.kind == "clinical"]

    @property
    def editorial_only(self) -> list[State]:
        return [s for s in self.states if s.state == APPROVED and s.kind == "editorial"]

    @property
    def due(self) -> list[State]:
        return [s for s in self.states if s.review]


def digest(words: str) -> str:
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def units(cat: Catalogue) -> dict[str, Unit]:
    """Every prompt a clinician signs off, in every form a caller hears or a texter reads."""
    found: dict[str, Unit] = {}
    line_review = cat.file_reviews.get("prompts/line.yaml")
    contacts_review = cat.file_reviews.get("prompts/contacts.yaml")
    series_review = cat.file_reviews.get("prompts/series.yaml")

    def add(prompt_id: str, where: str, forms: dict[str, str], review) -> None:
        found[prompt_id] = Unit(prompt_id, where, forms, review.next_review if review else None)

    for topic in cat.topics.values():
        add(f"topic.{topic.id}", f"prompts/topics/{topic.id}.yaml",
            {"title": topic.title.text, "title_spoken": topic.title.say, "text": topic.voice.text,
             "spoken": topic.voice.say, "sms": topic.sms}, topic.review)
    for prompt in cat.prompts.values():
        forms = {"sms": prompt.text} if not prompt.is_voice else {"text": prompt.text, "spoken": prompt.say}
        add(prompt.id, "prompts/line.yaml", forms, line_review)
    add("support_closed", "prompts/contacts.yaml",
        {"text": cat.support_line.closed.text, "spoken": cat.support_line.closed.say}, contacts_review)
    add("callback_booked", "prompts/contacts.yaml",
        {"text": cat.callbacks.booked.text, "spoken": cat.callbacks.booked.say}, contacts_review)
    for text in cat.series:
        add(f"series.{text.id}", "prompts/series.yaml", {"sms": text.sms}, series_review)
    for key, value in cat.series_prompts.items():
        add(f"series.{key}", "prompts/series.yaml", {"sms": value}, series_review)
    return dict(sorted(found.items()))


def load(prompts_dir: Path, cat: Catalogue, missing_ok: bool = False) -> dict[str, Approval]:
    """Read prompts/approvals.yaml; raise ApprovalError naming the file and line of each problem.
    ``missing_ok``: no file yet is no approval yet (the first `content approve` writes it)."""
    path = Path(prompts_dir) / FILE_NAME
    shown = f"prompts/{FILE_NAME}"
    if not path.is_file() and missing_ok:
        return {}
    if not path.is_file():
        raise ApprovalError([f"{shown}: is missing; record approvals with `flask --app service content approve`"])
    reader = Reader(Path(prompts_dir))
    data = reader.load(path)
    if reader.problems:
        raise ApprovalError(reader.problems)
    if data is None or not isinstance(data.get("approvals"), YamlMapping):
        raise ApprovalError([f"{shown}:1: needs an 'approvals' mapping (prompt id: approval)"])
    known = units(cat)
    problems: list[str] = []
    found: dict[str, Approval] = {}
    entries = data["approvals"]
    for prompt_id, entry in entries.items():
        line = entries.line_of(prompt_id)
        at = f"{shown}:{line}" if line else shown
        if prompt_id not in known:
            problems.append(f"{at}: approves {prompt_id!r}, which is no prompt of the line (removed or renamed?)")
            continue
        if not isinstance(entry, YamlMapping):
            problems.append(f"{at}: {prompt_id}: must be a mapping (approved_by, approved_on, words)")
            continue
        by = entry.get("approved_by")
        try:
            approver = Approver.parse(by if isinstance(by, str) else "")
        except ValueError as error:
            problems.append(f"{at}: {prompt_id}: approved_by: {error}")
            continue
        on = entry.get("approved_on")
        if not isinstance(on, dt.date):
            problems.append(f"{at}: {prompt_id}: approved_on must be a date like 2026-12-06")
            continue
        words = entry.get("words")
        if not isinstance(words, YamlMapping) or not words:
            problems.append(f"{at}: {prompt_id}: needs 'words' (form: {{sha256, text}})")
            continue
        forms: dict[str, tuple[str, str]] = {}
        for form, spec in words.items():
            form_at = f"{shown}:{words.line_of(form) or line}"
            if not isinstance(spec, YamlMapping) or not isinstance(spec.get("sha256"), str) \
                    or not isinstance(spec.get("text"), str):
                problems.append(f"{form_at}: {prompt_id} {form}: needs sha256 and text")
                continue
            if digest(spec["text"]) != spec["sha256"]:
                problems.append(f"{form_at}: {prompt_id} {form}: sha256 does not match the approved text "
                                "(edited by hand? approve again)")
                continue
            forms[form] = (spec["sha256"], spec["text"])
        if len(forms) == len(words):
            found[prompt_id] = Approval(prompt_id, approver, on, forms, line)
    if problems:
        raise ApprovalError(problems)
    return found


def summarise(cat: Catalogue, approvals: dict[str, Approval], today: dt.date) -> Summary:
    summary = Summary()
    for prompt_id, unit in units(cat).items():
        approval = approvals.get(prompt_id)
        if approval is None:
            state, changed = UNAPPROVED, tuple(unit.forms)
        else:
            changed = tuple(form for form, words in unit.forms.items()
                            if approval.forms.get(form, ("", ""))[0] != digest(words))
            state = CHANGED if changed else APPROVED
        review = ""
        if unit.next_review is not None:
            if today >= unit.next_review:
                review = "overdue"
            elif today >= unit.next_review - DUE_AHEAD:
                review = "due soon"
        summary.states.append(State(unit, state, approval, changed, review))
    return summary


def record(prompts_dir: Path, cat: Catalogue, approvals: dict[str, Approval], prompt_ids: list[str],
           approver: Approver, today: dt.date) -> dict[str, Approval]:
    """Approve the named prompts' current words and rewrite the file (sorted, one block each)."""
    known = units(cat)
    unknown = [pid for pid in prompt_ids if pid not in known]
    if unknown:
        raise ValueError("no such prompt: " + ", ".join(unknown) + " (see `flask --app service content status`)")
    updated = dict(approvals)
    for prompt_id in prompt_ids:
        forms = {form: (digest(words), words) for form, words in known[prompt_id].forms.items()}
        updated[prompt_id] = Approval(prompt_id, approver, today, forms)
    write(Path(prompts_dir) / FILE_NAME, updated)
    return updated


HEADER = """\
# Approvals bound to the exact words (see docs/content.md, "Reviewing and approving content").
# One entry per prompt: who approved it ("Name, role, registration"; a registration such as
# NMC 12A3456E makes it a clinical approval, none an editorial one), when, and each form's words
# with their SHA-256. Written by `flask --app service content approve`; do not edit by hand:
# the release command refuses any prompt whose words differ from what was approved here.
"""


class _PlainDumper(yaml.SafeDumper):
    """No anchors and aliases: every entry reads on its own in a diff."""

    def ignore_aliases(self, data) -> bool:
        return True


def write(path: Path, approvals: dict[str, Approval]) -> None:
    body = {}
    for prompt_id in sorted(approvals):
        approval = approvals[prompt_id]
        body[prompt_id] = {
            "approved_by": str(approval.approver),
            "approved_on": approval.approved_on,
            "words": {form: {"sha256": sha, "text": text} for form, (sha, text) in approval.forms.items()},
        }
    text = yaml.dump({"approvals": body}, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(HEADER + text, encoding="utf-8")
