"""``MeteredStore``: every operation goes through and is counted; failures of the backend too."""

from __future__ import annotations

import pytest

from drivequeue import LocalStore, Queue
from drivequeue.errors import KeyExists, NotFound, StoreUnavailable
from drivequeue.metered_store import MeteredStore

from .lines_plugin import BY_NAME


class FlakyStore(LocalStore):
    """A folder whose writes fail while ``down``, as an unreachable backend's do."""

    down = False

    def write(self, key, data):
        if self.down:
            raise StoreUnavailable("unreachable")
        super().write(key, data)


def test_operations_are_counted_and_answers_are_not_failures(tmp_path):
    inner = FlakyStore(tmp_path / "q")
    store = MeteredStore(inner)
    key, = store.new_keys("job")
    store.create(key, "job", b"{}")
    with pytest.raises(KeyExists):
        store.create(key, "job", b"{}")
    assert store.read(key) == b"{}" and store.exists(key) and [e.key for e in store.list("job")] == [key]
    with pytest.raises(NotFound):
        store.read("missing")
    inner.down = True
    with pytest.raises(StoreUnavailable):
        store.write(key, b"[]")
    inner.down = False
    store.write(key, b"[]")
    store.delete(key)
    assert store.operations == {"new_keys": 1, "create": 2, "read": 2, "exists": 1, "list": 1, "write": 2,
                                "delete": 1}
    assert store.failures == {"write": 1}
    assert store.url == inner.url and store.default_timing is inner.default_timing


def test_a_queue_runs_on_it_unchanged(tmp_path, fast_timing):
    store = MeteredStore(LocalStore(tmp_path / "q"))
    queue = Queue(store, fast_timing, kinds=BY_NAME)
    job = queue.submit("lines", {"text": "Once", "count": 1})
    with queue.worker(host="h", device="cpu", offers=["default"]) as session:
        claim = session.claim_next()
        claim.append(["a line"])
        claim.complete()
    assert queue.status(job)["lines"] == ["a line"]
    assert store.operations["create"] >= 2 and store.operations["create_pair"] == 1  # the job, the heartbeat; the claim
    assert store.operations["read"] > 0 and not store.failures
