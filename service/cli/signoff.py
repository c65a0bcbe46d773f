"""Sign-off commands: `flask --app service content status | approve | review-pack`, and the
Procfile's `flask --app service release` (the approval gate, then the schema)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..basics import clock
from ..content.approvals import APPROVED, ApprovalError, Approver, load, record, summarise
from ..web.extensions import loaded


def _summary(missing_ok: bool = False):
    app = current_app._get_current_object()
    cat = loaded(app).catalogue
    prompts_dir = Path(app.config["PROMPTS_DIR"])
    try:
        approvals = load(prompts_dir, cat, missing_ok=missing_ok)
    except ApprovalError as error:
        raise click.ClickException(str(error)) from None
    return app, cat, prompts_dir, approvals, summarise(cat, approvals, clock.now().date())


@click.command("status")
@with_appcontext
def content_status() -> None:
    """List every prompt's approval (clinical or editorial), what changed since, and what is due."""
    _, _, _, _, summary = _summary()
    for state in summary.states:
        who = ""
        if state.approval:
            who = f"{state.kind} approval by {state.approval.approver} on {state.approval.approved_on.isoformat()}"
        changed = f" (changed: {', '.join(state.changed_forms)})" if state.state != APPROVED and state.approval else ""
        due = f"; review {state.review} ({state.unit.next_review.isoformat()})" if state.review else ""
        click.echo(f"{state.unit.prompt_id:34} {state.state}{changed}; {who or 'no approval'}{due}")
    clinical = len(summary.clinical)
    click.echo(f"\n{len(summary.states)} prompts: {clinical} approved by a clinician, "
               f"{len(summary.editorial_only)} approved editorially only, "
               f"{len(summary.with_state('changed since approval'))} changed since approval, "
               f"{len(summary.with_state('never approved'))} never approved, {len(summary.due)} due for review "
               "within 30 days or overdue")
    if summary.editorial_only or clinical < len(summary.states):
        click.echo("Clinical sign-off is still to come: a clinician approves with "
                   "`flask --app service content approve --by \"Name, role, registration\"`.")


@click.command("approve")
@click.option("--by", "by", required=True, help='The approver: "Name, role, registration" (a registration such '
                                               'as NMC 12A3456E for a clinical approval).')
@click.option("--yes", is_flag=True, help="Approve every changed prompt without asking.")
@click.option("--force", is_flag=True, help="Replace a clinical approval with an editorial one.")
@click.argument("prompt_ids", nargs=-1)
@with_appcontext
def content_approve(by: str, yes: bool, force: bool, prompt_ids: tuple[str, ...]) -> None:
    """Approve the named prompts' current words (or, with no ids, every prompt changed since approval)."""
    try:
        approver = Approver.parse(by)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--by") from None
    _, cat, prompts_dir, approvals, summary = _summary(missing_ok=True)
    ids = list(prompt_ids)
    if not ids:
        ids = [s.unit.prompt_id for s in summary.not_approved]
        if not ids:
            click.echo("every prompt is approved as it stands; name prompts to approve them again")
            return
        click.echo("Changed since approval, or never approved:")
        for state in summary.not_approved:
            click.echo(f"  {state.unit.where}: {state.unit.prompt_id} ({state.state})")
        if not yes:
            click.confirm(f"Approve these {len(ids)} prompt(s) as {approver}?", abort=True)
    downgraded = [pid for pid in ids if pid in approvals and approvals[pid].approver.clinical and not approver.clinical]
    if downgraded and not force:
        raise click.ClickException("these have a clinical approval that an editorial one would replace: "
                                   + ", ".join(downgraded) + " (add --force if that is meant)")
    try:
        record(prompts_dir, cat, approvals, ids, approver, clock.now().date())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    kind = "a clinical" if approver.clinical else "an editorial (no registration: not a clinical sign-off)"
    click.echo(f"recorded {kind} approval by {approver} for {len(ids)} prompt(s) in prompts/approvals.yaml; "
               "commit it with the content")


@click.command("review-pack")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def content_review_pack(target: Path) -> None:
    """Write a review pack (index.html, its clips and styles) into TARGET, to open offline in a browser."""
    from flask import render_template

    from ..content import review_pack

    app, cat, _, _, summary = _summary()
    audio_dir = Path(app.config["AUDIO_DIR"])
    manifest_path = audio_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    today = clock.now().date()
    index = review_pack.write(target, lambda **context: render_template("review_pack.html", **context), cat,
                              summary, manifest, audio_dir, today)
    click.echo(f"review pack written: {index} (open it in a browser; print it to PDF from there)")


@click.command("release")
@with_appcontext
def release() -> None:
    """The Procfile's release step: the approval gate (the app refused to start if words differ from
    their approval), then the schema. A failure leaves the previous release serving."""
    from ..storage.db import db

    # The gate holds here even under LINE_DEV_MODE=1: only ALLOW_UNAPPROVED_CONTENT overrides it.
    app, _, _, _, summary = _summary()
    unapproved = summary.not_approved
    if unapproved and not app.config.get("ALLOW_UNAPPROVED_CONTENT"):
        for state in unapproved:
            click.echo(state.describe(), err=True)
        raise click.ClickException(f"{len(unapproved)} prompt(s) differ from their approval: the release is refused")
    db.upgrade()
    if unapproved:
        click.echo(f"release passed with {len(unapproved)} UNAPPROVED prompt(s) (ALLOW_UNAPPROVED_CONTENT=1); "
                   "database schema is up to date")
    else:
        click.echo("release checks passed: content approved as committed; database schema is up to date")
