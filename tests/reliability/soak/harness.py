"""Run the line as production runs it, and talk to it as Twilio does, over loopback.

Used by the reliability tests (tests/reliability/, and the soak in tests/reliability/soak/) and by
the benchmarks (bench/). Everything here talks to 127.0.0.1 only.

- `WebProcess`: the Procfile's `web` command (gunicorn, `--preload`, `$PORT`,
  `$WEB_CONCURRENCY`) in its own process group, its log captured to a file.
- `release`: the Procfile's `release` command (migrations).
- `SignedClient`: form POSTs signed with `RequestValidator`, exactly as Twilio signs.
- `twiml`: parse and check a TwiML answer.
- `temporary_database`: a fresh PostgreSQL database on a shared server, dropped after.
- `ThrowawayCluster`: a PostgreSQL cluster of our own (initdb/pg_ctl), to stop and start.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from twilio.request_validator import RequestValidator

from service.config import PROJECT_ROOT

ROOT = PROJECT_ROOT
BIN = Path(sys.executable).parent
TOKEN = "98765432109876543210987654321098"  # digits only, like a real token can be
ACCOUNT = "AC" + "0" * 32
PUBLIC = "https://line.example.org"
LINE_NUMBER = "+441632960000"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BASH = shutil.which("bash") or "/bin/bash"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"

VOICE_VERBS = {"Gather", "Play", "Say", "Dial", "Redirect", "Hangup", "Pause", "Sms", "Message"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise LookupError(f"Procfile has no {process!r} process")


def app_env(database_url: str, instance: Path, **extra: str) -> dict:
    """The environment a platform would give the line (production mode: no dev token)."""
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "LINE_DEV_MODE": "0",
        "LINE_INSTANCE_PATH": str(instance),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_PHONE_NUMBER": LINE_NUMBER,
        "PUBLIC_BASE_URL": PUBLIC,
        # Requests go straight to 127.0.0.1 here; a platform's router would name PUBLIC_BASE_URL's host.
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "ANALYTICS_SALT": "reliability-salt",
        "SECRET_KEY": "reliability-secret-key-" + "0" * 32,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def release(env: dict, timeout: float = 120) -> None:
    """The Procfile's release step (Alembic migrations)."""
    subprocess.run([BASH, "-c", "exec " + procfile_command("release")], cwd=ROOT, env=env, check=True,
                   timeout=timeout, stdout=subprocess.DEVNULL)


class WebProcess:
    """The Procfile's web process. ``app_spec`` swaps the WSGI app (the bench's bare app)."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2, app_spec: str | None = None,
                 port: int | None = None):
        self.port = port or free_port()
        self.workers = workers
        self.log_path = log_path
        command = procfile_command("web")
        if app_spec:
            command = command.replace("'service:create_app()'", shlex.quote(app_spec))
        self.command = command
        self.env = dict(env, PORT=str(self.port), WEB_CONCURRENCY=str(workers))
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> WebProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([BASH, "-c", "exec " + self.command], cwd=ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                raise RuntimeError(f"web process exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            with contextlib.suppress(OSError):
                status, _ = get(self.port, "/healthz", timeout=2)
                if status in (200, 503) and len(self.worker_pids()) >= self.workers:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"web process not ready in {ready_timeout} s:\n{self.log()[-3000:]}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.process.pid:
                        pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> WebProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(pid)


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    seconds: float


class SignedClient:
    """Posts like Twilio: form-encoded, signed over PUBLIC + path + query, to a local port."""

    def __init__(self, port: int, token: str = TOKEN, timeout: float = 30):
        self.port = port
        self.validator = RequestValidator(token)
        self.timeout = timeout

    def sign(self, url: str, params: dict) -> str:
        return self.validator.compute_signature(url, params)

    def post(self, url: str, params: dict, signature: str | None = None, body: bytes | None = None,
             headers: dict | None = None) -> Answer:
        """``url`` is absolute on PUBLIC (as in a Gather action) or a path."""
        if url.startswith("/"):
            url = PUBLIC + url
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = body if body is not None else urllib.parse.urlencode(params).encode()
        sent_headers = {"Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": self.sign(url, params) if signature is None else signature,
                        "Connection": "close", **(headers or {})}
        return self.raw("POST", path, data, sent_headers)

    def raw(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            # A server may answer a body it refuses (413) and close before it has all been sent;
            # its answer is still there to read (RFC 9112 9.6). No answer: getresponse raises.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return Answer(response.status, response.getheader("Content-Type", ""), body,
                          time.perf_counter() - started)
        finally:
            conn.close()


class InvalidTwiML(AssertionError):
    pass


def twiml(answer: Answer) -> ET.Element:
    """The parsed <Response>, or InvalidTwiML saying what is wrong."""
    if answer.status != 200:
        raise InvalidTwiML(f"HTTP {answer.status}: {answer.body[:200]!r}")
    if not answer.content_type.startswith("text/xml"):
        raise InvalidTwiML(f"content type {answer.content_type!r}")
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as error:
        raise InvalidTwiML(f"not XML ({error}): {answer.body[:200]!r}") from error
    if root.tag != "Response":
        raise InvalidTwiML(f"root is <{root.tag}>")
    unknown = {child.tag for child in root} - VOICE_VERBS
    if unknown:
        raise InvalidTwiML(f"unknown verbs {sorted(unknown)}")
    return root


def voice_twiml(answer: Answer) -> ET.Element:
    """A call step: valid TwiML that says or plays something (or hangs up on purpose)."""
    root = twiml(answer)
    heard = [el for el in root.iter() if el.tag in ("Play", "Say")]
    if not heard and root.find("Hangup") is None and root.find("Dial") is None:
        raise InvalidTwiML(f"a call step with nothing to hear: {answer.body[:300]!r}")
    gather = root.find("Gather")
    if gather is not None and not (gather.get("action") or "").startswith(PUBLIC + "/voice"):
        raise InvalidTwiML(f"Gather action {gather.get('action')!r}")
    return root


def sms_messages(answer: Answer) -> list[str]:
    """The texts in an SMS webhook answer (empty for a redelivery or an opted-out number)."""
    root = twiml(answer)
    return [(message.text or "") for message in root.iter("Message")]


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def call_sid() -> str:
    return "CA" + secrets.token_hex(16)


# -- PostgreSQL ---------------------------------------------------------------

def _server_and_name(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str = "rel"):
    """A fresh database ``<prefix>_<random>`` on the server of ``server_url``; dropped afterwards.

    Other tests share that server's own database at the same time, so we never touch it."""
    from sqlalchemy import create_engine, text

    admin_url, _ = _server_and_name(server_url)
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            parts = urllib.parse.urlsplit(server_url)
            yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def initdb_missing_reason() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"needs PostgreSQL's initdb and pg_ctl in {PG_BIN} (Debian package postgresql-15)"
    if not Path(RUNUSER).exists():
        return "needs runuser to run initdb as the postgres user"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "needs a postgres system user to own a throwaway cluster"
    return None


class ThrowawayCluster:
    """Our own PostgreSQL cluster on a free loopback port, in a temporary folder.

    Stopped and removed by ``close()`` (the context manager calls it, whatever happened)."""

    def __init__(self):
        import pwd

        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="line-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/line"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([RUNUSER, "-u", "postgres", "--", *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> ThrowawayCluster:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8", timeout=120)
        self.start()
        self._as_postgres(str(PG_BIN / "createdb") if (PG_BIN / "createdb").exists() else "createdb",
                          "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "line")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options,
                          "-w", "-t", "60", "start", timeout=90)

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop",
                          timeout=90)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        try:
            if self.data.exists() and self.running():
                with contextlib.suppress(subprocess.SubprocessError):
                    self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        try:
            return self.init()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


def redact(text: str) -> str:
    """Shorten a log excerpt for an assertion message."""
    return re.sub(r"\s+", " ", text)[-2000:]
