"""Hostile files in the queue folder harm only themselves: the real worker and the real CLI
skip them, say so once each in one line, and serve the good story."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from drivequeue import LocalStore
from tests.colab_worker.worker_support import REPO, drivequeue, queue_env, queue_for, run_worker, submit_story
from tests.drivequeue.hostile_files import plant_hostile_records, plant_non_regular_files


def test_a_worker_serves_the_queue_past_hostile_files(tmp_path, caplog):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    store = LocalStore(tmp_path / "queue")
    planted = {**plant_hostile_records(store), **plant_non_regular_files(store, tmp_path / "outside.json")}
    good = queue.submit("story", {"seed": "The wolf", "lines": 2})
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=1)
    assert queue.status(good)["status"] == "done" and queue.status(good)["line_count"] == 2
    log = caplog.text
    assert "Traceback" not in log
    assert log.count("started:") == 1  # the good story, and nothing planted ran
    for key, what in planted.items():
        if "heartbeat" not in what:  # a worker reads others' heartbeats only for the jobs they hold
            assert log.count(key) == 1, f"{what} ({key}) should be logged once:\n{log}"

    listed = drivequeue(env, "list", "--json")
    keys = {job["key"] for job in json.loads(listed)}
    for key, what in planted.items():
        if what in ("a folder", "a FIFO", "a link to a job file outside", "a link to /dev/zero"):
            assert key not in keys, what  # never opened, never listed
        elif key.startswith("job"):
            assert key in keys, what  # shown as failed, with the reason
    failed = [job for job in json.loads(listed) if job["key"] in planted]
    assert all(job["status"] == "failed" and job["error"].startswith("corrupt job file") for job in failed)

    workers = drivequeue(env, "workers")
    bad_heartbeat = next(key for key, what in planted.items() if "heartbeat" in what)
    assert f"{bad_heartbeat}  ignored: unreadable heartbeat file (field 'started' is not a plausible time)" in workers


def test_the_cli_refuses_no_command_because_of_a_fifo(tmp_path):
    env = queue_env(tmp_path)
    store = LocalStore(tmp_path / "queue")
    plant_non_regular_files(store, tmp_path / "outside.json")
    job_id = submit_story(env, "The wolf", 2)
    for args in (["list"], ["status", job_id], ["gc"], ["workers"]):
        done = subprocess.run([sys.executable, "-m", "drivequeue", *args], env=env, capture_output=True,
                              text=True, timeout=30, cwd=REPO)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
