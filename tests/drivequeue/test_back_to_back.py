"""Short jobs back to back: a worker claims the next job as soon as one ends, wakes on a submit,
loses no wake-up, and a claim reads only the jobs it may take.

The poll interval is an hour in these tests, so anything that waited for a poll would never end
(the test's timeout would catch it); nothing here is timed.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from drivequeue import LocalStore, Queue, open_store
from drivequeue.endings import Endings
from drivequeue.plugins import kinds_of, load
from drivequeue.metered_store import MeteredStore
from drivequeue.serve import HandlerContext, Server
from drivequeue.shutdown import Shutdown
from tests.drivequeue import echo_plugin
from tests.helpers import eventually

from .lines_plugin import BY_NAME

ECHO_KINDS = kinds_of(load(["tests.drivequeue.echo_plugin"], environ={}))
HOUR = 3600.0


@pytest.fixture
def store(busy_store):
    """Stores that signal changes: a folder (inotify) and Redis (messages)."""
    return busy_store


@pytest.fixture
def slow_poll(fast_timing):
    return replace(fast_timing, poll=HOUR)


class QuietFolder(LocalStore):
    """A folder like Drive: its changes wake nobody, and a worker lists it to find new jobs."""

    pushes_changes = False

    def created_since(self, cursor):
        return None


class Serving:
    """A worker serving the echo kind in a thread of this process, on a store handle of its own."""

    def __init__(self, handle, timing, tmp_path):
        self.stop = Shutdown()
        self.queue = Queue(handle, timing, kinds=ECHO_KINDS)
        context = HandlerContext(store=self.queue.store, timing=timing, device="cpu", stop=self.stop,
                                 endings=Endings(), cache_dir=tmp_path / "cache")
        self.server = Server(self.queue, echo_plugin.handlers(context), context, drain_seconds=5)
        self.thread = threading.Thread(target=self.server.run)

    def __enter__(self):
        self.thread.start()
        eventually(lambda: self.queue.workers())
        return self

    def __exit__(self, *exc):
        self.stop.request("the test is over")
        self.thread.join(30)
        assert not self.thread.is_alive(), "the worker did not stop"
        self.queue.store.close()


def test_queued_jobs_run_back_to_back_and_a_submit_wakes_an_idle_worker(store, slow_poll, tmp_path):
    queue = Queue(store, slow_poll, kinds=ECHO_KINDS)
    early = [queue.submit("echo", {"text": f"early {i}"}) for i in range(10)]
    with Serving(open_store(store.url), slow_poll, tmp_path):
        assert [queue.result(job, timeout=60)["length"] for job in early] == [len(f"early {i}") for i in range(10)]
        late = queue.submit("echo", {"text": "while idle"})  # the worker sleeps until this wakes it
        assert queue.result(late, timeout=60) == {"length": len("while idle")}


def test_a_worker_on_a_store_that_cannot_signal_still_runs_queued_jobs_back_to_back(tmp_path, slow_poll):
    queue = Queue(LocalStore(tmp_path / "queue"), slow_poll, kinds=ECHO_KINDS)
    jobs = [queue.submit("echo", {"text": f"job {i}"}) for i in range(10)]
    handle = MeteredStore(QuietFolder(tmp_path / "queue"))
    with Serving(handle, slow_poll, tmp_path):  # the ending of a job wakes it
        assert [queue.result(job, timeout=60)["length"] for job in jobs] == [len(f"job {i}") for i in range(10)]
    assert handle.operations["create_pair"] == 10  # it never raced itself for a job it had ended


def test_a_submit_while_the_worker_is_busy_is_not_lost(store, slow_poll, tmp_path):
    queue = Queue(store, slow_poll, kinds=ECHO_KINDS)
    with Serving(open_store(store.url), slow_poll, tmp_path):
        busy = queue.submit("echo", {"text": "x", "mode": "wait"})
        eventually(lambda: queue.status(busy).state.value == "running")
        waiting = queue.submit("echo", {"text": "queued meanwhile"})  # its message arrives while busy
        queue.cancel(busy)
        assert queue.wait(busy, timeout=60).state.value == "cancelled"
        assert queue.result(waiting, timeout=60) == {"length": len("queued meanwhile")}


def test_an_idle_worker_stops_at_once_on_request(store, slow_poll, tmp_path):
    with Serving(open_store(store.url), slow_poll, tmp_path) as serving:
        eventually(lambda: serving.queue.workers()[0]["state"] == "idle")
    # __exit__ asserts that the worker stopped; with an hour's poll it would not have


# -- what a claim costs ------------------------------------------------------------------


def test_a_claim_reads_only_the_jobs_it_may_take_however_many_have_finished(store, fast_timing):
    producer = Queue(store, fast_timing, kinds=BY_NAME)
    for i in range(60):
        producer.submit("lines", {"text": f"old {i}"})
    worker_store = MeteredStore(open_store(store.url))
    with Queue(worker_store, fast_timing, kinds=BY_NAME).worker(host="h", device="cpu", offers=["default"]) as session:
        while (claim := session.claim_next()) is not None:
            claim.complete()  # the first claim reads every job once; the rest only their own
        reads = []
        for i in range(5):
            job = producer.submit("lines", {"text": f"new {i}"})
            worker_store.operations.clear()
            claim = session.claim_next()
            assert claim.job_key == job.split(".")[0]
            claim.complete()
            reads.append(worker_store.operations["read"] + worker_store.operations["exists"])
    # the new job file, its segment, claim and cancel keys, the finished job before it: never the 60 old ones
    assert max(reads) <= 8, reads
