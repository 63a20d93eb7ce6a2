"""What only the local folder store does: paths, temporary files, torn writes, inotify."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from drivequeue import JobState, Queue
from drivequeue.errors import InvalidKey, NotFound, UnreadableFile
from drivequeue.local import STALE_TMP_SECONDS, TMP_DIR, LocalStore

from . import torn_writer
from .lines_plugin import BY_NAME

REPO = Path(__file__).resolve().parents[2]
OLD = b"O" * 300_000


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "queue")
    yield store
    store.close()


def test_files_live_inside_the_folder_under_their_key(store, tmp_path):
    key, = store.new_keys("job")
    store.create(key, "job", b"x")
    assert (tmp_path / "queue" / key).read_bytes() == b"x"
    assert sorted(os.listdir(tmp_path)) == ["queue"]


def test_a_key_must_have_been_reserved_for_that_name(store):
    key, = store.new_keys("job")
    with pytest.raises(InvalidKey):
        store.create(key, "claim", b"x")
    with pytest.raises(InvalidKey):
        store.create("nodash", "job", b"x")
    with pytest.raises(InvalidKey):
        store.create("job-", "job", b"x")


def test_foreign_and_temporary_files_are_not_listed(store, tmp_path):
    (tmp_path / "queue" / "README.txt").write_text("not a record")
    (tmp_path / "queue" / TMP_DIR / "leftover").write_bytes(b"half")
    assert store.list() == []


def test_something_at_a_key_that_is_no_file_exists_though_it_cannot_be_read(store, tmp_path):
    folder, fifo, link = store.new_keys("cancel", 3)
    (store.root / folder).mkdir()
    os.mkfifo(store.root / fifo)
    os.symlink(tmp_path / "nowhere", store.root / link)
    for key in (folder, fifo, link):
        assert store.exists(key)
        with pytest.raises(UnreadableFile):
            store.read(key)


def test_a_claim_stops_at_a_folder_on_its_cancel_key_as_readers_see_the_job_cancelled(store, fast_timing):
    queue = Queue(store, fast_timing, kinds=BY_NAME)
    job_id = queue.submit("lines", {"text": "x", "count": 5})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["one"])
        (store.root / claim._cancel_key).mkdir()
        reader = Queue(LocalStore(store.root), fast_timing, kinds=BY_NAME)
        assert reader.status(job_id).state is JobState.CANCELLED
        assert claim.cancelled
        claim.complete()
    assert reader.status(job_id).state is JobState.CANCELLED and not reader.status(job_id).stopping


def test_stale_temporary_files_are_removed_on_open(tmp_path):
    LocalStore(tmp_path / "q").close()
    old = tmp_path / "q" / TMP_DIR / "old"
    fresh = tmp_path / "q" / TMP_DIR / "fresh"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    long_ago = time.time() - STALE_TMP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    LocalStore(tmp_path / "q").close()
    assert not old.exists()
    assert fresh.exists()


STEPS = ["open", "write", "fsync", "rename", "sync-folder"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("mode", ["create", "write"])
def test_a_write_killed_at_any_step_leaves_the_old_file_or_the_new_one(store, mode, step):
    key, = store.new_keys("output")
    if mode == "write":
        store.create(key, "output", OLD)
    child = subprocess.run(
        [sys.executable, "-m", "tests.drivequeue.torn_writer", str(store.root), key, mode, step],
        cwd=REPO, capture_output=True,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    landed = step == "sync-folder"  # killed after the rename: the new file is complete
    if landed:
        assert store.read(key) == torn_writer.NEW
    elif mode == "write":
        assert store.read(key) == OLD
    else:
        with pytest.raises(NotFound):
            store.read(key)
    assert [entry.key for entry in store.list()] == ([key] if landed or mode == "write" else [])
    # the folder is still usable, and the key behaves as before
    if mode == "write" or landed:
        store.write(key, b"after")
    else:
        store.create(key, "output", b"after")
    assert store.read(key) == b"after"


def test_readers_never_see_a_partial_file_while_writers_are_killed(store):
    """A child rewrites one file in a loop and is SIGKILLed at random moments; every
    read in between is one of the complete versions."""
    key, = store.new_keys("output")
    versions = {bytes([65 + i]) * (100_000 + i) for i in range(4)}
    store.create(key, "output", min(versions))
    script = (
        "import sys\n"
        "from drivequeue.local import LocalStore\n"
        "s = LocalStore(sys.argv[1])\n"
        "vs = [bytes([65 + i]) * (100_000 + i) for i in range(4)]\n"
        "i = 0\n"
        "while True:\n"
        "    s.write(sys.argv[2], vs[i % 4]); i += 1\n"
    )
    reads = 0
    for round_ in range(6):
        child = subprocess.Popen([sys.executable, "-c", script, str(store.root), key], cwd=REPO)
        deadline = time.monotonic() + 0.3 + 0.1 * round_
        while time.monotonic() < deadline:
            assert store.read(key) in versions
            reads += 1
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert store.read(key) in versions
    assert reads > 0


def test_wait_wakes_up_when_a_file_is_created(store):
    store.wait(0)  # sets up the watch
    assert store.wait(0.01) is False
    key, = store.new_keys("job")
    writer = threading.Timer(0.05, lambda: LocalStore(store.root).create(key, "job", b"x"))
    writer.start()
    try:
        assert store.wait(30) is True
    finally:
        writer.join()
    assert store.exists(key)


def test_wait_sees_changes_made_between_two_waits(store):
    store.wait(0)
    key, = store.new_keys("job")
    LocalStore(store.root).create(key, "job", b"x")
    assert store.wait(30) is True


def test_rewrites_of_heartbeat_files_wake_nobody_but_their_creates_and_removals_do(store):
    store.wait(0)
    other = LocalStore(store.root)
    heartbeat, = other.new_keys("worker")
    other.create(heartbeat, "worker", b"{}")
    assert store.wait(5) is True  # a worker registering
    other.write(heartbeat, b"{}")
    assert store.wait(0.3) is False  # its heartbeat
    output, = other.new_keys("output")
    other.create(output, "output", b"{}")
    assert store.wait(5) is True
    other.write(output, b"{}")
    assert store.wait(5) is True  # any other rewrite wakes (a job given back may be claimable)
    other.delete(heartbeat)
    assert store.wait(5) is True  # a worker gone: its jobs may be claimable


def test_new_files_are_told_from_the_watch_and_every_file_once_the_watch_lost_some(store):
    everything, cursor = store.created_since(None)
    assert everything == []
    job, = store.new_keys("job")
    store.create(job, "job", b"{}")
    told, cursor = store.created_since(cursor)
    assert [(entry.key, entry.name) for entry in told] == [(job, "job")]
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    for i in range(limit + 10):  # more new names than the kernel queues: some events are lost
        (store.root / f"blob-{i:06d}").touch()
    told, cursor = store.created_since(cursor)
    assert len(told) == limit + 11  # the whole folder, listed again
    assert store.created_since(cursor) == ([], cursor)
