"""The queue on one Redis: submit -> first line, and aggregate lines per second with N worker processes.

The workers are stub story workers (each line is written at once, no model), so the
figures are the queue's own cost on Redis, not the model's: every line is one
whole-output write, as the real worker does on a cheap store. A redis-server of
the benchmark's own is started (Debian's package) with ``appendfsync always``.

* submit -> first line: an idle worker waits on Redis (pub/sub wakes it), claims the
  story and writes its first line; measured from ``submit`` returning to a reader's
  ``status`` first showing the line (the reader polls every 0.01 s);
* throughput: --jobs stories of --lines lines each, served by 1, 4, 8 worker processes.

Usage:
  python -m bench.redis_queue                     # about a minute on 2 cores
  python -m bench.redis_queue --jobs 40 --lines 5 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from drivequeue import Queue, StoreUnavailable, Timing, open_store
from drivequeue.redis_store import RedisStore


class RedisServerError(RuntimeError):
    """redis-server could not be started."""


@contextmanager
def redis_server(folder: Path, fsync: str = "always"):
    """A redis-server on a free port that logs every write (``appendfsync`` ``fsync``); yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "yes", "--appendfsync", fsync, "--dir", str(folder)],
                              stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                open_store(url).list()
                break
            except StoreUnavailable:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RedisServerError("redis-server did not start (is Debian's redis-server installed?)") from None
                time.sleep(0.05)
        yield url
    finally:
        server.kill()
        server.wait()


def stub_worker(url: str, timing: Timing, stop) -> None:
    """Claim stories and write their lines as fast as the queue takes them."""
    queue = Queue(open_store(url), timing)
    with queue.worker(host="bench", device="cpu", offers=["default"]) as session:
        while not stop.is_set():
            claim = session.claim_next({"story"})
            if claim is None:
                session.wait(0.2)
                continue
            for number in range(claim.line_count + 1, claim.line_count + claim.remaining + 1):
                claim.append([f"line {number}"])
            claim.complete()


def first_line(url: str, timing: Timing, trials: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    worker = context.Process(target=stub_worker, args=(url, timing, stop))
    worker.start()
    queue = Queue(open_store(url), timing)
    try:
        while not queue.workers():
            time.sleep(0.05)
        time.sleep(1.0)  # the worker is idle, waiting on Redis
        delays = []
        for trial in range(trials):
            job = queue.submit("story", {"seed": f"trial {trial}", "lines": 1})
            submitted = time.monotonic()
            while not queue.status(job)["lines"]:
                time.sleep(0.01)
            delays.append(time.monotonic() - submitted)
            time.sleep(0.3)
    finally:
        stop.set()
        worker.join()
    return delays


def throughput(url: str, timing: Timing, workers: int, jobs: int, lines: int) -> float:
    queue = Queue(open_store(url), timing)
    ids = [queue.submit("story", {"seed": f"job {i}", "lines": lines}) for i in range(jobs)]
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    started = time.monotonic()
    processes = [context.Process(target=stub_worker, args=(url, timing, stop)) for _ in range(workers)]
    for process in processes:
        process.start()
    try:
        while any(job["status"] != "done" for job in queue.jobs()):
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        for process in processes:
            process.join()
    assert all(queue.status(job)["line_count"] == lines for job in ids)
    return jobs * lines / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="submit -> first line measurements")
    parser.add_argument("--jobs", type=int, default=100, help="stories per throughput run")
    parser.add_argument("--lines", type=int, default=20, help="lines per story")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8], help="worker processes per run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    timing = Timing.from_env(RedisStore.default_timing, environ={})
    results = {"timing": {"poll": timing.poll, "lease": timing.lease}, "lines_per_s": {}}
    with tempfile.TemporaryDirectory(prefix="redis-bench-") as tmp:
        with redis_server(Path(tmp)) as url:
            delays = sorted(first_line(f"{url}?queue=first", timing, args.trials))
            results["first_line_p50_s"] = statistics.median(delays)
            results["first_line_max_s"] = delays[-1]
            print(f"submit -> first line over Redis: p50 {results['first_line_p50_s'] * 1000:.0f} ms, "
                  f"max {delays[-1] * 1000:.0f} ms over {len(delays)} stories")
            for count in args.workers:
                rate = throughput(f"{url}?queue=w{count}", timing, count, args.jobs, args.lines)
                results["lines_per_s"][count] = rate
                print(f"{count} worker process{'es' if count > 1 else ''}: {rate:.0f} lines/s in aggregate "
                      f"({args.jobs} stories of {args.lines} lines)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
