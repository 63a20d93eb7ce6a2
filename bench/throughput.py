"""Short jobs back to back: jobs per second through one worker, and one job's round trip, beside rq.

How it measures (issue 23): the worker runs in a process of its own
(``drivequeue worker --plugin bench.throughput_plugin``, default settings), started
and idle before the client begins; one client submits --jobs jobs as fast as it can
and then holds every result through ``Queue.result``; throughput is the jobs over the
time from the first submit to the last result. Kinds (bench/throughput_plugin.py):
``noop`` (the queue's own cost) and ``tiny`` (counts the words of a text it is sent).
A round trip is one ``submit`` then ``result`` in one process, --trips times in a row.

On Redis, rq runs the same no-op function on the same redis-server, measured the
same way: its ``SimpleWorker`` (no fork) and its default forking ``Worker``, the
client enqueueing every job and then waiting for each ``latest_result``. Ours and
rq's ``SimpleWorker`` take turns --rounds times and the median round counts (the
load of a shared machine shifts from minute to minute). Redis runs twice, on a
server of its own each: ``appendfsync always`` and ``everysec``. Then a
local folder, and the Drive emulator at --drive-latency-ms a request with handler
concurrency 1 and --drive-concurrency (no-op jobs, and jobs that wait a second as
a job waiting on something remote does). Redis commands and Drive API calls are
counted per job.

Usage:
  python -m bench.throughput                       # about 4 minutes on 2 cores
  python -m bench.throughput --jobs 50 --trips 20 --drive-jobs 10 --naps 4 --markdown /tmp/section.md
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
from contextlib import contextmanager
from pathlib import Path

import redis
from rq import Queue as RQQueue
from rq import Worker as RQWorker
from rq.results import Result

from bench.redis_queue import redis_server
from bench.throughput_report import throughput_section
from drivequeue import LocalStore, Queue, Timing, open_store
from drivequeue.emulator import Emulator, Faults
from drivequeue.plugins import kinds_of, load

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "bench.throughput_plugin"
TEXT = "the quick brown fox jumps over the lazy dog " * 4
#: a round trip over this is one the issue counts
SLOW_TRIP_S = 0.5
#: how long a ``nap`` job waits
NAP_S = 1.0
KINDS = kinds_of(load([PLUGIN], environ={}))


class BenchFailed(RuntimeError):
    """A worker did not start, or a job did not end as it should."""


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any DRIVEQUEUE_ setting (every store's defaults), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVEQUEUE_") and k != "REDIS_URL"}
    env["PYTHONPATH"] = str(REPO)
    return {**env, **extra}


@contextmanager
def our_worker(url: str, workdir: Path, env: dict[str, str]):
    """``drivequeue worker`` on ``url``, registered and idle when this yields."""
    process = subprocess.Popen([sys.executable, "-m", "drivequeue", "worker", "--queue", url, "--plugin", PLUGIN,
                                "--cache-dir", str(workdir / "cache")], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        queue = client(url)
        deadline = time.monotonic() + 60
        while not any(worker["online"] for worker in queue.workers()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchFailed(f"drivequeue worker did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        time.sleep(1.0)  # idle, waiting
        yield
    finally:
        process.terminate()
        process.wait(60)


def client(url: str) -> Queue:
    store = open_store(url)
    return Queue(store, Timing.from_env(store.default_timing, environ={}), kinds=KINDS)


def payload(kind: str, i: int) -> dict:
    return {"text": f"{i} {TEXT}"} if kind == "tiny" else {"seconds": NAP_S} if kind == "nap" else {}


def ours(url: str, kind: str, jobs: int) -> dict:
    """Submit ``jobs`` as fast as possible, then hold every result."""
    queue = client(url)
    started = time.perf_counter()
    ids = [queue.submit(kind, payload(kind, i)) for i in range(jobs)]
    submitted = time.perf_counter()
    for i, job_id in enumerate(ids):
        result = queue.result(job_id, timeout=600)
        if kind == "tiny" and result != {"words": 37, "chars": len(payload(kind, i)["text"])}:
            raise BenchFailed(f"a tiny job returned {result!r}")
    elapsed = time.perf_counter() - started
    queue.store.close()
    return {"jobs": jobs, "seconds": elapsed, "jobs_per_s": jobs / elapsed, "submit_s": submitted - started}


def round_trips(url: str, trips: int) -> dict:
    """``submit`` then ``result`` of one tiny job, ``trips`` times in a row."""
    queue = client(url)
    times = []
    for i in range(trips):
        started = time.perf_counter()
        queue.result(queue.submit("tiny", payload("tiny", i)), timeout=60)
        times.append(time.perf_counter() - started)
    queue.store.close()
    return summary(times)


def summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"trips": len(times), "median_s": statistics.median(times), "p90_s": times[int(0.9 * (len(times) - 1))],
            "max_s": times[-1], "over_500ms": sum(t > SLOW_TRIP_S for t in times)}


def commands(url: str) -> int:
    return redis.Redis.from_url(url).info("stats")["total_commands_processed"]


def per_job(before: int, after: int, jobs: int) -> float:
    return (after - before) / jobs


# -- rq -----------------------------------------------------------------------------------------

@contextmanager
def rq_worker(url: str, worker_class: str, workdir: Path, env: dict[str, str]):
    """rq's worker (``worker_class``) on its own queue, registered and idle when this yields its queue."""
    name = f"bench-{worker_class.rsplit('.', 1)[-1].lower()}"
    queue = RQQueue(name, connection=redis.Redis.from_url(url))
    process = subprocess.Popen([str(Path(sys.executable).parent / "rq"), "worker", "--url", url,
                                "--worker-class", worker_class, name], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not RQWorker.all(queue=queue):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchFailed(f"rq worker did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        time.sleep(1.0)
        yield queue
    finally:
        process.kill()  # an idle rq worker's warm stop waits out its blocking dequeue: not what is measured
        process.wait(60)


def rq_run(url: str, queue: RQQueue, jobs: int) -> dict:
    """The same client pattern on rq: enqueue every no-op job, then wait for each result."""
    before = commands(url)
    started = time.perf_counter()
    enqueued = [queue.enqueue("bench.throughput_plugin.rq_noop") for _ in range(jobs)]
    submitted = time.perf_counter()
    for job in enqueued:
        result = job.latest_result(timeout=600)
        if result is None or result.type != Result.Type.SUCCESSFUL:
            raise BenchFailed(f"an rq job ended {result!r}")
    elapsed = time.perf_counter() - started
    return {"jobs": jobs, "seconds": elapsed, "jobs_per_s": jobs / elapsed, "submit_s": submitted - started,
            "commands_per_job": per_job(before, commands(url), jobs)}


def median_run(runs: list[dict]) -> dict:
    """The run with the median rate, with every run's rate beside it."""
    middle = sorted(runs, key=lambda run: run["jobs_per_s"])[len(runs) // 2]
    return {**middle, "rates": [run["jobs_per_s"] for run in runs]}


# -- the stores ---------------------------------------------------------------------------------

def on_redis(fsync: str, jobs: int, trips: int, rounds: int, workdir: Path) -> dict:
    """Ours and rq's no-fork worker take turns, ``rounds`` times (the load of a shared machine
    shifts from minute to minute); each figure is the median round. rq's forking worker runs once."""
    env = clean_env()
    folder = workdir / f"redis-{fsync}"
    folder.mkdir()
    with redis_server(folder, fsync=fsync) as server:
        url = f"{server}?queue=bench"
        runs: dict[str, list[dict]] = {"noop": [], "tiny": [], "rq_simple": []}
        with our_worker(url, folder, env), rq_worker(server, "rq.worker.SimpleWorker", folder, env) as simple:
            for _ in range(rounds):
                for kind in ("noop", "tiny"):
                    before = commands(server)
                    run = ours(url, kind, jobs)
                    runs[kind].append({**run, "commands_per_job": per_job(before, commands(server), jobs)})
                runs["rq_simple"].append(rq_run(server, simple, jobs))
            figures = {name: median_run(found) for name, found in runs.items()}
            figures["round_trip"] = round_trips(url, trips)
        with rq_worker(server, "rq.worker.Worker", folder, env) as forking:
            figures["rq_fork"] = rq_run(server, forking, jobs)
    return figures


def on_folder(jobs: int, trips: int, workdir: Path) -> dict:
    folder = workdir / "queue"
    LocalStore(folder).close()
    figures = {}
    with our_worker(str(folder), workdir, clean_env()):
        for kind in ("noop", "tiny"):
            figures[kind] = ours(str(folder), kind, jobs)
        figures["round_trip"] = round_trips(str(folder), trips)
    return figures


def on_drive(latency_ms: float, jobs: int, naps: int, concurrencies: list[int], workdir: Path) -> dict:
    """At each handler concurrency: no-op jobs (the queue's cost) and naps (work that waits)."""
    figures = {"latency_ms": latency_ms, "nap_s": NAP_S, "runs": {}}
    with Emulator(faults=Faults(latency_s=latency_ms / 1000)) as emulator:
        access = {"DRIVEQUEUE_DRIVE_ENDPOINT": emulator.url, "DRIVEQUEUE_TOKEN": json.dumps(emulator.token_info())}
        os.environ.update(access)  # for this process's client
        for concurrency in concurrencies:
            url = f"drive://id:{emulator.create_folder(f'bench{concurrency}')}"
            runs = figures["runs"][str(concurrency)] = {}
            with our_worker(url, workdir, clean_env(**access, BENCH_CONCURRENCY=str(concurrency))):
                for kind, count in (("noop", jobs), ("nap", naps)):
                    before = sum(emulator.requests.values())
                    runs[kind] = ours(url, kind, count)
                    runs[kind]["api_calls_per_job"] = (sum(emulator.requests.values()) - before) / count
    return figures


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300, help="jobs per throughput run (Redis, local folder)")
    parser.add_argument("--trips", type=int, default=100, help="round trips per store")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns ours and rq's no-fork worker take on each Redis server (the median counts)")
    parser.add_argument("--drive-jobs", type=int, default=40, help="no-op jobs per run on the Drive emulator")
    parser.add_argument("--naps", type=int, default=24, help=f"jobs that wait {NAP_S:g} s, per run on the Drive emulator")
    parser.add_argument("--drive-latency-ms", type=float, default=150.0, help="the emulator's delay per request")
    parser.add_argument("--drive-concurrency", type=int, default=4, help="handler concurrency of the second Drive run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write BENCHMARKS.md's section to FILE")
    args = parser.parse_args()
    figures = {"machine": machine(), "jobs": args.jobs, "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        for fsync in ("always", "everysec"):
            figures[f"redis_{fsync}"] = on_redis(fsync, args.jobs, args.trips, args.rounds, Path(tmp))
            report_redis(fsync, figures[f"redis_{fsync}"])
        figures["local"] = on_folder(args.jobs, args.trips, Path(tmp))
        report_local(figures["local"])
        figures["drive"] = on_drive(args.drive_latency_ms, args.drive_jobs, args.naps,
                                    [1, args.drive_concurrency], Path(tmp))
        report_drive(figures["drive"])
    figures["machine"]["load_after"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(throughput_section(figures)) + "\n")


def report_redis(fsync: str, run: dict) -> None:
    rq_rate = run["rq_simple"]["jobs_per_s"]
    print(f"Redis, appendfsync {fsync}: ours {run['noop']['jobs_per_s']:.0f} no-op jobs/s "
          f"({run['noop']['jobs_per_s'] / rq_rate:.2f}x rq's SimpleWorker), {run['tiny']['jobs_per_s']:.0f} tiny; "
          f"rq SimpleWorker {rq_rate:.0f}, forking Worker {run['rq_fork']['jobs_per_s']:.0f}; "
          f"commands per job: ours {run['noop']['commands_per_job']:.1f}, rq {run['rq_simple']['commands_per_job']:.1f}")
    trip = run["round_trip"]
    print(f"  round trip: median {trip['median_s'] * 1000:.1f} ms, max {trip['max_s'] * 1000:.0f} ms, "
          f"{trip['over_500ms']} of {trip['trips']} over 500 ms")


def report_local(run: dict) -> None:
    trip = run["round_trip"]
    print(f"local folder: {run['noop']['jobs_per_s']:.0f} no-op jobs/s, {run['tiny']['jobs_per_s']:.0f} tiny; "
          f"round trip median {trip['median_s'] * 1000:.1f} ms, max {trip['max_s'] * 1000:.0f} ms, "
          f"{trip['over_500ms']} of {trip['trips']} over 500 ms")


def report_drive(drive: dict) -> None:
    for concurrency, runs in drive["runs"].items():
        print(f"Drive emulator at {drive['latency_ms']:g} ms a request, concurrency {concurrency}: "
              f"{runs['noop']['jobs_per_s']:.2f} no-op jobs/s ({runs['noop']['api_calls_per_job']:.1f} API calls "
              f"per job), {runs['nap']['jobs_per_s']:.2f} jobs/s of {drive['nap_s']:g} s naps")


if __name__ == "__main__":
    main()
