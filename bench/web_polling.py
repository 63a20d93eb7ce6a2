"""Cost and delay of watching a story: many browsers poll one story through the web app.

A worker session appends a line every --line-every seconds to one story on a
local queue; --pollers clients each ask the real HTTP server for the lines
after the ones they have, once per --interval (as story.js does). Reported:
how often the story is read from the store per second (what a Drive quota
pays for) and how long a written line takes to be served.

Usage:
  python bench/web_polling.py                      # 50 pollers, 20 s
  python bench/web_polling.py --pollers 200 --seconds 30
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from drivequeue import LocalStore, Queue, Timing
from webapp import create_app
from webapp.config import Config


class CountingStore(LocalStore):
    """The local store, counting the reads and listings it serves."""

    def __init__(self, root):
        super().__init__(root)
        self.calls = 0
        self._lock = threading.Lock()

    def read(self, key, *limit):
        with self._lock:
            self.calls += 1
        return super().read(key, *limit)

    def list(self, name=None):
        with self._lock:
            self.calls += 1
        return super().list(name)


class CountingQueue(Queue):
    """The real queue, counting how often a story's state is computed from the store."""

    def __init__(self, store, timing):
        super().__init__(store, timing)
        self.status_calls = 0
        self._lock = threading.Lock()

    def status(self, job_id, after=0):
        with self._lock:
            self.status_calls += 1
        return super().status(job_id, after)


def poller(port, path, interval, stop, first_served, seen_delays, written, served):
    """One browser tab: GET ?after=N every ``interval`` seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    after = 0
    next_poll = time.monotonic()
    while not stop.is_set():
        connection.request("GET", f"{path}?after={after}", headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = json.loads(response.read())
        now = time.monotonic()
        served.append(now)
        for index in range(after, after + len(body.get("lines", []))):
            first_served.setdefault(index, now)
            if index in written:
                seen_delays.append(now - written[index])
        after += len(body.get("lines", []))
        next_poll += interval
        stop.wait(max(0.0, next_poll - time.monotonic()))
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pollers", type=int, default=50, help="browser tabs watching the story")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one tab's polls")
    parser.add_argument("--line-every", type=float, default=0.5, help="seconds between written lines")
    parser.add_argument("--cache", type=float, default=1.0, help="the app's poll_interval (cache age)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    folder = Path(tempfile.mkdtemp(prefix="web-polling-"))
    store = CountingStore(folder / "queue")
    timing = Timing(lease=10.0, heartbeat=2.0, poll=0.2, check=1.0)
    queue = CountingQueue(store, timing)
    config = Config(
        secret_key="bench-" + "x" * 30,
        queue_url=str(folder / "queue"),
        environment="development",
        read_limit="1000000 per minute",
        create_limit="1000 per minute",
        poll_interval=args.cache,
    )
    app = create_app(config, queue=queue)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port

    lines_wanted = int(args.seconds / args.line_every) + 5
    client = app.test_client()
    body = {"seed": "Bench", "lines": min(lines_wanted, 100)}
    story_id = client.post("/api/stories", json=body).get_json()["id"]
    worker_queue = Queue(LocalStore(folder / "queue"), timing)

    stop = threading.Event()
    first_served: dict[int, float] = {}
    seen_delays: list[float] = []
    written: dict[int, float] = {}
    served: list[float] = []
    path = f"/api/stories/{story_id}"
    threads = [
        threading.Thread(
            target=poller,
            args=(port, path, args.interval, stop, first_served, seen_delays, written, served),
        )
        for _ in range(args.pollers)
    ]
    with worker_queue.worker(host="bench", device="cpu", offers=["default"]) as session:
        claim = session.claim_next()
        for thread in threads:
            thread.start()
            time.sleep(args.interval / args.pollers)  # tabs opened at different moments
        time.sleep(args.interval)
        status_before, store_before, started = queue.status_calls, store.calls, time.monotonic()
        index = 0
        while time.monotonic() - started < args.seconds and claim.remaining:
            claim.append([f"line {index}"])
            written[index] = time.monotonic()
            index += 1
            time.sleep(args.line_every)
        elapsed = time.monotonic() - started
        status_calls, store_calls = queue.status_calls - status_before, store.calls - store_before
        time.sleep(args.interval + args.cache)
        stop.set()
        for thread in threads:
            thread.join()
        claim.complete()
    server.shutdown()
    shutil.rmtree(folder)

    delays = [first_served[i] - written[i] for i in written if i in first_served]
    print(f"{args.pollers} pollers, one poll each per {args.interval:g} s, cache age {args.cache:g} s, "
          f"{len(written)} lines written over {elapsed:.1f} s")
    requests = sum(1 for t in served if started <= t <= started + elapsed)
    print(f"  requests served:            {requests / elapsed:.1f} per second")
    print(f"  story reads (queue.status): {status_calls / elapsed:.2f} per second")
    print(f"  store reads and listings:   {store_calls / elapsed:.1f} per second")
    print(f"  written -> first served:    median {statistics.median(delays):.2f} s, "
          f"max {max(delays):.2f} s")
    print(f"  written -> seen by a tab:   median {statistics.median(seen_delays):.2f} s, "
          f"max {max(seen_delays):.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "pollers": args.pollers, "interval_s": args.interval, "cache_s": args.cache,
            "lines": len(written), "seconds": elapsed,
            "requests_per_s": requests / elapsed, "story_reads_per_s": status_calls / elapsed,
            "store_calls_per_s": store_calls / elapsed,
            "first_served_median_s": statistics.median(delays), "first_served_max_s": max(delays),
            "seen_median_s": statistics.median(seen_delays), "seen_max_s": max(seen_delays),
        }))


if __name__ == "__main__":
    main()
