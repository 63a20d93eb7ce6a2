"""On Drive, the web app answers ids it has never seen from what the changes feed already told
it (no Drive call per id), and a story made a moment ago through another web process still
opens in the browser that made it (two real servers on the Drive emulator, one cookie jar)."""

from __future__ import annotations

import http.cookiejar
import json
import secrets
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from drivequeue import Queue, Timing
from drivequeue.drive import DriveStore
from drivequeue.urls import open_store
from webapp import create_app
from webapp.config import Config


@pytest.fixture
def two_web_processes(drive_env):
    """Two web apps on one Drive folder, as two dynos: own stores, caches and feeds, one secret."""
    url = f"drive://id:{drive_env.create_folder('stories')}"
    config = Config(secret_key="test-secret-" + "x" * 30, queue_url=url, environment="development",
                    create_limit="1000 per minute", read_limit="10000 per minute")
    servers, stores = [], []
    for _ in range(2):
        store = open_store(url)
        app = create_app(config, queue=Queue(store, Timing.from_env(DriveStore.default_timing, environ={})))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        stores.append(store)
    yield [f"http://127.0.0.1:{server.server_port}" for server in servers], stores
    for server in servers:
        server.shutdown()
    for store in stores:
        store.close()


def get(opener, url: str) -> int:
    try:
        return opener.open(url, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def random_id() -> str:
    return f"1{secrets.token_urlsafe(24)[:32]}.{secrets.token_urlsafe(16)}"


def test_unknown_ids_cost_no_drive_call_and_a_new_story_opens_anywhere(two_web_processes):
    (first, second), (_, second_store) = two_web_processes
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert get(browser, f"{second}/api/stories/{random_id()}") == 404  # the second process has looked

    before = second_store.calls.copy()
    assert {get(browser, f"{second}/api/stories/{random_id()}") for _ in range(200)} == {404}
    spent = second_store.calls - before
    assert spent["files.get"] == spent["files.get_media"] == 0, spent  # at most a look at the feed

    request = urllib.request.Request(f"{first}/api/stories", data=json.dumps({"seed": "Once", "lines": 2}).encode(),
                                     headers={"Content-Type": "application/json"})
    story_id = json.loads(browser.open(request, timeout=30).read())["id"]
    assert get(browser, f"{second}/stories/{story_id}") == 200  # at once, on the process that did not make it
    assert get(browser, f"{second}/api/stories/{story_id}") == 200
