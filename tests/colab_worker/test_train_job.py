"""A train job on a tiny pushed corpus: progress streamed as lines, a worker killed midway
is resumed from the checkpoint in the queue (not from step 0), the published model then
writes a story; a cancelled train job stops and publishes nothing, one stopped with keep
publishes its best model so far; an ended job leaves no scratch file."""

import random
import re
import signal
import subprocess
import sys
import time

from drivequeue import files as pushed_files
from tests.colab_worker.worker_support import (
    WorkerProcess,
    drivequeue,
    follow,
    queue_env,
    queue_for,
    submit_story,
)

STEPS = 600


def tiny_corpus(path) -> None:
    rng = random.Random(7)
    who = ["the miller", "a fox", "the little goat", "the queen", "an old woman"]
    did = ["went into the wood", "sat by the fire", "ran to the well", "sang a song", "ate the bread"]
    path.write_text("".join(f"{rng.choice(who).capitalize()} {rng.choice(did)}.\n" for _ in range(1200)))


def test_train_job_survives_a_kill_and_its_model_writes_a_story(tmp_path):
    env = queue_env(tmp_path, COLAB_WORKER_CHECKPOINT="0.5")
    queue = queue_for(env)
    tiny_corpus(tmp_path / "goats.txt")
    drivequeue(env, "push", str(tmp_path / "goats.txt"))
    job_id = drivequeue(env, "submit", "train", "goats.txt", "--model", "goats",
                        "--steps", str(STEPS), "--hidden-size", "32", "--layers", "1",
                        "--seq-len", "32", "--batch-size", "8").split()[-1]

    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        # the first evaluation's progress line has been written: training is well under way
        follow(queue, job_id, lambda s: any(" val " in line for line in s["lines"]))
        first.signal(signal.SIGKILL)
        first.wait()
    finally:
        first.stop()
    before = queue.status(job_id)
    assert before["lines"][0].startswith(f"training goats on goats.txt for {STEPS} steps")
    assert pushed_files.scratch_name(job_id.split(".")[0], "checkpoint.pt") in _pushed(queue)

    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        done = follow(queue, job_id, lambda s: s["status"] not in ("queued", "running"))
        assert done["status"] == "done", done
        resumed_at = int(re.search(r"resuming from step (\d+)", second.log).group(1))
        assert resumed_at > 0
        assert f"resuming from step {resumed_at}" in done["lines"][len(before["lines"])]
        steps_after = [int(m.group(1)) for line in done["lines"][len(before["lines"]):]
                       for m in [re.match(r"step (\d+)/", line)] if m]
        assert steps_after and min(steps_after) > resumed_at
        assert "model 'goats' published" in done["lines"][-1]
        assert "models/goats.pt" in _pushed(queue)
        follow(queue, job_id, lambda s: not _scratch_of(queue, job_id), timeout=30)  # it ended: its checkpoint goes

        story_id = submit_story(env, "The queen", 2, "--model", "goats")
        story = follow(queue, story_id, lambda s: s["status"] not in ("queued", "running"))

        again = drivequeue(env, "submit", "train", "goats.txt", "--model", "goats2",
                           "--steps", "100000", "--hidden-size", "32", "--layers", "1").split()[-1]
        follow(queue, again, lambda s: len(s["lines"]) >= 2)
        drivequeue(env, "cancel", again)
        second.wait_for_log(f"train job {again.split('.')[0]} cancelled at step")
    finally:
        second.signal()
        assert second.wait() == 0
    assert story["status"] == "done" and story["line_count"] == 2
    assert "2 lines with goats" in second.log
    assert "models/goats2.pt" not in _pushed(queue)
    assert not _scratch_of(queue, again)  # removed by the cancel, and not pushed again as it stopped
    assert queue.status(again)["result"] is None


def test_a_train_job_stopped_with_keep_publishes_its_best_model_so_far(tmp_path):
    env = queue_env(tmp_path, COLAB_WORKER_CHECKPOINT="0.5")
    queue = queue_for(env)
    tiny_corpus(tmp_path / "goats.txt")
    drivequeue(env, "push", str(tmp_path / "goats.txt"))
    job_id = drivequeue(env, "submit", "train", "goats.txt", "--steps", "100000", "--hidden-size", "32",
                        "--layers", "1", "--seq-len", "32", "--batch-size", "8").split()[-1]
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        evaluated = follow(queue, job_id, lambda s: any(" val " in line for line in s["lines"])
                           and _scratch_of(queue, job_id))
        assert evaluated["status"] == "running"
        drivequeue(env, "cancel", job_id, "--keep")
        ended = follow(queue, job_id, lambda s: s["status"] not in ("queued", "running") and not s["stopping"])
        worker.wait_for_log(f"train job {job_id.split('.')[0]} cancelled, keeping its result")
    finally:
        worker.signal()
        assert worker.wait() == 0
    assert ended["status"] == "cancelled"
    result = ended["result"]
    assert result["model"] == "goats" and result["stopped_by"] == "stopped by request"
    assert 0 < result["steps"] < 100000 and result["best_val_loss"] > 0
    assert "stopped by request" in ended["lines"][-1] and "model 'goats' published" in ended["lines"][-1]
    assert "models/goats.pt" in _pushed(queue)
    assert worker.log.count(f"train job {job_id.split('.')[0]} started") == 1  # its start is logged once
    listed = drivequeue(env, "files")
    assert "models/goats.pt" in listed and "scratch" not in listed  # the real CLI lists no checkpoint


def _pushed(queue) -> set[str]:
    return {stored.name for stored in pushed_files.stored_files(queue.store)}


def _scratch_of(queue, job_id) -> set[str]:
    return {name for name in _pushed(queue) if name.startswith(f"jobs/{job_id.split('.')[0]}/scratch/")}


def test_the_expected_time_is_said_before_a_train_job_is_submitted_for_the_worker_online(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    tiny_corpus(tmp_path / "goats.txt")
    drivequeue(env, "push", str(tmp_path / "goats.txt"))
    alone = _submit_train(env, "--estimate")
    assert alone.stdout == "expected time: unknown, no worker that serves train v2 is online (it depends on the " \
                           "worker that takes the job)\n"
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        measured = _eventually_measured(queue)
        estimate = _submit_train(env, "--estimate", "--steps", "3000")
        submitted = _submit_train(env, "--steps", "3000", "--hidden-size", "32", "--layers", "1")
    finally:
        worker.signal()
        assert worker.wait() == 0
    host = measured["host"]
    said = re.fullmatch(rf"expected time on worker {re.escape(host)} \(cpu\): (about \d+ minutes?|about [\d.]+ hours|"
                        r"under a minute), at the [\d.e+]+ GFLOP/s it measured \(early stopping may end it sooner\)\n",
                        estimate.stdout)
    assert said, estimate.stdout
    assert not queue.jobs() or all(job["kind"] == "train" for job in queue.jobs())
    assert len(queue.jobs()) == 1  # --estimate submitted nothing; the plain submit did, after saying it
    assert submitted.stderr.startswith(f"expected time on worker {host} (cpu): ")
    assert re.fullmatch(r"job-[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n", submitted.stdout)


def _submit_train(env, *flags):
    done = subprocess.run([sys.executable, "-m", "drivequeue", "submit", "train", "goats.txt", *flags], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def _eventually_measured(queue, timeout=60.0) -> dict:
    """The worker once its heartbeat says how fast it trains."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in queue.workers():
            if (worker.get("report") or {}).get("device", {}).get("train_flops"):
                return worker
        time.sleep(0.2)
    raise AssertionError(f"no worker measured its training speed: {queue.workers()}")
