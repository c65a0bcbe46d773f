"""The operator console (/admin): login, CSRF, rate limit, the figures on each page, and its commands."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from service import admin
from service.admin import queries, setup
from service.admin.auth import AccountError, create_user, password_problem
from service.config import ConfigError
from service.storage.db import db
from service.storage.models import AdminUser, CallbackRequest, OutboxMessage, Subscriber
from service.web.extensions import loaded

from ..helpers import NAME, OPEN_TIME, PASSWORD, csrf_token, event, log_in, make_user, seed, seed_usage, with_console


@pytest.fixture
def console(app):
    return with_console(app)


@pytest.fixture
def any_db_console(any_db_app):
    return with_console(any_db_app)


# -- login required everywhere -------------------------------------------------

def admin_urls(app) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in ("admin.login", "admin.static"):
            continue
        path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
        urls.extend((method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return urls


def test_every_console_page_requires_login(console):
    urls = admin_urls(console)
    assert {("GET", "/admin/usage"), ("GET", "/admin/usage.csv"), ("GET", "/admin/callbacks"),
            ("GET", "/admin/subscribers"), ("GET", "/admin/content"), ("POST", "/admin/callbacks/1/done"),
            ("POST", "/admin/logout"), ("GET", "/admin/")} <= set(urls)
    client = console.test_client()
    for method, path in urls:
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/admin/login?next="), (method, path)


def test_login_then_every_page_answers(console):
    make_user(console)
    client = log_in(console)
    for path in ("/admin/usage", "/admin/callbacks", "/admin/subscribers", "/admin/content"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        html = response.get_data(as_text=True)
        assert 'href="#main"' in html and 'id="main"' in html
        assert html.count("<h1>") == 1


def test_wrong_name_and_wrong_password_get_the_same_answer(console):
    make_user(console)
    client = console.test_client()
    answers = []
    for name, password in ((NAME, "not the password at all"), ("nobody", PASSWORD)):
        response = client.post("/admin/login", data={"name": name, "password": password,
                                                     "csrf_token": csrf_token(client)})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        answers.append(re.search(r'role="alert"[^>]*>\s*<p>([^<]+)</p>', html).group(1))
        assert client.get("/admin/usage").status_code == 302
    assert answers == ["Wrong name or password.", "Wrong name or password."]


def test_login_records_the_time_and_sets_a_strict_cookie(console, clock):
    make_user(console)
    client = console.test_client()
    response = client.post("/admin/login", data={"name": "SAM ", "password": PASSWORD,
                                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/usage"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies["session"] and "SameSite=Lax" in cookies["session"]
    known = cookies["all_line_known_browser"]
    assert "HttpOnly" in known and "SameSite=Strict" in known and "Path=/admin/login" in known
    with console.app_context(), db.session() as session:
        assert session.scalar(select(AdminUser.last_login_at)) == OPEN_TIME


def test_login_only_redirects_inside_the_console(console):
    make_user(console)
    for target, expected in (("/admin/callbacks", "/admin/callbacks"), ("https://evil.example/admin/",
                             "/admin/usage"), ("//evil.example/admin/", "/admin/usage"), ("/voice", "/admin/usage")):
        client = console.test_client()
        token = csrf_token(client)
        response = client.post(f"/admin/login?next={target}",
                               data={"name": NAME, "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == expected, target


def test_logout_ends_the_session(console):
    make_user(console)
    client = log_in(console)
    token = csrf_token(client, "/admin/usage")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/usage").status_code == 302


# -- CSRF ------------------------------------------------------------------------

def test_forms_without_a_csrf_token_are_refused(console):
    assert console.config.get("WTF_CSRF_ENABLED", True) is True
    make_user(console)
    seed(console, CallbackRequest(phone="+447400123456", topic="symptoms", call_hash="call-1"))
    anonymous = console.test_client()
    response = anonymous.post("/admin/login", data={"name": NAME, "password": PASSWORD})
    assert response.status_code == 400
    assert anonymous.get("/admin/usage").status_code == 302

    client = log_in(console)
    response = client.post("/admin/callbacks/1/done", data={})
    assert response.status_code == 400
    response = client.post("/admin/callbacks/1/done", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert client.post("/admin/logout", data={}).status_code == 400
    with console.app_context(), db.session() as session:
        assert session.get(CallbackRequest, 1).state == "open"
    assert client.get("/admin/usage").status_code == 200


def test_webhooks_need_no_csrf_token(console, twilio):
    response = twilio.post("/sms", {"MessageSid": "SM1", "From": "+447400123456", "Body": "menu"})
    assert response.status_code == 200


# -- configuration -----------------------------------------------------------------

def bare_app(tmp_path, **config) -> Flask:
    app = Flask("probe", instance_path=str(tmp_path))
    app.config.update(config)
    return app


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        setup.configure_console(bare_app(tmp_path, DEV_MODE=False))
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY is too short"):
        setup.configure_console(bare_app(tmp_path, DEV_MODE=False))


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "0" * 64)
    app = bare_app(tmp_path, DEV_MODE=False)
    setup.configure_console(app)
    assert app.config["SECRET_KEY"] == "0" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["CALLBACK_RETENTION_DAYS"] == 30


def test_development_makes_and_keeps_a_local_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = bare_app(tmp_path, DEV_MODE=True), bare_app(tmp_path, DEV_MODE=True)
    setup.configure_console(first)
    setup.configure_console(second)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SESSION_COOKIE_SECURE"] is False
    assert (tmp_path / setup.DEV_KEY_FILENAME).stat().st_mode & 0o077 == 0


def test_the_console_can_be_left_out(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = bare_app(tmp_path, DEV_MODE=False, ADMIN_CONSOLE="off")
    admin.init_app(app)
    assert "admin" not in app.blueprints and not app.config.get("SECRET_KEY")
    with pytest.raises(ConfigError, match="ADMIN_CONSOLE must be 'on', 'off' or 'auto'"):
        admin.init_app(bare_app(tmp_path, ADMIN_CONSOLE="maybe"))


def test_a_bad_retention_setting_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_RETENTION_DAYS", "thirty")
    with pytest.raises(ConfigError, match="CALLBACK_RETENTION_DAYS must be a whole number"):
        setup.configure_console(bare_app(tmp_path, TESTING=True))


# -- usage -----------------------------------------------------------------------

def test_usage_figures_from_seeded_events(any_db_console):
    app = any_db_console
    seed_usage(app)
    with app.app_context(), db.session() as session:
        report = queries.usage(session, loaded(app).catalogue)
    assert (report.first_day, report.last_day) == (dt.date(2026, 11, 3), dt.date(2026, 12, 2))
    assert len(report.days) == 30
    today, yesterday = report.days[-1], report.days[-2]
    assert (today.calls, today.callers, today.texts, today.key_presses, today.speech_inputs,
            today.calls_with_slow_speech, today.calls_hung_up) == (2, 1, 1, 2, 1, 1, 1)
    assert (yesterday.calls, yesterday.callers, yesterday.texts, yesterday.key_presses,
            yesterday.calls_hung_up) == (1, 1, 1, 1, 1)
    assert sum(day.calls for day in report.days[:-2]) == 0
    assert (report.calls, report.texts, report.key_presses, report.speech_inputs) == (3, 2, 3, 1)
    assert (report.key_share, report.speech_share) == (75.0, 25.0)
    assert (report.slow_calls, report.slow_share) == (1, 33.3)
    assert [(t.node, t.voice, t.sms) for t in report.topics] == [("symptoms", 1, 1), ("treatment", 1, 0)]
    assert [(n.node, n.kind, n.voice, n.hung_up, n.hang_up_share) for n in report.drop_offs] == [
        ("about", "menu", 1, 1, 100.0), ("treatment", "topic", 1, 1, 100.0)]
    assert report.drop_offs[0].label == "Menu 4 (about)"


def test_usage_days_are_london_days(console, clock):
    clock.set(dt.datetime(2026, 7, 2, 12, 0, tzinfo=dt.UTC))
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    seed(console, event("voice", "late", "reached", "main", at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)))
    with console.app_context(), db.session() as session:
        report = queries.usage(session, loaded(console).catalogue)
    assert {day.date: day.calls for day in report.days if day.calls} == {dt.date(2026, 7, 1): 1}


def test_usage_page_shows_charts_with_tables(console):
    seed_usage(console)
    make_user(console)
    html = log_in(console).get("/admin/usage").get_data(as_text=True)
    assert html.count('<svg role="img"') == 6  # no answers yet: that chart is not drawn
    assert html.count("<caption") == 6  # the two daily charts share one table
    assert "<strong>3 calls</strong> and\n  <strong>2 texts</strong> received" in html
    assert "Menu 4 (about)" in html
    assert "75% were keys pressed" in html and "25% were spoken" in html
    assert "1 of 3 calls (33.3%)" in html


def test_usage_csv_has_one_row_a_day(console):
    seed_usage(console)
    make_user(console)
    response = log_in(console).get("/admin/usage.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="all-line-usage-2026-11-03-to-2026-12-02.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["date", "calls", "callers", "texts", "key_presses", "speech_inputs",
                       "calls_with_slow_speech", "calls_hung_up", "helped_yes", "helped_no"]
    assert len(rows) == 31
    assert rows[1] == ["2026-11-03", "0", "0", "0", "0", "0", "0", "0", "0", "0"]
    assert rows[-2] == ["2026-12-01", "1", "1", "1", "1", "0", "0", "1", "0", "0"]
    assert rows[-1] == ["2026-12-02", "2", "1", "1", "2", "1", "1", "1", "0", "0"]


# -- callback requests -------------------------------------------------------------

def test_marking_a_callback_done_records_who_and_when(console, clock):
    make_user(console)
    make_user(console, "alex", "quiet harbour lantern 7")
    seed(console,
         CallbackRequest(phone="+447400123456", topic="symptoms", call_hash="call-1",
                         created_at=OPEN_TIME - dt.timedelta(hours=3)),
         CallbackRequest(phone="+447400999888", topic=None, call_hash="call-2"))
    client = log_in(console)
    html = client.get("/admin/callbacks").get_data(as_text=True)
    assert "Open requests (2)" in html and "07400 123456" in html and "Symptoms" in html
    clock.advance(minutes=10)
    token = csrf_token(client, "/admin/callbacks")
    response = client.post("/admin/callbacks/1/done", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Marked done: the request from the number ending 456." in html
    assert "Open requests (1)" in html and "Done requests (1)" in html
    assert "07400 123456" not in html  # a done request shows only the last digits
    with console.app_context(), db.session() as session:
        done = session.get(CallbackRequest, 1)
        assert (done.state, done.done_by, done.done_at) == ("done", NAME, OPEN_TIME + dt.timedelta(minutes=10))

    other = log_in(console, name="alex", password="quiet harbour lantern 7")
    response = other.post("/admin/callbacks/1/done", data={"csrf_token": csrf_token(other, "/admin/callbacks")},
                          follow_redirects=True)
    assert f"Already marked done by {NAME}" in response.get_data(as_text=True)
    with console.app_context(), db.session() as session:
        assert session.get(CallbackRequest, 1).done_by == NAME
    response = other.post("/admin/callbacks/99/done", data={"csrf_token": csrf_token(other, "/admin/callbacks")},
                          follow_redirects=True)
    assert "no longer exists" in response.get_data(as_text=True)


def test_purge_callbacks_deletes_done_requests_past_retention(any_db_console, clock):
    app = any_db_console
    now = OPEN_TIME
    seed(app,
         CallbackRequest(phone="+447400000001", call_hash="old-done", state="done",
                         created_at=now - dt.timedelta(days=40), done_at=now - dt.timedelta(days=31), done_by="x"),
         CallbackRequest(phone="+447400000002", call_hash="recent-done", state="done",
                         created_at=now - dt.timedelta(days=40), done_at=now - dt.timedelta(days=29), done_by="x"),
         CallbackRequest(phone="+447400000003", call_hash="old-open", created_at=now - dt.timedelta(days=100)))
    result = app.test_cli_runner().invoke(args=["admin", "purge-callbacks"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 done request(s) older than 30 days" in result.output
    with app.app_context(), db.session() as session:
        assert sorted(session.scalars(select(CallbackRequest.call_hash))) == ["old-open", "recent-done"]
    app.config["CALLBACK_RETENTION_DAYS"] = 7
    result = app.test_cli_runner().invoke(args=["admin", "purge-callbacks"])
    assert "deleted 1 done request(s) older than 7 days" in result.output
    with app.app_context(), db.session() as session:
        assert list(session.scalars(select(CallbackRequest.call_hash))) == ["old-open"]


def test_viewing_the_console_never_purges(console):
    make_user(console)
    seed(console, CallbackRequest(phone="+447400000001", call_hash="old-done", state="done",
                                  created_at=OPEN_TIME - dt.timedelta(days=90),
                                  done_at=OPEN_TIME - dt.timedelta(days=80), done_by="x"))
    client = log_in(console)
    client.get("/admin/callbacks")
    with console.app_context(), db.session() as session:
        assert session.scalar(select(CallbackRequest.call_hash)) == "old-done"


# -- subscribers -----------------------------------------------------------------

def test_subscribers_page_counts_states_opt_outs_and_parked_texts(console):
    make_user(console)
    week = dt.timedelta(weeks=1)
    seed(console,
         Subscriber(phone="+447400000011", state="active"),
         Subscriber(phone="+447400000012", state="active"),
         Subscriber(phone="+447400000013", state="pending"),
         Subscriber(phone="+447400000014", state="opted_out", opted_out_at=OPEN_TIME - dt.timedelta(hours=1)),
         Subscriber(phone="+447400000015", state="opted_out", opted_out_at=OPEN_TIME - 2 * week),
         Subscriber(phone="+447400000016", state="opted_out", opted_out_at=OPEN_TIME - 20 * week),
         OutboxMessage(dedupe_key="a", kind="series", to_number="+447400000011", body="x", state="parked",
                       due_at=OPEN_TIME, attempts=5, last_error="Twilio 503 five times"),
         OutboxMessage(dedupe_key="b", kind="text_me", to_number="+447400000012", body="x", state="sent",
                       due_at=OPEN_TIME))
    with console.app_context(), db.session() as session:
        report = queries.subscribers(session)
    assert report.by_state == [("none", 0), ("pending", 1), ("active", 2), ("finished", 0), ("opted_out", 3)]
    assert len(report.opt_outs_by_week) == 12
    # 2 December 2026 is a Wednesday: this week started on Monday 30 November.
    assert report.opt_outs_by_week[-1] == (dt.date(2026, 11, 30), 1)
    assert report.opt_outs_by_week[-3] == (dt.date(2026, 11, 16), 1)
    assert sum(count for _, count in report.opt_outs_by_week) == 2
    assert dict(report.outbox_by_state)["parked"] == 1 and dict(report.outbox_by_state)["sent"] == 1
    html = log_in(console).get("/admin/subscribers").get_data(as_text=True)
    assert "Twilio 503 five times" in html and "ending 011" in html
    assert "+447400000011" not in html and "7400000011" not in html


# -- content ---------------------------------------------------------------------

def test_content_page_lists_every_prompt_with_its_clip(console, tmp_path):
    make_user(console)
    cat = loaded(console).catalogue
    prompts = cat.voice_prompts()
    welcome = prompts["welcome"]
    manifest = {
        "format": 1, "built_at": "2026-11-28T10:15:00+00:00", "live": [],
        "prompts": {
            "welcome": {"text": welcome.say, "engine": "hibari", "voice": "heart",
                        "clips": {"normal": {"file": "welcome-normal-0123456789ab.mp3", "seconds": 7.25},
                                  "slow": {"file": "welcome-slow-0123456789ab.mp3", "seconds": 9.0}}},
            "goodbye": {"text": "words that changed", "clips": {"normal": {"file": "goodbye-normal-0123456789ab.mp3",
                                                                             "seconds": 2.0}}},
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    report = queries.content(cat, tmp_path)
    statuses = {row.id: row.status for row in report.prompts}
    assert len(report.prompts) == len(prompts)
    assert (statuses["welcome"], statuses["goodbye"], statuses["error"]) == ("current", "stale", "missing")
    assert report.built_at == dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.UTC)

    console.config["AUDIO_DIR"] = tmp_path
    console.config["AUDIO_BASE_URL"] = "https://cdn.example.org/audio"
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    assert 'src="https://cdn.example.org/audio/welcome-normal-0123456789ab.mp3"' in html
    assert "7.2 s" in html and "slower 9.0 s" in html
    assert "Sat 28 Nov 2026, 10:15 (recorded by the build)" in html
    assert html.count('<th scope="row"><code>') == len(prompts)


def test_content_page_shows_each_topics_review_status(console, clock):
    make_user(console)
    cat = loaded(console).catalogue
    review = cat.topics["risks"].review
    clock.set(dt.datetime.combine(review.next_review - dt.timedelta(days=30), dt.time(12), dt.UTC))
    report = queries.content(cat, Path(console.config["AUDIO_DIR"]))
    statuses = {row.id: row.status for row in report.reviews}
    assert set(statuses) == set(cat.topics)
    assert statuses["risks"] == "due soon"
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    assert "Topic reviews" in html and review.reviewed_by in html
    assert review.next_review.strftime("%-d %b %Y") in html and "Due soon" in html
    assert f'href="{cat.topics["risks"].sources[0]}"' in html
    clock.set(dt.datetime.combine(review.next_review, dt.time(12), dt.UTC))
    assert {row.id: row.status for row in queries.content(cat, Path(console.config["AUDIO_DIR"])).reviews}[
        "risks"] == "overdue"


def test_content_page_lists_every_prompts_approval_and_what_is_due(console, clock):
    from service.content.approvals import units

    make_user(console)
    cat = loaded(console).catalogue
    clock.set(dt.datetime(2027, 5, 10, 12, tzinfo=dt.UTC))
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    assert html.count('<th scope="row" class="approval"><code>') == len(units(cat))
    assert "Clinical sign-off is still to come: " in html
    assert "Approved (editorial)" in html and "Content editor (not a clinician)" in html
    fever = html.split('<code>topic.fever</code>', 1)[1].split("</tr>", 1)[0]
    assert "1 Jun 2027 <strong>(due soon)</strong>" in fever


def test_content_page_without_a_manifest_says_so(console, tmp_path):
    make_user(console)
    console.config["AUDIO_DIR"] = tmp_path
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    assert "No audio manifest at" in html


# -- accounts ----------------------------------------------------------------------

def test_create_user_command_hashes_the_password(console):
    runner = console.test_cli_runner()
    result = runner.invoke(args=["admin", "create-user", "Robin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "account 'robin' created" in result.output
    assert PASSWORD not in result.output
    with console.app_context(), db.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.name == "robin"))
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    log_in(console, name="robin")


@pytest.mark.parametrize(("password", "message"), [
    ("short pw", "too short"),
    ("password1234", "too common"),
    ("aaaaaaaaaaaaaaaa", "at least 5 different"),
    ("robin-the-operator", "contains the account name"),
])
def test_create_user_refuses_weak_passwords(console, password, message):
    result = console.test_cli_runner().invoke(args=["admin", "create-user", "robin"], input=f"{password}\n{password}\n")
    assert result.exit_code == 1
    assert message in result.output and "No account was made" in result.output
    with console.app_context(), db.session() as session:
        assert session.scalar(select(AdminUser)) is None


def test_create_user_refuses_a_duplicate_and_a_bad_name(console):
    make_user(console)
    runner = console.test_cli_runner()
    result = runner.invoke(args=["admin", "create-user", NAME], input=f"{PASSWORD}9\n{PASSWORD}9\n")
    assert result.exit_code == 1 and "already an account called 'sam'" in result.output
    result = runner.invoke(args=["admin", "create-user", "no spaces"], input="")
    assert result.exit_code == 1 and "A name is 1 to 64 characters" in result.output


def test_create_user_needs_the_same_password_twice(console):
    result = console.test_cli_runner().invoke(args=["admin", "create-user", "robin"],
                                              input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "account 'robin' created" in result.output


def test_password_rules():
    assert password_problem("sam", PASSWORD) is None
    assert "too long" in password_problem("sam", "x1y2z3" * 30)
    with pytest.raises(AccountError):
        create_user("sam", "short")


def test_console_files_live_where_the_layout_says():
    root = Path(admin.__file__).resolve().parent.parent
    assert (root / "templates" / "admin" / "base.html").exists()
    assert (root / "static" / "admin" / "admin.css").exists()


def test_production_without_a_secret_key_keeps_the_line_and_drops_the_console(tmp_path, monkeypatch, caplog):
    """The console's key must never take the phone line down: callers come first."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ADMIN_CONSOLE", raising=False)
    monkeypatch.delenv("LINE_DEV_MODE", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    from service import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "PUBLIC_BASE_URL": "https://line.example.org"})
    assert "admin" not in app.blueprints and "voice" in app.blueprints
    assert "operator console is OFF: SECRET_KEY is not set" in caplog.text
    monkeypatch.setenv("ADMIN_CONSOLE", "on")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": "sqlite://", "PUBLIC_BASE_URL": "https://line.example.org"})


# -- what an operator reads: plurals, what is counted, transfers, callbacks off, a short content page ----

def test_one_call_is_one_call_and_the_texts_say_what_they_count(console, clock):
    make_user(console)
    seed(console, event("voice", "only-call", "reached", "main"), event("voice", "only-call", "reached", "symptoms"))
    html = log_in(console).get("/admin/usage").get_data(as_text=True)
    assert "<strong>1 call</strong>" in html and "1 calls" not in html
    assert "<strong>0 texts</strong>" in html
    assert "1 of 1 call ended that way" in html and "of 1 calls" not in html
    assert "STOP, START and texts from opted-out numbers leave no usage record and are not counted" in html


def test_a_hang_up_during_a_transfer_is_shown_as_one(console, twilio, clock):
    from ..helpers import Call

    make_user(console)
    call = Call(console)
    call.dial_in()
    call.press("1")
    assert call.press("0")[0] == "transfer"
    from service.storage import analytics
    analytics.events(console).flush()
    with console.app_context(), db.session() as session:
        report = queries.usage(session, loaded(console).catalogue)
    labels = {row.label: row.hung_up for row in report.drop_offs}
    assert labels == {"During a transfer to the support line": 1}
    html = log_in(console).get("/admin/usage").get_data(as_text=True)
    assert "During a transfer to the support line" in html and "hung up at Symptoms" not in html


def test_the_callback_page_says_callbacks_are_off_and_how_to_switch_them_on(console):
    make_user(console)
    client = log_in(console)
    page = client.get("/admin/callbacks").get_data(as_text=True)
    assert "Callbacks are off." in page and "callbacks: enabled: true" in page and "prompts/contacts.yaml" in page
    assert "Callback requests (off)" in client.get("/admin/usage").get_data(as_text=True)


def test_the_content_page_has_an_index_and_players_only_when_asked(console):
    make_user(console)
    cat = loaded(console).catalogue
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    for topic in cat.topics.values():
        assert f'<a href="#prompt-topic-{topic.id}">' in html, topic.id
        assert f'<tr id="prompt-topic-{topic.id}">' in html, topic.id
    assert html.count("<audio ") == html.count('<details class="clip">') > 0
    assert re.findall(r"<audio [^>]*>", html) == re.findall(r'<audio controls preload="none" [^>]*>', html)


def test_clips_last_built_is_the_build_time_the_manifest_records(console):
    make_user(console)
    recorded = dt.datetime.fromisoformat(json.loads((Path(console.config["AUDIO_DIR"]) / "manifest.json").read_text())
                                         ["built_at"])
    html = log_in(console).get("/admin/content").get_data(as_text=True)
    from service.basics.clock import LONDON

    shown = recorded.astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M")
    assert f"{shown} (recorded by the build)" in html
