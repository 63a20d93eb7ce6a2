"""What watching the queue costs on Google Drive: the operator's page open and /metrics scraped,
measured through the real client and the real web app on the emulator.

Every request is counted (``DriveStore.calls``) in two phases of --minutes each,
on a queue holding --jobs finished stories and one idle worker (polling and
heartbeating, Drive timings):

* nobody watching: the idle deployment (the worker's calls; the web app makes none);
* the operator's page open in --tabs tabs (each fetching ``/operator/live`` every
  period, as ``static/js/operator.js`` does) and ``/metrics`` scraped every --scrape-s
  seconds: the web app's calls, by method.

Calls per minute are set against Drive's per-user quota (12,000 queries a minute
in the older quota pages; 325,000 quota units a minute since 2026-05).
--scale shrinks every interval to run faster; rates are reported in real Drive time.

Usage:
  python -m bench.operator_cost                  # about 40 seconds (3 Drive minutes a phase, x0.1)
  python -m bench.operator_cost --scale 1 --minutes 2 --tabs 3 --jobs 200
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from drivequeue import Queue
from drivequeue.drive import DriveStore
from drivequeue.drive_changes import RECONCILE_S
from drivequeue.drive_settings import DriveSettings
from drivequeue.emulator import Emulator
from drivequeue.metered_store import MeteredStore
from drivequeue.timing import Timing
from webapp import create_app
from webapp.config import Config

from .drive_api_cost import breakdown, scaled

KEY = "bench-operator-key-" + "b" * 16
#: the per-user quota of Drive's older pages, in queries a minute
QUOTA_PER_MINUTE = 12_000


def drive_store(settings: DriveSettings, folder: str, scale: float) -> DriveStore:
    """A Drive store handle whose reconciling listing also runs ``scale`` times faster."""
    return DriveStore(settings.api(), folder, reconcile_s=RECONCILE_S * scale)


def finished_stories(queue: Queue, count: int) -> None:
    with queue.worker(host="bench-history", device="cpu", offers=["default"]) as session:
        for n in range(count):
            queue.submit("story", {"seed": f"Story {n}.", "lines": 2})
            claim = session.claim_next()
            claim.append(["One line.", "Two lines."])
            claim.complete()


def idle_worker(queue: Queue, ready: threading.Event, stop: threading.Event) -> None:
    """A worker with nothing to do: it looks for jobs every ``poll`` and beats every ``heartbeat``.
    ``ready`` is set once its first look (which reads every job once) is over."""
    with queue.worker(host="bench-idle", device="cuda: Tesla T4", offers=["default"]) as session:
        while not stop.is_set():
            if session.claim_next() is None:
                ready.set()
                stop.wait(queue.timing.poll)


def watch(app, path: str, every: float, stop: threading.Event) -> None:
    client = app.test_client()
    while not stop.is_set():
        response = client.get(path, headers={"Authorization": f"Bearer {KEY}"})
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        stop.wait(every)


def per_minute(calls: Counter, seconds: float, scale: float) -> float:
    return sum(calls.values()) / (seconds / scale) * 60


def measure(args) -> dict:
    timing = scaled(Timing.from_env(DriveStore.default_timing, environ={}), args.scale)
    timing = replace(timing, read=DriveStore.default_timing.read * args.scale)
    seconds = args.minutes * 60 * args.scale
    with Emulator() as emulator:
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        folder = emulator.create_folder("bench")
        finished_stories(Queue(drive_store(settings, folder, args.scale), timing), args.jobs)
        worker_store = drive_store(settings, folder, args.scale)
        web_store = drive_store(settings, folder, args.scale)
        config = Config(secret_key="bench-" + "x" * 30, queue_url=f"drive://id:{folder}", environment="development",
                        read_limit="100000 per minute", operator_key=KEY,
                        operator_period=Config.operator_period * args.scale)
        app = create_app(config, queue=Queue(MeteredStore(web_store), timing))
        ready, stop_worker = threading.Event(), threading.Event()
        worker = threading.Thread(target=idle_worker, args=(Queue(worker_store, timing), ready, stop_worker))
        worker.start()
        ready.wait()
        time.sleep(timing.poll)

        worker_before, web_before = worker_store.calls.copy(), web_store.calls.copy()
        time.sleep(seconds)
        idle = {"worker": worker_store.calls - worker_before, "web": web_store.calls - web_before}

        stop_watching = threading.Event()
        period = app.extensions["queue_watch"].period
        app.extensions["queue_watch"].look()  # the first look seeds the web app's changes feed and caches
        watchers = [threading.Thread(target=watch, args=(app, "/operator/live", period, stop_watching))
                    for _ in range(args.tabs)]
        watchers.append(threading.Thread(target=watch, args=(app, "/metrics", args.scrape_s * args.scale,
                                                             stop_watching)))
        for thread in watchers:
            thread.start()
        worker_before, web_before = worker_store.calls.copy(), web_store.calls.copy()
        time.sleep(seconds)
        watched = {"worker": worker_store.calls - worker_before, "web": web_store.calls - web_before}
        stop_watching.set()
        for thread in watchers:
            thread.join()
        stop_worker.set()
        worker.join()
    rate = {phase: {side: per_minute(calls, seconds, args.scale) for side, calls in counts.items()}
            for phase, counts in (("idle", idle), ("watched", watched))}
    return {"scale": args.scale, "minutes": args.minutes, "jobs": args.jobs, "tabs": args.tabs,
            "scrape_s": args.scrape_s, "period_s": period / args.scale, "quota_per_minute": QUOTA_PER_MINUTE,
            "calls_per_minute": rate,
            "calls": {phase: {side: dict(calls) for side, calls in counts.items()}
                      for phase, counts in (("idle", idle), ("watched", watched))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="Drive-time minutes each phase lasts")
    parser.add_argument("--scale", type=float, default=0.1, help="multiply every interval by this to run faster")
    parser.add_argument("--jobs", type=int, default=50, help="finished stories the queue holds")
    parser.add_argument("--tabs", type=int, default=1, help="browser tabs with the operator's page open")
    parser.add_argument("--scrape-s", type=float, default=15.0, help="seconds between scrapes of /metrics")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    figures = measure(args)
    rate, calls = figures["calls_per_minute"], figures["calls"]
    print(f"{args.jobs} finished stories, Drive timings x{args.scale:g}; rates per Drive-time minute")
    print(f"nobody watching: worker {rate['idle']['worker']:.1f} calls/min ({breakdown(Counter(calls['idle']['worker']))}), "
          f"web app {rate['idle']['web']:.1f}")
    print(f"page open in {args.tabs} tab(s) (a look every {figures['period_s']:g} s) and /metrics every "
          f"{args.scrape_s:g} s: web app {rate['watched']['web']:.1f} calls/min "
          f"({breakdown(Counter(calls['watched']['web']))}); worker {rate['watched']['worker']:.1f}")
    total = rate["watched"]["web"] + rate["watched"]["worker"]
    print(f"together {total:.1f} calls/min: {total / QUOTA_PER_MINUTE:.2%} of {QUOTA_PER_MINUTE:,} a minute")
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
