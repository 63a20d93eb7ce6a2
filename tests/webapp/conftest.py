"""Fixtures: the real app on a real local queue in a temporary folder."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import sync_playwright

from drivequeue import LocalStore, Queue, Timing
from drivequeue.metered_store import MeteredStore
from webapp import create_app
from webapp.config import Config

from .browser_support import CHROMIUM, CHROMIUM_ARGS

FAST = Timing(lease=2.0, heartbeat=0.2, poll=0.05, check=0.05)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run; each browser test opens a context of its own (``page``)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def store(tmp_path):
    """The app's queue folder, its operations counted (``store.operations``: what Drive would bill)."""
    store = MeteredStore(LocalStore(tmp_path / "queue"))
    yield store
    store.close()


@pytest.fixture
def queue(store):
    return Queue(store, FAST)


@pytest.fixture
def worker(tmp_path):
    """A worker session on the same folder, through its own queue object (as another process)."""
    store = LocalStore(tmp_path / "queue")
    with Queue(store, FAST).worker(host="gpu-box", device="cuda:0", offers=["default"]) as session:
        yield session
    store.close()


@pytest.fixture
def config(tmp_path):
    return Config(
        secret_key="test-secret-" + "x" * 30,
        queue_url=str(tmp_path / "queue"),
        environment="development",
        create_limit="1000 per minute",
        read_limit="10000 per minute",
        poll_interval=0.0,
    )


@pytest.fixture
def app(config, queue):
    return create_app(config, queue=queue)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path="/") -> str:
    """The CSRF token the page at ``path`` carries (as a browser would find it)."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def submit(client, **payload) -> dict:
    """Create a story through the API; the 202 body."""
    payload.setdefault("seed", "Once upon a time")
    payload.setdefault("lines", 3)
    response = client.post("/api/stories", json=payload)
    assert response.status_code == 202, response.get_json()
    return response.get_json()
