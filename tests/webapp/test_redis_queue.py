"""The web app on a Redis queue: stories are served from a real redis-server, and an outage of
the server is answered with 503 and Retry-After until it is back."""

from __future__ import annotations

import pytest

from drivequeue import Queue, open_store
from tests.drivequeue.redis_fixtures import RedisServer
from webapp import create_app

from .conftest import FAST


@pytest.fixture
def redis_app(tmp_path, config):
    server = RedisServer(tmp_path / "redis").start()
    url = server.queue_url("web")
    queue = Queue(open_store(url), FAST)
    app = create_app(config.replace(queue_url=url), queue=queue)
    yield app, server, url
    server.kill()


def test_a_story_on_redis_is_served_and_an_outage_answers_503(redis_app):
    app, server, url = redis_app
    client = app.test_client()
    response = client.post("/api/stories", json={"seed": "The fox", "lines": 2})
    assert response.status_code == 202
    story = response.get_json()["id"]
    worker_queue = Queue(open_store(url), FAST)
    with worker_queue.worker(host="gpu", device="cpu", offers=["default"]) as session:
        claim = session.claim_next({"story"})
        claim.append(["The fox ran."])
        assert client.get(f"/api/stories/{story}").get_json()["lines"] == ["The fox ran."]
        server.kill()
        down = client.get(f"/api/stories/{story}")
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
        assert "Traceback" not in down.get_data(as_text=True)
        server.start()
        assert client.get(f"/api/stories/{story}").get_json()["lines"] == ["The fox ran."]
