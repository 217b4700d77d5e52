"""Browser tests: a real `detainers serve` process on the demo data, driven by Playwright in Debian's chromium.

The browser is Debian's `chromium` (installed by scripts/ensure-test-tools, which `make test` and
.ci/run call), never a browser downloaded by `playwright install`. These tests are about what a
person sees and clicks, so they run once, on SQLite; the pages' answers are checked on both
backends by tests/web. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from detainers import accounts
from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.store.db import open_store

PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The dashboard served by a real process; yields its base URL."""
    where = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{where / 'demo.db'}"
    engine = open_store(url)
    write_demo_package(where / "demo")
    import_package(engine, where / "demo")
    with engine.begin() as conn:
        for role in accounts.ROLES:
            accounts.add(conn, role, PASSWORD, role, actor="test")
    engine.dispose()
    port = _free_port()
    log = (where / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "detainers", "serve", "--db", url, "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "DETAINERS_ANONYMOUS": "viewer"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("detainers serve did not start:\n" + (where / "server.log").read_text())
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run scripts/ensure-test-tools (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.problems = problems
    yield opened
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
