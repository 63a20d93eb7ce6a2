"""Many viewers of one story cost the store one read per interval, not one per viewer."""

import threading

from drivequeue import Queue
from webapp import create_app

from .conftest import FAST, submit


class CountingQueue(Queue):
    """The real queue, counting how often a story is read from the store."""

    status_calls = 0
    _lock = threading.Lock()

    def status(self, job_id, after=0):
        with self._lock:
            self.status_calls += 1
        return super().status(job_id, after)


def poll_together(app, path, viewers):
    barrier = threading.Barrier(viewers)
    answers = []

    def viewer():
        client = app.test_client()
        barrier.wait()
        answers.append(client.get(path).status_code)

    threads = [threading.Thread(target=viewer) for _ in range(viewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_fifty_viewers_polling_at_once_cause_one_store_read(config, store):
    queue = CountingQueue(store, FAST)
    app = create_app(config.replace(poll_interval=60.0), queue=queue)
    story_id = submit(app.test_client())["id"]
    path = f"/api/stories/{story_id}?after=0"
    assert poll_together(app, path, 50) == [200] * 50
    assert queue.status_calls == 1
    store_calls = store.operations.copy()
    assert poll_together(app, path, 50) == [200] * 50
    assert queue.status_calls == 1 and store.operations == store_calls


def test_a_change_made_here_is_seen_at_once(config, store):
    queue = CountingQueue(store, FAST)
    client = create_app(config.replace(poll_interval=60.0), queue=queue).test_client()
    story_id = submit(client)["id"]
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "queued"
    client.post(f"/api/stories/{story_id}/cancel", json={})
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "cancelled"
