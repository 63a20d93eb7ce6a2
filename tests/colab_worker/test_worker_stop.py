"""Warm stop: SIGTERM finishes every story's current line, gives the jobs back at once, exits 0."""

import re

from tests.colab_worker.worker_support import (
    WorkerProcess,
    drivequeue,
    follow,
    queue_env,
    queue_for,
    submit_story,
)

#: a lease far longer than the test may take: a job that waited for it would time the test out
LONG_LEASE = "600"


def test_sigterm_finishes_current_lines_and_releases_the_claims(tmp_path):
    env = queue_env(tmp_path, DRIVEQUEUE_LEASE=LONG_LEASE)
    queue = queue_for(env)
    ids = [submit_story(env, seed, 20) for seed in ("The wolf", "A little bird sang", "The queen said")]
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        before = {job_id: follow(queue, job_id, lambda s: s["line_count"] >= 2)["line_count"] for job_id in ids}
        first.signal()
        assert first.wait() == 0
    finally:
        first.stop()
    assert first.log.count("released after") == 3
    assert queue.workers() == []  # the heartbeat file is gone
    after = {job_id: queue.status(job_id) for job_id in ids}
    for job_id in ids:
        assert after[job_id]["status"] == "queued"
        assert before[job_id] < after[job_id]["line_count"] < 20  # the line in progress was finished

    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        final = {job_id: follow(queue, job_id, lambda s: s["status"] == "done") for job_id in ids}
    finally:
        second.signal()
        assert second.wait() == 0
    for job_id in ids:
        assert final[job_id]["line_count"] == 20
        assert final[job_id]["lines"][: after[job_id]["line_count"]] == after[job_id]["lines"]
        assert final[job_id]["attempt"] == 1  # a released claim does not use up an attempt


def test_a_cancel_with_seen_ends_the_story_at_the_lines_seen_and_one_more(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    job_id = submit_story(env, "The wolf", 100)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        seen = follow(queue, job_id, lambda s: s["line_count"] >= 4)["lines"][:2]
        drivequeue(env, "cancel", job_id, "--seen", "2")
        final = follow(queue, job_id, lambda s: s["status"] == "cancelled" and not s["stopping"])
        worker.wait_for_log(f"story {job_id.split('.')[0]} cancelled after")
    finally:
        worker.signal()
        assert worker.wait() == 0
    assert final["line_count"] == 3 and final["lines"][:2] == seen
    # the log says what the story kept, not only what the worker had written
    written = int(re.search(rf"story {job_id.split('.')[0]} cancelled after (\d+) lines, of which it keeps 3",
                            worker.log).group(1))
    assert written >= 4
