"""End to end on a local queue with the shipped model on CPU: stories are written one line at a
time by the real worker (in the test's process), while another handle on the queue reads them."""

import logging
import re
import subprocess
import sys
import time

from tests.colab_worker.worker_support import WorkerProcess, follow, queue_env, queue_for, run_worker, submit_story

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


def test_three_stories_are_written_line_by_line(tmp_path, caplog):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    ids = [queue.submit("story", {"seed": seed, "lines": 5}) for seed in SEEDS]
    with caplog.at_level(logging.INFO):
        seen = run_worker(queue, tmp_path, max_jobs=3, alongside=lambda: watch(queue_for(env), ids))
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
    assert caplog.text.count("done after 5 lines") == 3


def test_cancel_stops_a_story_and_continue_writes_more_of_another(tmp_path, caplog):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    long_story = queue.submit("story", {"seed": "The wolf knocked at the door", "lines": 100})
    short_story = queue.submit("story", {"seed": "The queen looked in her mirror", "lines": 3})

    def reader():
        reader = queue_for(env)
        follow(reader, long_story, lambda s: s["line_count"] >= 2)
        reader.cancel(long_story)
        first = follow(reader, short_story, lambda s: s["status"] == "done")
        follow(reader, long_story, lambda s: s["status"] == "cancelled" and not s["stopping"])
        reader.continue_job(short_story, {"lines": 2})
        more = follow(reader, short_story, lambda s: s["status"] == "done" and s["segments"] == 2)
        return first, more, reader.status(long_story)

    with caplog.at_level(logging.INFO):  # the cancelled story, the short one, and its second segment
        first, more, cancelled = run_worker(queue, tmp_path, max_jobs=3, alongside=reader)
    assert cancelled["status"] == "cancelled" and cancelled["line_count"] < 100
    assert f"story {long_story.split('.')[0]} cancelled after" in caplog.text
    assert more["line_count"] == 5
    assert more["lines"][:3] == first["lines"]
    assert "2 lines with default, resuming after line 3" in caplog.text


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
