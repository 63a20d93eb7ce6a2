"""An observer that follows Drive's changes feed (``follow_changes``, what the web app does)
fetches a file again only when the feed reports it changed: files that do not change, such as
a finished job's records, cost one ``changes.list`` per period for the whole folder."""

from __future__ import annotations

import time

import pytest

from drivequeue import Queue, Timing, drive_changes
from drivequeue.errors import NotFound
from drivequeue.urls import open_store

from .lines_plugin import BY_NAME

PERIOD = 0.2
TIMING = Timing(lease=5.0, heartbeat=0.5, poll=0.1, check=0.1)


@pytest.fixture
def url(drive_env):
    return f"drive://id:{drive_env.create_folder('queue')}"


def reads(store):
    return store.calls["files.get_media"] + store.calls["files.get"]


def test_an_unchanged_file_is_read_once_and_a_changed_one_again(url):
    writer, observer = open_store(url), open_store(url)
    observer.follow_changes(PERIOD)
    key, missing = writer.new_keys("output", 2)
    writer.create(key, "output", b"one")
    assert observer.read(key) == b"one"
    before = reads(observer)
    for _ in range(5):
        assert observer.read(key) == b"one"
        with pytest.raises(NotFound):
            observer.read(missing)
    assert reads(observer) - before == 0  # a key the changes feed has not shown costs no call at all
    writer.write(key, b"two")
    writer.create(missing, "output", b"now here")
    time.sleep(PERIOD)
    assert observer.read(key) == b"two"
    assert observer.read(missing) == b"now here"
    writer.delete(key)
    time.sleep(PERIOD)
    with pytest.raises(NotFound):
        observer.read(key)


def test_a_finished_jobs_status_costs_no_reads(url):
    web = Queue(open_store(url), TIMING, kinds=BY_NAME)
    web.follow_changes(PERIOD)
    job = web.submit("lines", {"text": "The fox", "count": 2})
    with Queue(open_store(url), TIMING, kinds=BY_NAME).worker(host="w", device="cpu", offers=["default"]) as session:
        claim = session.claim_next({"lines"})
        claim.append(["a", "b"])
        claim.complete()
    time.sleep(PERIOD)
    assert web.status(job)["status"] == "done"
    before = web.store.calls.copy()
    for _ in range(4):
        status = web.status(job)
        time.sleep(PERIOD / 2)
    spent = web.store.calls - before
    assert status["lines"] == ["a", "b"] and status["status"] == "done"
    assert set(spent) <= {"changes.list"} and spent["changes.list"] <= 3  # the job file is not re-read either


def test_a_job_being_written_is_read_only_when_its_output_changes(url):
    web = Queue(open_store(url), TIMING, kinds=BY_NAME)
    web.follow_changes(PERIOD)
    job = web.submit("lines", {"text": "The fox", "count": 5})
    with Queue(open_store(url), TIMING, kinds=BY_NAME).worker(host="w", device="cpu", offers=["default"]) as session:
        claim = session.claim_next({"lines"})
        claim.append(["a"])
        time.sleep(PERIOD)
        assert web.status(job)["lines"] == ["a"]
        claim.append(["b"])
        deadline = time.monotonic() + 10
        while web.status(job)["lines"] != ["a", "b"]:
            assert time.monotonic() < deadline, "the new line never showed"
            time.sleep(0.05)
        claim.complete()


def test_the_read_cache_keeps_the_files_read_last_within_its_bound(url, monkeypatch):
    monkeypatch.setattr(drive_changes, "MAX_CACHED_BYTES", 3500)
    writer, observer = open_store(url), open_store(url)
    observer.follow_changes(PERIOD)
    keys = writer.new_keys("output", 5)
    for key in keys:
        writer.create(key, "output", key.encode() * (1000 // len(key)))
    for key in keys:
        observer.read(key)
    before = reads(observer)
    for key in keys[-3:]:  # the three read last fit in 3,500 bytes: no call
        observer.read(key)
    assert reads(observer) - before == 0
    observer.read(keys[0])  # the first was dropped to make room: read again
    assert reads(observer) - before > 0
