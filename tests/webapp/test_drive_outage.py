"""During a Drive outage the web app answers 503 with Retry-After well inside Heroku's 30 s
router limit, even when one request hangs (the real app on the Drive emulator)."""

from __future__ import annotations

import time

import pytest

from drivequeue import Queue, open_store
from webapp import create_app
from webapp.config import Config

from .conftest import FAST

#: Heroku's router gives up on a request after 30 s; the app must have answered well before
ROUTER_LIMIT_S = 30


@pytest.fixture
def drive_app(drive_env):
    url = f"drive://id:{drive_env.create_folder('stories')}"
    config = Config(secret_key="test-secret-" + "x" * 30, queue_url=url, environment="development",
                    create_limit="1000 per minute", read_limit="10000 per minute", poll_interval=0.0,
                    store_patience=4.0)
    store = open_store(url, patience=config.store_patience)
    yield create_app(config, queue=Queue(store, FAST)).test_client()
    store.close()


@pytest.mark.parametrize("fault", ["failing", "hung"])
def test_an_outage_is_a_503_with_retry_after_in_time(drive_app, drive_env, fault):
    story_id = drive_app.post("/api/stories", json={"seed": "Once", "lines": 2}).get_json()["id"]
    if fault == "failing":
        drive_env.faults.fail_rate = 1.0
    else:
        drive_env.faults.latency_s = 3 * ROUTER_LIMIT_S  # one request that would outlast the router
    started = time.monotonic()
    response = drive_app.get(f"/api/stories/{story_id}")
    took = time.monotonic() - started
    drive_env.faults.fail_rate, drive_env.faults.latency_s = 0.0, 0.0
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "cannot be reached" in response.get_json()["message"]
    assert took < ROUTER_LIMIT_S / 2
