"""Every reader is told what a queued job waits for when no live worker serves it, and its place
counts only the jobs the same workers would take first; end to end through the real CLI."""

from __future__ import annotations

import json

import pytest

from drivequeue import JobFailed, LocalStore, Queue
from drivequeue.plugins import kinds_of, load
from tests.helpers import eventually

from .test_worker_command import ECHO, FN, drivequeue, submit, worker

BOTH = ("--plugin", ECHO, "--plugin", FN)


@pytest.fixture
def folder(tmp_path):
    LocalStore(tmp_path / "queue").close()
    return tmp_path / "queue"


def status(folder, job, *flags):
    done = drivequeue(*BOTH, "status", job, *flags, "--queue", str(folder))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in flags else done.stdout


def test_readers_that_know_every_kind_are_told_what_a_job_waits_for_and_its_place(folder):
    busy = submit(folder, "echo", {"text": "busy", "mode": "wait"}, ECHO)
    echo = submit(folder, "echo", {"text": "b"}, ECHO)
    scale = submit(folder, "scale", {"x": 2}, FN)
    last = submit(folder, "echo", {"text": "d"}, ECHO)
    # no worker at all: each waits, behind the jobs with the same needs only
    assert [(status(folder, job, "--json")["waiting_for"], status(folder, job, "--json")["queue_position"])
            for job in (busy, echo, scale, last)] == [("echo v1", 1), ("echo v1", 2), ("scale v2", 1), ("echo v1", 3)]
    assert "waiting for a worker that serves scale v2" in status(folder, scale)
    listed = json.loads(drivequeue(*BOTH, "list", "--json", "--queue", str(folder)).stdout)
    assert [job["waiting_for"] for job in listed] == ["echo v1", "echo v1", "scale v2", "echo v1"]

    served = worker(folder, "--plugin", ECHO, "--plugin", FN, "--kinds", "echo")
    try:
        eventually(lambda: status(folder, busy, "--json")["status"] == "running")
        shown = status(folder, busy)
        assert "progress: waiting true" in shown  # plain status shows the worker's report
        waiting = status(folder, echo, "--json")
        assert waiting["status"] == "queued" and waiting["waiting_for"] is None and waiting["queue_position"] == 1
        assert status(folder, last, "--json")["queue_position"] == 2
        # a worker is online, and this reader knows the kind: the job still says that none serves it
        unserved = status(folder, scale, "--json")
        assert unserved["waiting_for"] == "scale v2" and unserved["queue_position"] == 1

        cancelled = drivequeue(*BOTH, "cancel", busy, "--queue", str(folder))
        assert cancelled.returncode == 0 and "status: cancelled" in cancelled.stdout
        assert "line" not in cancelled.stdout  # an echo job writes no lines to end
        for job in (echo, last):
            assert json.loads(drivequeue(*BOTH, "result", job, "--json", "--timeout", "60",
                                         "--queue", str(folder)).stdout)["status"] == "done"
    finally:
        served.terminate()
        served.communicate(timeout=60)
    result = drivequeue(*BOTH, "result", busy, "--timeout", "60", "--queue", str(folder))
    assert result.returncode == 1 and result.stderr.strip() == "job cancelled"
    queue = Queue(LocalStore(folder), kinds=kinds_of(load([ECHO], environ={})))
    with pytest.raises(JobFailed, match="^the job was cancelled$"):
        queue.result(busy, timeout=10)
