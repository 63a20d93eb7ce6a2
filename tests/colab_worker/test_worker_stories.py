"""End to end on a local queue with the shipped model on CPU: stories submitted through the
CLI are written by a worker process, one line at a time."""

import re
import subprocess
import sys
import time

from tests.colab_worker.worker_support import (
    WorkerProcess,
    drivequeue,
    follow,
    queue_env,
    queue_for,
    submit_story,
)

SEEDS = ["Once upon a time there was a king", "The fox looked at the grapes", "In the forest"]
COMMON_WORDS = {"the", "and", "was", "his", "her", "that", "she", "with", "for", "they", "not", "you",
                "but", "had", "said", "him", "all", "one", "then", "when", "there", "this", "what", "are"}


def watch(queue, ids, timeout=180):
    """Every distinct list of lines each job showed, read whenever the queue folder changed."""
    seen = {job_id: [] for job_id in ids}
    pending = set(ids)
    queue.store.wait(0)  # start watching before the first read
    deadline = time.monotonic() + timeout
    while pending:
        assert time.monotonic() < deadline, f"stories not done: {seen}"
        for job_id in list(pending):
            view = queue.status(job_id)
            if not seen[job_id] or seen[job_id][-1] != view["lines"]:
                seen[job_id].append(view["lines"])
            assert view["status"] in ("queued", "running", "done"), view
            if view["status"] == "done":
                pending.discard(job_id)
        queue.store.wait(0.5)
    return seen


def test_three_stories_are_written_line_by_line(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    ids = [submit_story(env, seed, 5) for seed in SEEDS]
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        seen = watch(queue, ids)
    finally:
        worker.signal()
        assert worker.wait() == 0
    words = []
    for job_id in ids:
        final = seen[job_id][-1]
        assert len(final) == 5
        assert all(line.strip() for line in final)
        # lines only ever grow at the end, and readers saw the story before it was finished
        assert all(final[: len(snapshot)] == snapshot for snapshot in seen[job_id])
        assert any(0 < len(snapshot) < 5 for snapshot in seen[job_id]), seen[job_id]
        words += re.findall(r"[a-z']+", " ".join(final).lower())
    # real generated text, not noise: whole words, and the commonest English ones among them
    assert len(words) >= 30
    assert sum(word in COMMON_WORDS for word in words) >= 0.08 * len(words), words
    assert "story" in worker.log and "done after 5 lines" in worker.log


def test_cancel_stops_a_story_and_continue_writes_more_of_another(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    long_story = submit_story(env, "The wolf knocked at the door", 100)
    short_story = submit_story(env, "The queen looked in her mirror", 3)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        follow(queue, long_story, lambda s: s["line_count"] >= 2)
        drivequeue(env, "cancel", long_story)
        worker.wait_for_log(f"story {long_story.split('.')[0]} cancelled after")
        first = follow(queue, short_story, lambda s: s["status"] == "done")
        drivequeue(env, "continue", short_story, "--lines", "2")
        more = follow(queue, short_story, lambda s: s["status"] == "done" and s["segments"] == 2)
        cancelled = queue.status(long_story)
    finally:
        worker.signal()
        assert worker.wait() == 0
    assert cancelled["status"] == "cancelled" and cancelled["line_count"] < 100
    assert more["line_count"] == 5
    assert more["lines"][:3] == first["lines"]
    assert "2 lines with default, resuming after line 3" in worker.log


def test_drivequeue_tail_prints_the_story_as_colab_worker_generate_does(tmp_path):
    env = queue_env(tmp_path)
    seed = "The fox was hungry, and"
    job_id = submit_story(env, seed, 4, "--random-seed", "5")
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        tailed = subprocess.run([sys.executable, "-m", "drivequeue", "tail", job_id, "--timeout", "120"], env=env,
                                capture_output=True, text=True, timeout=180)
    finally:
        worker.signal()
        assert worker.wait() == 0
    generated = subprocess.run([sys.executable, "-m", "colab_worker", "generate", "--seed", seed, "--lines", "4",
                                "--random-seed", "5"], env=env, capture_output=True, text=True, timeout=180)
    assert tailed.returncode == 0 and generated.returncode == 0, (tailed.stderr, generated.stderr)
    assert tailed.stdout == generated.stdout
    assert tailed.stdout.startswith(seed) and not tailed.stdout.startswith(" ")
