"""End-to-end latency: from a line leaving the worker's generator to the web API serving it.

The real worker (``colab_worker.serving.serve_queue``, in a process of its own) writes
stories; the real web app (``webapp.create_app``, on a werkzeug server) serves
them; one client per story polls ``GET /api/stories/<id>?after=N`` as the story
page does (the next request one poll interval after the previous answer). The
worker's ``StoryBatch.step`` is wrapped to log the moment each line comes out of
the model; a line's latency is the moment the web API first served it minus
that moment (both on the machine's monotonic clock). Three transports:

* ``local``: both sides on one local folder;
* ``redis``: both sides on a redis-server of its own (started here), the web app
  reading a story up to ten times a second;
* ``drive``: both sides on the Drive API, served by the emulator with a fixed
  delay per request, with the Drive timings (output coalesced to a write a second);
* ``paper``: the seed paper's mounted Drive folder (``bench/paper_transport.py``):
  writes reach the other side after --mount-delay seconds, seen at its next
  re-mount every --remount seconds.

Usage:
  python -m bench.e2e_latency                                 # all three; the paper run takes ~2.5 min
  python -m bench.e2e_latency --transports local drive --stories 4 --lines 5
  python -m bench.e2e_latency --mount-delay 10 --model path/to/model.pt --json e2e.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import secrets
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from unittest import mock

from werkzeug.serving import make_server

from bench.paper_transport import MOUNT_DELAY_S, REMOUNT_S, MountedSide
from bench.redis_queue import RedisServerError, redis_server
from drivequeue import LocalStore, Queue, Timing, open_store
from drivequeue.redis_store import RedisStore
from drivequeue.drive import DriveStore, open_drive_store
from drivequeue.drive_settings import DriveSettings
from drivequeue.emulator import Emulator, Faults
from drivequeue.store import Store
from webapp import Config, create_app

SEEDS = ["Once upon a time", "The fox said to the bear", "In the deep forest", "The old king had a daughter",
         "A poor miller had three sons", "The wind came over the hill", "Long ago, by the sea",
         "The little tailor sat at his window"]
TRANSPORTS = ("local", "redis", "drive", "paper")
ACTIVE = ("queued", "running")


class BenchError(RuntimeError):
    """The benchmark could not run to the end (the message says what broke)."""


@dataclass(frozen=True)
class Transport:
    """How each side opens the queue; the openers are pickled into the worker process."""

    name: str
    label: str
    open_worker_store: Callable[[], Store]
    open_web_store: Callable[[], Store]
    timing: Timing


@contextmanager
def local_transport(workdir: Path) -> Iterator[Transport]:
    folder = workdir / "local-queue"
    yield Transport("local", "local folder", partial(LocalStore, folder), partial(LocalStore, folder),
                    Timing.from_env(LocalStore.default_timing, environ={}))


@contextmanager
def redis_transport(workdir: Path) -> Iterator[Transport]:
    """A redis-server of its own (Debian's package), logging every write before it answers."""
    try:
        with redis_server(workdir) as url:
            opener = partial(open_store, url + "?queue=e2e")
            yield Transport("redis", "Redis (a local redis-server, appendfsync always)", opener, opener,
                            Timing.from_env(RedisStore.default_timing, environ={}))
    except RedisServerError as exc:
        raise BenchError(str(exc)) from None


@contextmanager
def drive_transport(latency_s: float) -> Iterator[Transport]:
    with Emulator(faults=Faults(latency_s=latency_s)) as emulator:
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        opener = partial(open_drive_store, f"drive://id:{emulator.create_folder('e2e')}", settings)
        yield Transport("drive", f"Drive API (emulator, {latency_s * 1000:g} ms per request)", opener, opener,
                        Timing.from_env(DriveStore.default_timing, environ={}))


@contextmanager
def paper_transport(workdir: Path, delay: float, remount: float) -> Iterator[Transport]:
    colab, web = workdir / "mount-colab-side", workdir / "mount-web-side"
    yield Transport("paper", f"mounted Drive folder (paper: {delay:g} s delay, re-mount every {remount:g} s)",
                    partial(MountedSide, colab, web, delay, remount), partial(MountedSide, web, colab, delay, remount),
                    Timing.from_env(LocalStore.default_timing, environ={}))


# -- the worker process ------------------------------------------------------------------------

def serve_worker(transport: Transport, model: str, device: str, workdir: Path, line_log: Path,
                 ready, stop) -> None:
    """Run the real worker until ``stop`` is set, logging "<job key> <time>" for every generated line."""
    import torch

    from colab_worker import story_handler
    from colab_worker.config import WorkerConfig
    from colab_worker.devices import describe, pick_device
    from colab_worker.model_shelf import ModelShelf
    from drivequeue.shutdown import Shutdown
    from colab_worker.serving import serve_queue

    class TimedStoryBatch(story_handler.StoryBatch):
        def step(self):
            finished = super().step()
            now = time.monotonic()
            for line in finished:
                log.write(f"{line.story} {now!r}\n")
            log.flush()
            return finished

    config = replace(WorkerConfig.from_env(), model=model, device=device, cache_dir=workdir / "worker-cache")
    if config.threads:  # COLAB_WORKER_THREADS, as `colab-worker run` reads it
        torch.set_num_threads(config.threads)
    store = transport.open_worker_store()
    torch_device = pick_device(device)
    shelf = ModelShelf(store, config.cache_dir, torch_device, default=model)
    shelf.get("default")
    shutdown = Shutdown()
    threading.Thread(target=lambda: (stop.wait(), shutdown.request("benchmark over")), daemon=True).start()
    with open(line_log, "w") as log, mock.patch.object(story_handler, "StoryBatch", TimedStoryBatch):
        ready.set()
        serve_queue(Queue(store, transport.timing), shelf, config, torch_device, describe(torch_device), shutdown)
    store.close()


def generated_times(line_log: Path) -> dict[tuple[str, int], float]:
    """(job key, line index) -> when the generator returned that line."""
    counts: dict[str, int] = defaultdict(int)
    times = {}
    for row in line_log.read_text().splitlines():
        key, moment = row.split()
        times[(key, counts[key])] = float(moment)
        counts[key] += 1
    return times


# -- the web side --------------------------------------------------------------------------------

def submit(port: int, seed: str, lines: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/api/stories", body=json.dumps({"seed": seed, "lines": lines}),
                       headers={"Content-Type": "application/json", "Accept": "application/json"})
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    if response.status != 202:
        raise BenchError(f"the web app refused a story: {response.status} {body}")
    return body["id"]


def follow(port: int, story_id: str, poll_s: float, deadline: float, served: dict[int, float]) -> str:
    """Poll one story as the page does until it ends; record when each line was first served."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    after = 0
    try:
        while time.monotonic() < deadline:
            connection.request("GET", f"/api/stories/{story_id}?after={after}",
                               headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = json.loads(response.read())
            now = time.monotonic()
            if response.status != 200:
                raise BenchError(f"the web API answered {response.status}: {body}")
            if body["after"] == after:
                for offset in range(len(body["lines"])):
                    served[after + offset] = now
                after += len(body["lines"])
            if body["status"] not in ACTIVE:
                return body["status"]
            time.sleep(poll_s)
        return "timed out"
    finally:
        connection.close()


@contextmanager
def web_server(store: Store, timing: Timing) -> Iterator[int]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    config = Config(secret_key=secrets.token_hex(32), queue_url=store.url, environment="development",
                    create_limit="1000 per minute", read_limit="100000 per minute")
    server = make_server("127.0.0.1", 0, create_app(config, queue=Queue(store, timing)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()


# -- one run -------------------------------------------------------------------------------------

@dataclass
class Run:
    transport: str
    label: str
    poll_s: float
    stories: int
    lines_requested: int
    latencies: list[float]
    outcomes: list[str]

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        return {
            "label": self.label,
            "poll_s": self.poll_s,
            "stories": self.stories,
            "lines_requested": self.lines_requested,
            "lines_measured": len(ordered),
            "outcomes": self.outcomes,
            "p50_s": percentile(ordered, 50),
            "p95_s": percentile(ordered, 95),
            "min_s": ordered[0] if ordered else None,
            "max_s": ordered[-1] if ordered else None,
            "latencies_s": [round(x, 4) for x in self.latencies],
        }


def percentile(ordered: list[float], p: float) -> float | None:
    """The p-th percentile of sorted values (linear between the nearest ranks)."""
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1]


def measure(transport: Transport, model: str, device: str, workdir: Path, stories: int, lines: int,
            stagger: float, poll_s: float, timeout: float) -> Run:
    """Start a worker, submit ``stories`` stories ``stagger`` seconds apart, follow each to its end."""
    # the story page polls as often as the web app reads, the store's read period (timing.read)
    client_poll = transport.timing.read if poll_s is None else poll_s
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    line_log = workdir / f"{transport.name}-lines.log"
    worker = context.Process(target=serve_worker, name=f"worker-{transport.name}",
                             args=(transport, model, device, workdir, line_log, ready, stop))
    worker.start()
    web_store = transport.open_web_store()
    try:
        while not ready.wait(0.2):
            if not worker.is_alive():
                raise BenchError(f"the worker exited before it was ready (exit status {worker.exitcode})")
        with web_server(web_store, transport.timing) as port:
            served: dict[str, dict[int, float]] = {}
            outcomes: dict[str, str] = {}
            deadline = time.monotonic() + timeout
            followers = []
            for i in range(stories):
                story_id = submit(port, SEEDS[i % len(SEEDS)], lines)
                served[story_id] = {}
                follower = threading.Thread(
                    target=lambda s=story_id: outcomes.__setitem__(s, follow(port, s, client_poll, deadline, served[s])),
                    daemon=True)
                follower.start()
                followers.append(follower)
                time.sleep(stagger)
            for follower in followers:
                follower.join()
    finally:
        stop.set()
        worker.join(120)
        if worker.is_alive():
            worker.terminate()
            worker.join()
        web_store.close()
    generated = generated_times(line_log)
    latencies = [moment - generated[(story_id.split(".")[0], index)]
                 for story_id, lines_served in served.items()
                 for index, moment in lines_served.items()
                 if (story_id.split(".")[0], index) in generated]
    return Run(transport.name, transport.label, client_poll, stories, stories * lines, latencies,
               [outcomes.get(s, "not followed") for s in served])


def run_all(transports: list[str], model: str, device: str = "cpu", stories: int = 6, lines: int = 10,
            stagger: float = 1.3, poll_s: float | None = None, latency_ms: float = 150.0,
            mount_delay: float = MOUNT_DELAY_S, remount: float = REMOUNT_S) -> dict:
    """Measure each named transport in turn; the figures as a JSON-ready dict."""
    results = {"poll_s": poll_s, "latency_ms": latency_ms, "mount_delay_s": mount_delay, "remount_s": remount,
               "transports": {}}
    with tempfile.TemporaryDirectory(prefix="e2e-latency-") as tmp:
        for name in transports:
            workdir = Path(tmp) / name
            workdir.mkdir()
            if name == "local":
                opened = local_transport(workdir)
            elif name == "redis":
                opened = redis_transport(workdir)
            elif name == "drive":
                opened = drive_transport(latency_ms / 1000)
            else:
                opened = paper_transport(workdir, mount_delay, remount)
            # time enough to be claimed, written and seen: the paper's mount delays both ways
            timeout = 120 + stories * stagger + (2 * (mount_delay + remount) if name == "paper" else 0)
            with opened as transport:
                run = measure(transport, model, device, workdir, stories, lines, stagger, poll_s, timeout)
            results["transports"][name] = run.summary()
    return results


def print_table(results: dict) -> None:
    print("line generated -> served by GET /api/stories/<id>?after=N")
    for name, run in results["transports"].items():
        if run["p50_s"] is None:
            print(f"  {name:<6} no line measured ({', '.join(run['outcomes'])})")
            continue
        print(f"  {name:<6} polled every {run['poll_s']:g} s   p50 {run['p50_s']:7.2f} s   p95 {run['p95_s']:7.2f} s   max {run['max_s']:7.2f} s   "
              f"{run['lines_measured']}/{run['lines_requested']} lines   {run['label']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS),
                        help="which transports to measure (default: all three)")
    parser.add_argument("--model", default="default", help="model name or .pt path (default: the shipped one)")
    parser.add_argument("--device", default="cpu", help="the worker's device: cpu, cuda, auto (default cpu)")
    parser.add_argument("--stories", type=int, default=6, help="stories per transport (default 6)")
    parser.add_argument("--lines", type=int, default=10, help="lines per story (default 10)")
    parser.add_argument("--stagger", type=float, default=1.3, help="seconds between two submits (default 1.3)")
    parser.add_argument("--poll", type=float, default=None,
                        help="seconds between a client's polls (default: the store's read period, as the page does)")
    parser.add_argument("--latency-ms", type=float, default=150.0,
                        help="delay the Drive emulator adds to every request (default 150)")
    parser.add_argument("--mount-delay", type=float, default=MOUNT_DELAY_S,
                        help=f"paper: seconds before a write shows on the other side (default {MOUNT_DELAY_S:g})")
    parser.add_argument("--remount", type=float, default=REMOUNT_S,
                        help=f"paper: seconds between re-mounts (default {REMOUNT_S:g})")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = run_all(args.transports, args.model, args.device, args.stories, args.lines, args.stagger,
                      args.poll, args.latency_ms, args.mount_delay, args.remount)
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
