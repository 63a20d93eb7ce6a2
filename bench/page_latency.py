"""How soon a visitor sees lines, measured in a real browser (Debian's Chromium through Playwright).

* ``click``: the local demo (the web app, and ``colab-worker run`` with the
  shipped model on the CPU, over a local folder): from the click on "Write my
  story" (the form's submit event) to the first line on screen, both on the
  browser's clock, --trials times.
* ``line``: a worker session writes a line every --line-every seconds; the
  page records when each line appears on screen. Reported: written -> visible,
  over a local folder and over the Drive emulator (--latency-ms per request),
  with the web app's default settings for each (read period, stream).
* ``pace``: a worker session writes --lines lines at once; the page reveals
  them one by one. Reported: the reading pace, in characters a second, between
  each line's appearance and the next one's (the line's characters and the
  space after it).

Usage:
  python bench/page_latency.py                 # all three, about 3 minutes on 2 CPU cores
  python bench/page_latency.py --only line --lines 20
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from drivequeue import LocalStore, Queue, open_store
from drivequeue.drive import open_drive_store
from drivequeue.drive_settings import DriveSettings
from drivequeue.emulator import Emulator, Faults
from webapp import Config, create_app

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SEED = "Once upon a time there was a poor miller who had a beautiful daughter."
#: in every page: when the form was sent, and when a story first showed a line (browser clock); the
#: start page becomes the story page in place, so the whole document is watched
CLICK_TO_LINE = """
document.addEventListener('submit', () => sessionStorage.setItem('sentAt', String(Date.now())), true);
document.addEventListener('DOMContentLoaded', () => {
    const seen = () => { if (window.firstLineAt === undefined && document.querySelector('#story-text .line'))
        window.firstLineAt = Date.now(); };
    seen();
    new MutationObserver(seen).observe(document.body, {childList: true, subtree: true});
});
"""
RECORD = """() => {
    window.visibleAt = {};
    new MutationObserver(records => {
        for (const r of records) for (const n of r.addedNodes)
            if (n.nodeType === 1 && n.classList.contains('line'))
                window.visibleAt[n.getAttribute('data-index')] = Date.now() / 1000;
    }).observe(document.getElementById('story-text'), {childList: true, subtree: true});
}"""


@contextmanager
def web_app(queue: Queue):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    config = Config(secret_key=secrets.token_hex(32), queue_url=queue.store.url, environment="development",
                    create_limit="1000 per minute")
    server = make_server("127.0.0.1", 0, create_app(config, queue=queue), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def browser_page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        finally:
            browser.close()


def start_story(page, site, lines):
    page.goto(site + "/")
    page.get_by_label("Beginning of the story").fill(SEED)
    page.get_by_label("Lines to write").fill(str(lines))
    started = time.monotonic()
    page.get_by_role("button", name="Write my story").click()
    return started


def click_to_first_line(trials: int) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="page-latency-")) / "queue"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "colab_worker", "run", "--queue", str(folder),
                               "--device", "cpu", "--threads", "1"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    try:
        with web_app(Queue(open_store(str(folder)))) as site, browser_page() as page:
            page.context.add_init_script(CLICK_TO_LINE)  # run by the browser's debugger: the CSP allows it
            while not Queue(LocalStore(folder)).workers():
                time.sleep(0.2)
            for trial in range(trials + 1):  # the first one warms the model up and is not counted
                start_story(page, site, 3)
                page.locator("#story-text .line").first.wait_for(timeout=60_000)
                if trial:
                    times.append(page.evaluate("(window.firstLineAt - Number(sessionStorage.sentAt)) / 1000"))
                page.locator("#status[data-status=done]").wait_for(timeout=60_000)
    finally:
        worker.terminate()
        worker.wait(30)
    return times


def written_to_visible(queue: Queue, lines: int, line_every: float) -> list[float]:
    with web_app(queue) as site, browser_page() as page:
        start_story(page, site, lines)
        page.wait_for_url("**/stories/*")
        page.evaluate(RECORD)
        written = {}
        with queue.worker(host="bench", device="cpu", offers=["default"]) as session:
            claim = None
            while claim is None:
                claim = session.claim_next()
            for index in range(lines):
                claim.append([f"Line {index} of the story, about as long as a sentence is."])
                claim.flush()
                written[index] = time.time()
                time.sleep(line_every)
            claim.complete()
        page.locator("#status[data-status=done]").wait_for(timeout=60_000)
        visible = page.evaluate("window.visibleAt")
    return [visible[str(i)] - written[i] for i in written if str(i) in visible]


PACE_LINES = ["The fox came to a meadow where the grass stood high.", "There sat a flock of fine fat geese.",
              "He smiled and said, 'I come just at the right time.'", "The geese cried out and begged for their lives."]


def reveal_pace(queue: Queue, lines: int) -> list[float]:
    """Characters a second between one line's appearance and the next, for lines written at once."""
    written = [PACE_LINES[i % len(PACE_LINES)] for i in range(lines)]
    with web_app(queue) as site, browser_page() as page:
        start_story(page, site, lines)
        page.wait_for_url("**/stories/*")
        page.evaluate(RECORD)
        with queue.worker(host="bench", device="cpu", offers=["default"]) as session:
            claim = None
            while claim is None:
                claim = session.claim_next()
            claim.append(written)
            claim.complete()
        page.locator("#status[data-status=done]").wait_for(timeout=120_000)
        visible = page.evaluate("window.visibleAt")
    times = [visible[str(i)] for i in range(lines)]
    return [(len(written[i]) + 1) / (times[i + 1] - times[i]) for i in range(lines - 1)]


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_s": statistics.median(ordered),
            "p95_s": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], "max_s": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("click", "line", "pace"), help="run one of the three")
    parser.add_argument("--trials", type=int, default=10, help="stories for click -> first line")
    parser.add_argument("--lines", type=int, default=20, help="lines for written -> visible, and for the pace")
    parser.add_argument("--line-every", type=float, default=1.5, help="seconds between written lines")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="the Drive emulator's delay per request")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    figures = {}
    if args.only in (None, "click"):
        figures["click_to_first_line"] = summary(click_to_first_line(args.trials))
        print("click -> first line visible (local demo): median {p50_s:.2f} s, max {max_s:.2f} s "
              "over {n} stories".format(**figures["click_to_first_line"]))
    if args.only in (None, "line"):
        folder = Path(tempfile.mkdtemp(prefix="page-latency-")) / "queue"
        figures["local"] = summary(written_to_visible(Queue(LocalStore(folder)), args.lines, args.line_every))
        with Emulator(faults=Faults(latency_s=args.latency_ms / 1000)) as emulator:
            settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
            store = open_drive_store(f"drive://id:{emulator.create_folder('page')}", settings)
            figures["drive"] = summary(written_to_visible(Queue(store), args.lines, args.line_every))
        for name, label in (("local", "local folder"), ("drive", f"Drive emulator, {args.latency_ms:g} ms")):
            print(f"written -> visible ({label}): p50 {figures[name]['p50_s']:.2f} s, "
                  f"p95 {figures[name]['p95_s']:.2f} s over {figures[name]['n']} lines")
    if args.only in (None, "pace"):
        folder = Path(tempfile.mkdtemp(prefix="page-latency-")) / "queue"
        pace = reveal_pace(Queue(LocalStore(folder)), args.lines)
        figures["pace"] = {"n": len(pace), "p50_chars_per_s": statistics.median(pace),
                           "min_chars_per_s": min(pace), "max_chars_per_s": max(pace)}
        print("reveal pace: median {p50_chars_per_s:.1f} characters a second ({min_chars_per_s:.1f} to "
              "{max_chars_per_s:.1f}) over {n} lines written at once".format(**figures["pace"]))
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
