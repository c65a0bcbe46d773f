"""Accounts and logging in: password rules, hashing, and Flask-Login's user loader.

Passwords are hashed with scrypt (werkzeug); a wrong name and a wrong password
take the same time and get the same answer, so the login page does not tell
anyone which names exist.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import secrets

from flask import current_app, g
from flask_login import LoginManager
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..basics import clock
from ..storage.db import db
from ..storage.models import AdminUser

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
# How often a busy session's last-seen time is written (its idle clock's resolution).
SEEN_EVERY = dt.timedelta(seconds=30)
MAX_PASSWORD_LENGTH = 128
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
HASH_METHOD = "scrypt"
# Checked against when the name is unknown, so both failures cost the same.
_UNKNOWN_USER_HASH = generate_password_hash("not a real account", method=HASH_METHOD)
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password12", "password123", "password1234", "passw0rd",
    "123456789012", "1234567890", "qwertyuiop", "qwertyuiopas", "letmein12345", "iloveyou1234",
    "welcome12345", "administrator", "admin12345678", "changeme1234", "charity12345",
    "leukaemia123", "leukemia1234",
})

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please log in to use the console."
login_manager.login_message_category = "info"


class AccountError(ValueError):
    """A name or password that cannot be used; the message says why, for the operator."""


def normalise_name(name: str) -> str:
    return (name or "").strip().lower()


def check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME_PATTERN.match(name):
        raise AccountError("A name is 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit.")
    return name


def password_problem(name: str, password: str) -> str | None:
    """Why a password is too weak to use, or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters (a few words works well)."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password is too long: use at most {MAX_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "The password is too common: choose one that nobody else would guess."
    if len(set(lowered)) < 5:
        return "The password repeats too few characters: use at least 5 different ones."
    if name and name in lowered:
        return "The password contains the account name: choose something else."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def create_user(name: str, password: str) -> AdminUser:
    name = check_name(name)
    problem = password_problem(name, password)
    if problem:
        raise AccountError(problem)
    with db.session() as session:
        exists = session.scalar(select(AdminUser.id).where(AdminUser.name == name))
        if exists:
            raise AccountError(f"There is already an account called {name!r}.")
        user = AdminUser(name=name, password_hash=hash_password(password))
        session.add(user)
    return user


def authenticate(name: str, password: str) -> AdminUser | None:
    """The account for this name and password, or None (same cost either way)."""
    name = normalise_name(name)
    with db.session() as session:
        user = session.scalar(select(AdminUser).where(func.lower(AdminUser.name) == name)) if name else None
        if user is None:
            check_password_hash(_UNKNOWN_USER_HASH, password)
            return None
        if not check_password_hash(user.password_hash, password):
            return None
        # A new token at every login: a cookie copied before it (and every other browser's) stops working.
        user.last_login_at = user.last_seen_at = clock.now()
        user.session_token = secrets.token_hex(32)
    return user


def end_sessions(user_id: int) -> None:
    """Logging out ends every session of the account on the server: the old cookies name a token
    that no longer exists (the next login makes a new one)."""
    with db.session() as session:
        user = session.get(AdminUser, user_id)
        if user is not None:
            user.session_token = ""


@login_manager.user_loader
def load_user(session_id: str) -> AdminUser | None:
    """The account a session cookie names, while its login lasts: at most ADMIN_SESSION_HOURS after
    logging in, however busy, and ADMIN_IDLE_MINUTES after the last page. Both times are kept on the
    server, so a copied cookie cannot stretch them."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or len(token) != 64:
        return None
    now = clock.now()
    with db.session() as session:
        user = session.get(AdminUser, int(user_id))
        if user is None or not secrets.compare_digest(user.session_token.encode(), token.encode()):
            return None
        ended = _why_ended(user, now)
        if ended:
            user.session_token = ""
            g.session_ended = ended
            log.info("console: %s's login ended: %s", user.name, ended)
            return None
        if user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY:
            user.last_seen_at = now
    return user


def _why_ended(user: AdminUser, now: dt.datetime) -> str | None:
    config = current_app.config
    hours, idle = config["ADMIN_SESSION_HOURS"], config["ADMIN_IDLE_MINUTES"]
    if user.last_login_at is None or now - user.last_login_at >= dt.timedelta(hours=int(hours)):
        return f"You were logged out {hours} hours after logging in. Please log in again."
    if now - (user.last_seen_at or user.last_login_at) >= dt.timedelta(minutes=int(idle)):
        return f"You were logged out after {idle} minutes without using the console. Please log in again."
    return None
