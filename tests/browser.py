"""Browser tests: Debian's Chromium driven by Playwright, with axe-core injected.

Locally, a missing Chromium or axe-core skips these tests with the reason; in CI
(CI=true, where `.ci/run` installs both) a missing one is a failure.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service.config import PROJECT_ROOT

AXE_JS = PROJECT_ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or (shutil.which("chromium-browser"))


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port in a thread: ``live_server.url``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Live:
        url = f"http://127.0.0.1:{server.server_port}"

    yield Live()
    server.shutdown()
    thread.join(timeout=5)


def _page(bypass_csp: bool):
    executable = chromium_path()
    _need(executable is not None, "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=bypass_csp)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


@pytest.fixture
def page(tmp_path):
    """A fresh headless Chromium page (Playwright, Debian's chromium). It bypasses the pages'
    Content-Security-Policy only so that axe-core can be injected; ``strict_page`` keeps it."""
    yield from _page(bypass_csp=True)


@pytest.fixture
def strict_page(tmp_path):
    """A page that obeys the app's Content-Security-Policy, as a real browser does."""
    yield from _page(bypass_csp=False)


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page; the violations of the given impacts."""
    _need(AXE_JS.exists(), f"axe-core is not installed at {AXE_JS} (make browser-deps)")
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                     + ", ".join(n["target"][0] for n in v["nodes"][:3]) for v in violations)


def screenshot(page, name: str) -> Path:
    """Screenshots go under instance/screenshots (ignored by git) for a person to look at."""
    folder = PROJECT_ROOT / "instance" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
