"""Fifty story pages streaming one story from gunicorn, while other visitors use the site.

Starts gunicorn with the project's gunicorn.conf.py (one process by default,
the worst case: every stream in one process) on a local queue, opens
--streams event streams of one story, writes a line every --line-every
seconds from a worker session, and meanwhile asks for the start page, a
story's JSON and /healthz one after another. Reported: how long the ordinary
requests took (are they starved?), how long a written line took to reach the
streams, how often the web process read the story from the store, and the
CPU the web process used.

Usage:
  python bench/web_streams.py                    # 50 streams, 20 s
  python bench/web_streams.py --streams 80 --seconds 30 --processes 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from drivequeue import LocalStore, Queue, Timing

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def counting_app():
    """The app on a store that counts its reads, with a route that tells the counts (gunicorn factory)."""
    from webapp import create_app

    class CountingStore(LocalStore):
        calls = 0

        def read(self, key, *limit):
            CountingStore.calls += 1
            return super().read(key, *limit)

        def list(self, name=None):
            CountingStore.calls += 1
            return super().list(name)

    store = CountingStore(os.environ["DRIVEQUEUE_URL"])
    queue = Queue(store)
    reads = {"status": 0}
    original = queue.status

    def counted_status(job_id, after=0):
        reads["status"] += 1
        return original(job_id, after)

    queue.status = counted_status
    app = create_app(queue=queue)
    app.add_url_rule("/bench/counts", "bench_counts",
                     lambda: {"store_calls": CountingStore.calls, "story_reads": reads["status"]})
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def children(pid) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError):
                pass
    return found


def get_json(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def stream_reader(port, path, stop, written, delays, opened):
    """One story page: an EventSource, reading line events."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    assert response.status == 200, response.status
    opened.append(1)
    name = None
    while not stop.is_set():
        line = response.fp.readline().decode()
        if not line:
            break
        if line.startswith("event: "):
            name = line[7:].strip()
        elif line.startswith("data: ") and name == "lines":
            now = time.monotonic()
            body = json.loads(line[6:])
            for index in range(body["after"], body["after"] + len(body["lines"])):
                if index in written:
                    delays.append(now - written[index])
        elif line.startswith("data: ") and name == "end":
            break
    connection.close()


def ordinary_visitor(port, story_path, stop, latencies):
    """Another visitor: the start page, a story's JSON, the health check, one after another."""
    paths = ["/", story_path, "/healthz"]
    i = 0
    while not stop.is_set():
        started = time.monotonic()
        status, _ = get_json(port, paths[i % 3])
        latencies.append((time.monotonic() - started, status))
        i += 1
        stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=50, help="open story pages")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure")
    parser.add_argument("--line-every", type=float, default=0.2, help="seconds between written lines")
    parser.add_argument("--processes", type=int, default=1, help="gunicorn processes (WEB_CONCURRENCY)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="web-streams-"))
    (folder / "queue").mkdir()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": str(args.processes),
           "WEBAPP_ENV": "development", "DRIVEQUEUE_URL": str(folder / "queue"),
           "WEBAPP_READ_LIMIT": "1000000 per minute", "WEBAPP_CREATE_LIMIT": "1000 per minute"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "bench.web_streams:counting_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if get_json(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/api/stories", json.dumps({"seed": "Bench", "lines": 100}),
                           {"Content-Type": "application/json"})
        story_id = json.loads(connection.getresponse().read())["id"]
        connection.close()
        workers = children(server.pid)

        stop = threading.Event()
        written: dict[int, float] = {}
        delays: list[float] = []
        latencies: list[tuple[float, int]] = []
        opened: list[int] = []
        readers = [threading.Thread(target=stream_reader, daemon=True,
                                    args=(port, f"/api/stories/{story_id}/stream", stop, written, delays, opened))
                   for _ in range(args.streams)]
        for thread in readers:
            thread.start()
        while len(opened) < args.streams:
            time.sleep(0.05)
        visitor = threading.Thread(target=ordinary_visitor, daemon=True,
                                   args=(port, f"/api/stories/{story_id}?after=0", stop, latencies))
        timing = Timing(lease=10.0, heartbeat=2.0, poll=0.2, check=1.0)
        with Queue(LocalStore(folder / "queue"), timing).worker(host="bench", device="cpu",
                                                                offers=["default"]) as session:
            claim = session.claim_next()
            before = json.loads(get_json(port, "/bench/counts")[1])
            cpu_before, started = cpu_seconds(workers), time.monotonic()
            visitor.start()
            index = 0
            while time.monotonic() - started < args.seconds and claim.remaining:
                claim.append([f"line {index}"])
                written[index] = time.monotonic()
                index += 1
                time.sleep(args.line_every)
            elapsed = time.monotonic() - started
            cpu = cpu_seconds(workers) - cpu_before
            after = json.loads(get_json(port, "/bench/counts")[1])
            stop.set()
            claim.complete()
        visitor.join()
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(folder)

    ordinary = sorted(t for t, _ in latencies)
    failed = sum(1 for _, status in latencies if status != 200)
    delays.sort()
    figures = {
        "streams": args.streams, "processes": args.processes, "seconds": elapsed, "lines": len(written),
        "ordinary_requests": len(ordinary), "ordinary_failed": failed,
        "ordinary_p50_s": statistics.median(ordinary), "ordinary_p95_s": ordinary[int(len(ordinary) * 0.95)],
        "line_to_stream_p50_s": statistics.median(delays), "line_to_stream_p95_s": delays[int(len(delays) * 0.95)],
        "story_reads_per_s": (after["story_reads"] - before["story_reads"]) / elapsed,
        "store_calls_per_s": (after["store_calls"] - before["store_calls"]) / elapsed,
        "cpu_percent": 100 * cpu / elapsed,
    }
    print(f"{args.streams} open streams of one story on {args.processes} gunicorn process(es), "
          f"{len(written)} lines over {elapsed:.1f} s")
    print(f"  ordinary requests:        {len(ordinary)} ({failed} failed), "
          f"p50 {figures['ordinary_p50_s'] * 1000:.0f} ms, p95 {figures['ordinary_p95_s'] * 1000:.0f} ms")
    print(f"  line written -> streams:  p50 {figures['line_to_stream_p50_s'] * 1000:.0f} ms, "
          f"p95 {figures['line_to_stream_p95_s'] * 1000:.0f} ms ({len(delays)} deliveries)")
    print(f"  story reads from store:   {figures['story_reads_per_s']:.2f} per second")
    print(f"  store calls:              {figures['store_calls_per_s']:.1f} per second")
    print(f"  web process CPU:          {figures['cpu_percent']:.0f} % of one core")
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
