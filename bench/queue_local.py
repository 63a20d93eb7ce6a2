"""Costs of the queue protocol on a local folder: time and store calls per operation.

Store calls are what a Google Drive store pays in API requests, so they are
counted next to the times. Reported, with --jobs jobs in the queue: submit,
a cold and a warm scan (``jobs()``), ``status`` of the last queued job (with
its queue position) and of a running one, and a full job cycle on a worker
(claim, --lines appends, complete).

Usage:
  python bench/queue_local.py                 # 1000 jobs, 10 lines each
  python bench/queue_local.py --jobs 200 --lines 50
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from drivequeue import LocalStore, Queue, Timing


class CountingStore(LocalStore):
    """The local store, counting each kind of call it serves."""

    def __init__(self, root):
        super().__init__(root)
        self.calls = Counter()

    def read(self, key, *limit):
        self.calls["read"] += 1
        return super().read(key, *limit)

    def list(self, name=None):
        self.calls["list"] += 1
        return super().list(name)

    def write(self, key, data):
        self.calls["write"] += 1
        return super().write(key, data)

    def create(self, key, name, data):
        self.calls["create"] += 1
        return super().create(key, name, data)

    def exists(self, key):
        self.calls["read"] += 1
        return super().exists(key)


ROWS: list[dict] = []  # what --json writes: one row per measured operation


def measure(store, label, action, repeat=1):
    """Run ``action`` ``repeat`` times; print the median time and the store calls per run."""
    store.calls.clear()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    calls = ", ".join(f"{name} {count / repeat:g}" for name, count in sorted(store.calls.items())) or "none"
    print(f"{label:<44} {statistics.median(times) * 1000:9.2f} ms   store calls: {calls}")
    ROWS.append({"operation": label, "median_ms": statistics.median(times) * 1000,
                 "store_calls": {name: count / repeat for name, count in sorted(store.calls.items())}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the queue")
    parser.add_argument("--lines", type=int, default=10, help="lines per job in the worker cycle")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="queue-bench-")
    try:
        timing = Timing(lease=10, heartbeat=2)
        store = CountingStore(folder)
        queue = Queue(store, timing)
        ids = []
        measure(store, f"submit (x{args.jobs})", lambda: ids.append(queue.submit("story", {"seed": "x"})),
                repeat=args.jobs)
        measure(store, f"jobs(), cold, {args.jobs} queued", lambda: Queue(store, timing).jobs())
        measure(store, f"jobs(), warm, {args.jobs} queued", queue.jobs, repeat=5)
        measure(store, "status of the last queued job (warm)", lambda: queue.status(ids[-1]), repeat=20)
        worker_queue = Queue(CountingStore(folder), timing)
        with worker_queue.worker(host="bench", device="cpu", offers=["default"]) as session:
            wstore = worker_queue.store

            def cycle():
                claim = session.claim_next()
                for n in range(args.lines):
                    claim.append([f"line {n}"])
                claim.complete()

            measure(wstore, f"worker cycle: claim, {args.lines} appends, complete", cycle, repeat=20)
            claim = session.claim_next()
            claim.append(["a line"])
            running = ids[20]
            measure(store, "status of a running job (warm)", lambda: queue.status(running, after=1), repeat=20)
            claim.complete()
    finally:
        shutil.rmtree(folder)
    if args.json:
        Path(args.json).write_text(json.dumps({"jobs": args.jobs, "lines": args.lines, "operations": ROWS}))


if __name__ == "__main__":
    main()
