"""Fixtures: the real app on a real local queue in a temporary folder."""

from __future__ import annotations

import re
import threading

import pytest

from drivequeue import LocalStore, Queue, Timing
from webapp import create_app
from webapp.config import Config

FAST = Timing(lease=2.0, heartbeat=0.2, poll=0.05, check=0.05)


class CountingStore(LocalStore):
    """A local store that counts the operations it serves (what a Drive bill would count)."""

    def __init__(self, root):
        super().__init__(root)
        self.calls = 0
        self._lock = threading.Lock()

    def _count(self):
        with self._lock:
            self.calls += 1

    def read(self, key, *limit):
        self._count()
        return super().read(key, *limit)

    def list(self, name=None):
        self._count()
        return super().list(name)


@pytest.fixture
def store(tmp_path):
    store = CountingStore(tmp_path / "queue")
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
