"""Worker latency and throughput on a local queue: a real colab-worker run process.

Reported:
  * time from ``submit`` to the story's first line being readable, with the worker idle
    and waiting (median and worst of --trials submits);
  * aggregate lines per second with 1, 8 and 32 stories submitted at once (from the
    submit to the last line of the last story).

Usage:
  python bench/worker_latency.py                          # CPU, the shipped default model
  python bench/worker_latency.py --device cuda --concurrency 1 8 32 128
  python bench/worker_latency.py --model path/to/model.pt --trials 20 --lines 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from drivequeue import Queue, Timing, open_store  # noqa: E402

SEEDS = ["Once upon a time", "The fox said", "In the deep forest", "The old king had a daughter"]


def wait_for(queue: Queue, job_ids: list[str], done, timeout: float = 600) -> float:
    """Block (on folder notifications) until ``done(status)`` holds for every job; the time then."""
    pending = list(job_ids)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [job_id for job_id in pending if not done(queue.status(job_id))]
        if pending:
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up after {timeout}s: {len(pending)} jobs unfinished")
            queue.store.wait(0.5)
    return time.perf_counter()


def first_line_latency(queue: Queue, trials: int) -> list[float]:
    delays = []
    for i in range(trials):
        queue.store.wait(0)  # watching starts before the submit
        start = time.perf_counter()
        job_id = queue.submit("story", {"seed": SEEDS[i % len(SEEDS)], "lines": 1})
        delays.append(wait_for(queue, [job_id], lambda s: s["line_count"] >= 1) - start)
        time.sleep(0.3)  # let the worker go idle again
    return delays


def throughput(queue: Queue, stories: int, lines: int) -> float:
    queue.store.wait(0)
    start = time.perf_counter()
    ids = [queue.submit("story", {"seed": SEEDS[i % len(SEEDS)], "lines": lines}) for i in range(stories)]
    end = wait_for(queue, ids, lambda s: s["status"] == "done")
    return stories * lines / (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model for the worker (default: the shipped one)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda ... (default cpu)")
    parser.add_argument("--trials", type=int, default=10, help="submits timed for the first-line latency")
    parser.add_argument("--lines", type=int, default=10, help="lines per story in the throughput runs")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32],
                        help="stories submitted at once in the throughput runs")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="worker-bench-")
    env = dict(os.environ, DRIVEQUEUE_URL=folder, COLAB_WORKER_CACHE=os.path.join(folder, "cache"),
               PYTHONUNBUFFERED="1", COLAB_WORKER_MAX_BATCH=str(max(args.concurrency)))
    command = [sys.executable, "-m", "colab_worker", "run", "--device", args.device]
    if args.model:
        command += ["--model", args.model]
    store = open_store(folder)
    queue = Queue(store, Timing.from_env(store.default_timing))
    log_path = Path(folder) / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        while "serving" not in log_path.read_text():
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited before it was ready:\n{log_path.read_text()}")
            time.sleep(0.1)
        print(f"worker ready ({args.device}); queue and log in {folder}")
        delays = first_line_latency(queue, args.trials)
        print(f"submit -> first line: median {statistics.median(delays) * 1000:.0f} ms, "
              f"worst {max(delays) * 1000:.0f} ms over {len(delays)} submits")
        figures = {"device": args.device, "first_line_s": delays, "lines": args.lines, "lines_per_s": {}}
        for stories in args.concurrency:
            rate = throughput(queue, stories, args.lines)
            figures["lines_per_s"][stories] = rate
            print(f"{stories:4d} stories x {args.lines} lines: {rate:7.1f} lines/s in aggregate")
        if args.json:
            Path(args.json).write_text(json.dumps(figures))
    finally:
        worker.terminate()
        worker.wait(60)


if __name__ == "__main__":
    main()
