"""What the browser tests share: the app on a real HTTP server, Debian's Chromium through Playwright,
a real worker process, and axe-core (installed by ``make browser`` from package-lock.json)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from drivequeue import Queue, open_store
from tests.helpers import eventually
from webapp import create_app
from webapp.config import Config

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FAST_QUEUE = {"DRIVEQUEUE_LEASE": "4", "DRIVEQUEUE_HEARTBEAT": "0.5", "DRIVEQUEUE_POLL": "0.2",
              "DRIVEQUEUE_CHECK": "0.2"}


@pytest.fixture
def queue_dir(tmp_path, monkeypatch):
    for name, value in FAST_QUEUE.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "queue"


def site_config(queue_dir, **changes) -> Config:
    return Config(
        secret_key="browser-test-" + "x" * 30,
        queue_url=str(queue_dir),
        environment="development",
        create_limit="1000 per minute",
        read_limit="100000 per minute",
        poll_interval=0.25,
    ).replace(**changes)


@pytest.fixture
def site_settings():
    """Settings a test changes in the app (override this fixture)."""
    return {}


@pytest.fixture
def site(queue_dir, site_settings):
    """The app on a free port, on the local queue in ``queue_dir``; its base URL."""
    config = site_config(queue_dir, **site_settings)
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser_settings():
    """Context options a test changes (override this fixture): viewport, reduced motion, colours."""
    return {}


@pytest.fixture
def page(browser, browser_settings):
    """A new page in a new context of the run's one Chromium (``browser``, in conftest.py):
    no cookies, storage or permissions from another test."""
    options = {"viewport": {"width": 900, "height": 1100}, "accept_downloads": True, **browser_settings}
    context = browser.new_context(**options)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    yield page
    context.close()


@pytest.fixture
def worker(queue_dir):
    """A real worker process with the shipped model on the CPU, stopped warm at the end."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "colab_worker", "run", "--queue", str(queue_dir),
         "--model", "default", "--device", "cpu"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_story(page, site, seed, lines):
    page.goto(site + "/")
    page.get_by_label("Beginning of the story").fill(seed)
    page.get_by_label("Lines to write").fill(str(lines))
    page.get_by_role("button", name="Write my story").click()
    page.wait_for_url(re.compile(r".*/stories/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))


def wait_for_expression(page, expression: str, timeout_s: float, worker: subprocess.Popen) -> None:
    """Poll ``expression`` in the page (``wait_for_function`` would need eval, which the CSP forbids)."""
    def true_in_page():
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited with {worker.returncode}:\n{worker.stdout.read()}")
        return page.evaluate(expression)

    eventually(true_in_page, timeout_s, every=0.1, what=expression)


def reveal_all(page, count: int) -> None:
    """Wait until the page has received ``count`` lines and shows them all, without waiting for
    the reading pace: "Show all now" once the page offers it."""
    expect(page.locator("#story")).to_have_attribute("data-received", str(count), timeout=20_000)
    show_all = page.get_by_role("button", name="Show all now")
    if show_all.is_visible():
        show_all.click()
    expect(page.locator("#story-text .line")).to_have_count(count, timeout=10_000)
    for _ in range(30):  # the newest line has faded in (a line half faded in fails a contrast check)
        if not page.evaluate("document.getAnimations().some(a => a.animationName === 'arrive')"):
            break
        page.wait_for_timeout(100)


def line_count(page) -> int:
    return page.locator("#story-text .line").count()


def worker_session(queue_dir, device="cuda: Tesla T4"):
    """A worker session in this process on the test's queue: it writes exactly what a test says."""
    return Queue(open_store(str(queue_dir))).worker(host="gpu-box", device=device, offers=["default"])


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def serious_accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2.x A and AA)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated by the browser's debugger, so the CSP allows it
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


