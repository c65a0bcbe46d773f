"""The operator console's pages, under ``/admin``. Every page needs a logged-in account;
the check is made once for the whole blueprint, so a new page cannot forget it."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..basics import phones
from ..basics.clock import LONDON
from ..basics.privacy import for_operators
from ..storage.db import db
from ..web.clip_files import clip_url
from ..web.extensions import current_catalogue
from ..web.security import page_headers
from . import charts, queries
from .auth import authenticate, end_sessions, login_manager, normalise_name
from .forms import ActionForm, LoginForm
from .lockout import (
    KNOWN_BROWSER_COOKIE,
    KNOWN_BROWSER_DAYS,
    client_address,
    keys_for,
    known_browser,
    known_browser_cookie,
)

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin",
               static_folder=str(Path(__file__).resolve().parent.parent / "static" / "admin"),
               static_url_path="/static")
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.static"})
EXPIRED_FORM = "This form has expired or did not come from the console. Please try again."


@bp.before_request
def require_login():
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        if g.get("session_ended"):
            flash(g.session_ended, "info")
            return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
        return login_manager.unauthorized()
    return None


@bp.context_processor
def form_token():
    # The console checks CSRF per form (not app-wide, which would refuse Twilio's webhooks).
    return {"csrf_token": generate_csrf, "callbacks_enabled": current_catalogue().callbacks.enabled}


@bp.after_request
def console_headers(response: Response) -> Response:
    # Pages show phone numbers: never cached, never framed, never leaked in a Referer.
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return page_headers(response)


@bp.errorhandler(400)
def bad_request(error):
    return render_template("admin/error.html", title="Something went wrong", message=error.description), 400


@bp.app_template_filter("admin_london")
def london_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M")


@bp.app_template_filter("admin_count")
def count(value: int, one: str, many: str | None = None) -> str:
    """"1 call", "2 calls", "0 calls": a number with its noun."""
    return f"{value} {one if value == 1 else (many or one + 's')}"


@bp.app_template_filter("admin_percent")
def percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:g}%"


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (or the simulator, an operator tool): a login link can
    never send someone elsewhere."""
    if target:
        parts = urlsplit(target)
        inside = parts.path.startswith("/admin/") or parts.path == "/simulator"
        if not parts.scheme and not parts.netloc and inside and "\\" not in target:
            return target
    return url_for("admin.usage")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.usage"))
    form = LoginForm()
    error, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            return _attempt(form)
        elif form.csrf_token.errors:
            error, status = EXPIRED_FORM, 400
        else:
            error, status = "Enter your name and password.", 200
    return render_template("admin/login.html", title="Log in", form=form, error=error), status


def _attempt(form: LoginForm):
    """One login attempt: refused unchecked while its counts say wait; a failure counted, a success not."""
    guard = current_app.extensions["admin_lockout"]
    secret = current_app.config["SECRET_KEY"]
    browser = known_browser(secret, request.cookies.get(KNOWN_BROWSER_COOKIE))
    name = normalise_name(form.name.data)[:64]
    keys = keys_for(client_address(), name, browser)
    wait = guard.refusal(keys)
    if wait > 0:
        log.warning("console: login attempt refused, %d s to wait", math.ceil(wait))
        response = Response(render_template("admin/login.html", title="Log in", form=LoginForm(),
                                            error=f"Too many attempts to log in. Wait {_how_long(wait)}, "
                                                  "then try again."), status=429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    user = authenticate(form.name.data, form.password.data)
    if user is None:
        guard.failed(keys)
        log.warning("console: failed login")
        return render_template("admin/login.html", title="Log in", form=form, error="Wrong name or password."), 200
    guard.succeeded(keys)
    session.clear()
    session.permanent = True
    login_user(user)
    log.info("console: %s logged in", user.name)
    response = redirect(_safe_next(request.args.get("next")))
    browser_id = browser[1] if browser and browser[0] == user.name else secrets.token_hex(16)
    response.set_cookie(KNOWN_BROWSER_COOKIE, known_browser_cookie(secret, user.name, browser_id),
                        max_age=KNOWN_BROWSER_DAYS * 86400, path=url_for("admin.login"), httponly=True,
                        samesite="Strict", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def _how_long(seconds: float) -> str:
    if seconds <= 90:
        whole = math.ceil(seconds)
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


@bp.post("/logout")
def logout():
    if not ActionForm().validate_on_submit():
        abort(400, EXPIRED_FORM)
    end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("admin.login"))


@bp.get("/")
def index():
    return redirect(url_for("admin.usage"))


@bp.get("/usage")
def usage():
    with db.session() as s:
        report = queries.usage(s, current_catalogue())
    daily_calls = charts.column_chart([(d.date.strftime("%-d %b"), d.calls) for d in report.days], label_every=7)
    daily_texts = charts.column_chart([(d.date.strftime("%-d %b"), d.texts) for d in report.days], label_every=7)
    topics = charts.bar_chart([(t.label, t.voice + t.sms) for t in report.topics])
    drop_offs = charts.bar_chart([(n.label, n.hung_up) for n in report.drop_offs])
    helped = charts.bar_chart([(row.label, row.yes_share or 0) for row in report.helped])
    inputs = charts.bar_chart([("Keys pressed", report.key_presses), ("Spoken answers", report.speech_inputs)])
    speeds = charts.bar_chart([("Used slower speech", report.slow_calls),
                               ("Usual speed only", report.calls - report.slow_calls)])
    return render_template("admin/usage.html", title="Usage", active="usage", report=report,
                           daily_calls=daily_calls, daily_texts=daily_texts, topics_chart=topics,
                           drop_off_chart=drop_offs, inputs_chart=inputs, speed_chart=speeds, helped_chart=helped)


@bp.get("/usage.csv")
def usage_csv():
    with db.session() as s:
        report = queries.usage(s, current_catalogue())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(queries.CSV_COLUMNS)
    writer.writerows(day.csv_row() for day in report.days)
    filename = f"all-line-usage-{report.first_day.isoformat()}-to-{report.last_day.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.app_template_filter("admin_phone")
def phone_for_people(number: str) -> str:
    """A number as people write it (07400 123456), for the operator to dial."""
    return phones.national(number)


@bp.get("/callbacks")
def callbacks():
    cat = current_catalogue()
    retention = current_app.config["CALLBACK_RETENTION_DAYS"]
    with db.session() as s:
        open_requests = queries.callbacks(s, "open")
        done_requests = queries.callbacks(s, "done")
    topics = {tid: queries.topic_title(cat, tid) for tid in cat.topics}
    return render_template("admin/callbacks.html", title="Callback requests", active="callbacks",
                           open_requests=open_requests, done_requests=done_requests, topics=topics,
                           retention=retention, delete_after=dt.timedelta(days=retention),
                           form=ActionForm(), mask=for_operators, enabled=cat.callbacks.enabled)


@bp.post("/callbacks/<int:request_id>/done")
def callback_done(request_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, EXPIRED_FORM)
    with db.session() as s:
        found = queries.mark_callback_done(s, request_id, current_user.name)
    if found is None:
        flash("That request no longer exists (it may have been deleted).", "error")
    elif found.done_by == current_user.name:
        flash(f"Marked done: the request from the number {for_operators(found.phone)}.", "info")
    else:
        flash(f"Already marked done by {found.done_by}: the request from the number "
              f"{for_operators(found.phone)}.", "info")
    return redirect(url_for("admin.callbacks"))


@bp.get("/subscribers")
def subscribers():
    with db.session() as s:
        report = queries.subscribers(s)
    states_chart = charts.bar_chart([(state.replace("_", " "), count) for state, count in report.by_state])
    weeks_chart = charts.column_chart([(week.strftime("%-d %b"), count) for week, count in report.opt_outs_by_week],
                                      label_every=2)
    return render_template("admin/subscribers.html", title="Subscribers", active="subscribers", report=report,
                           states_chart=states_chart, weeks_chart=weeks_chart, mask=for_operators)


@bp.get("/content")
def content():
    report = queries.content(current_catalogue(), Path(current_app.config["AUDIO_DIR"]),
                             current_app.extensions.get("approvals"))
    return render_template("admin/content.html", title="Content", active="content", report=report,
                           clip_url=clip_url)
