"""A worker whose clock is days off fails and removes nothing early, and its wrong times make
nobody else's gc do so: every age is told by the store's clock (real worker processes under
libfaketime, a real folder, the real CLI)."""

from __future__ import annotations

import json

from drivequeue import Queue, open_store
from tests.colab_worker.worker_support import WorkerProcess, drivequeue, follow, queue_env, queue_for, submit_story
from tests.helpers import age, eventually


def test_a_worker_days_behind_is_not_taken_for_dead_nor_its_story_for_old(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    story = submit_story(env, "The old clock", 2)
    worker = WorkerProcess(env, tmp_path / "behind.log", clock="-8d")
    try:
        done = follow(queue, story, lambda s: s["status"] == "done", timeout=180)
        workers = json.loads(drivequeue(env, "workers", "--json"))
        assert [w["last_seen"] < done["created"] - 7 * 86400 for w in workers] == [True]  # its clock is behind
        report = json.loads(drivequeue(env, "gc", "--json"))  # by a machine whose clock is right
        assert report["removed_jobs"] == report["removed_workers"] == report["removed_files"] == 0
        assert queue.status(story)["status"] == "done"
        assert len(json.loads(drivequeue(env, "workers", "--json"))) == 1  # its heartbeat is still there
    finally:
        worker.signal()
        assert worker.wait() == 0
    assert "Traceback" not in worker.log


def test_a_worker_days_ahead_neither_fails_a_fresh_story_nor_removes_a_finished_one(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    finished = submit_story(env, "The finished tale", 1)
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        follow(queue, finished, lambda s: s["status"] == "done", timeout=180)
    finally:
        first.signal()
        assert first.wait() == 0
    waiting = submit_story(env, "A tale for a model nobody has", 1, "--model", "nobody")
    store = open_store(env["DRIVEQUEUE_URL"])
    leftover, = store.new_keys("cancel")  # a stray file really older than the retention: gc's proof of work
    store.create(leftover, "cancel", b"{}")
    age(store, leftover, 8 * 86400)
    ahead = WorkerProcess(env, tmp_path / "ahead.log", clock="+8d")
    try:
        ahead.wait_for_log("gc: removed files: 1")
        eventually(lambda: not store.exists(leftover), what="the stray file to go")
        assert queue.status(finished)["status"] == "done" and queue.status(finished)["line_count"] == 1
        status = queue.status(waiting)
        assert status["status"] == "queued" and status["error"] is None
    finally:
        ahead.signal()
        assert ahead.wait() == 0
    assert "Traceback" not in ahead.log and "no worker took the job" not in ahead.log
    assert Queue(store, queue.timing).gc() == {name: 0 for name in Queue(store, queue.timing).gc()}
