"""Steady-state Google Drive API cost of the queue, measured through the real client on the emulator.

Every request the Drive store makes is counted (``DriveStore.calls``), so the
numbers are what a deployment pays against its per-user quota. Reported, with
the Drive timings of ``drivequeue.timing`` (poll 3 s, heartbeat 15 s, output
coalesced to one write per second):

* an idle worker: API calls per minute (polling the queue and heartbeats);
* a worker writing a story at --line-rate lines per second: calls per line;
* a reader following that story (what the web app does per status poll);
* the web app's own ``Stories`` with --watched stories open in browsers (each
  polled every second, as the story page does): Drive calls per second per
  finished story watched, and per story being written (--written of them, each
  getting --story-rate lines per second). ``--before`` runs it as the web app did
  before it followed the changes feed (every status read went to Drive);
* the web app asked for --unknown well-formed story ids that no story has (random
  ones, one after another): the Drive calls they cost in all.

--scale shrinks every interval (and the line rate's period) to run faster;
the rates are reported scaled back to real Drive timings.

Usage:
  python bench/drive_api_cost.py                          # about two minutes
  python bench/drive_api_cost.py --scale 0.1              # about 10 seconds
  python bench/drive_api_cost.py --lines 200 --line-rate 50 --latency-ms 150
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from drivequeue import Queue, Timing
from drivequeue.drive import DriveStore, open_drive_store
from drivequeue.drive_settings import DriveSettings
from drivequeue.emulator import Emulator, Faults

INTERVALS = ("lease", "heartbeat", "poll", "check", "flush", "backoff_max")


def scaled(timing: Timing, scale: float) -> Timing:
    return replace(timing, **{name: getattr(timing, name) * scale for name in INTERVALS})


def breakdown(calls: Counter) -> str:
    return ", ".join(f"{method} {count}" for method, count in calls.most_common())


def idle_worker(url, settings, timing, seconds) -> Counter:
    store = open_drive_store(url, settings)
    queue = Queue(store, timing)
    with queue.worker(host="bench", device="cpu", offers=["default"]) as session:
        session.claim_next()  # the first look seeds the changes feed
        before = store.calls.copy()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if session.claim_next() is None:
                session.wait()
        return store.calls - before


def story(url, settings, timing, lines, line_rate) -> tuple[Counter, Counter, int]:
    """(worker calls, reader calls, reader polls) while one story of ``lines`` lines is written."""
    producer_store = open_drive_store(url, settings)
    producer = Queue(producer_store, timing)
    job_id = producer.submit("story", {"seed": "Once upon a time", "lines": lines})
    worker_store = open_drive_store(url, settings)
    worker_queue = Queue(worker_store, timing)
    done = threading.Event()
    polls = 0

    def follow():
        nonlocal polls
        seen = 0
        while not done.is_set():
            seen += len(producer.status(job_id, after=seen)["lines"])
            polls += 1
            done.wait(timing.poll)

    with worker_queue.worker(host="bench", device="cpu", offers=["default"]) as session:
        while (claim := session.claim_next()) is None:
            session.wait()
        producer.status(job_id)
        reader_before, worker_before = producer_store.calls.copy(), worker_store.calls.copy()
        reader = threading.Thread(target=follow)
        reader.start()
        for number in range(1, lines + 1):
            time.sleep(1 / line_rate)
            claim.append([f"line {number}"])
        claim.complete()
        worker_calls = worker_store.calls - worker_before
        done.set()
        reader.join()
    return worker_calls, producer_store.calls - reader_before, polls


def watched(url, settings, timing, watched_count, written, story_rate, seconds, before) -> dict:
    """Drive calls per second of a web process whose browsers watch ``watched_count`` stories:
    first all finished, then ``written`` of them being written while the rest stay finished."""
    from webapp.config import Config
    from webapp.stories import Stories

    web_store = open_drive_store(url, settings)
    web_queue = Queue(web_store, timing)
    config = Config(secret_key="bench", queue_url=url, environment="development", poll_interval=1.0)
    if before:
        config = config.replace(poll_interval=0.0)  # Stories then leaves the changes feed alone
    stories = Stories(web_queue, config)
    if before:
        stories.statuses.max_age = 1.0  # and reads each story at most once a second, as it did
    finished = [web_queue.submit("story", {"seed": f"finished {i}", "lines": 3}) for i in range(watched_count - written)]
    running = [web_queue.submit("story", {"seed": f"running {i}", "lines": 100}) for i in range(written)]
    worker_queue = Queue(open_drive_store(url, settings), timing)
    stop = threading.Event()

    def browse(story_id):
        while not stop.is_set():
            stories.status(story_id)
            stop.wait(1.0)

    with worker_queue.worker(host="bench", device="cpu", offers=["default"]) as session:
        claims = {}
        while len(claims) < watched_count:
            claim = session.claim_next()
            if claim is None:
                session.wait(0.1)
                continue
            if claim.payload["seed"].startswith("finished"):
                claim.append(["one", "two", "three"])
                claim.complete()
                claims[claim.key] = None
            else:
                claims[claim.key] = claim
        writing = [claim for claim in claims.values() if claim is not None]
        browsers = [threading.Thread(target=browse, args=(story_id,)) for story_id in finished + running]
        for thread in browsers:
            thread.start()
        time.sleep(3.0)  # every tab has made its first reads

        def phase(write: bool) -> float:
            before_calls = web_store.calls.copy()
            started = time.monotonic()
            number = 0
            while time.monotonic() - started < seconds:
                if write:
                    number += 1
                    for claim in writing:
                        claim.append([f"line {number}"])
                time.sleep(1 / story_rate)
            calls = web_store.calls - before_calls
            return sum(calls.values()) / (time.monotonic() - started), calls

        # phase 1: nothing is being written (the written stories wait between lines)
        idle_rate, idle_calls = phase(write=False)
        busy_rate, busy_calls = phase(write=True)
        stop.set()
        for thread in browsers:
            thread.join()
        for claim in writing:
            claim.complete()
    per_finished = idle_rate / watched_count
    per_written = (busy_rate - per_finished * (watched_count - written)) / max(written, 1)
    return {"before": before, "watched": watched_count, "written": written, "story_rate": story_rate,
            "calls_per_s_per_finished_story": per_finished, "calls_per_s_per_written_story": per_written,
            "idle_calls": dict(idle_calls), "busy_calls": dict(busy_calls)}


def unknown_ids(url, settings, timing, count, before) -> dict:
    """Drive calls of the web app asked for ``count`` random well-formed story ids, one after another."""
    from webapp import create_app
    from webapp.config import Config

    store = open_drive_store(url, settings)
    config = Config(secret_key="bench", queue_url=url, environment="development", read_limit="1000000 per minute",
                    poll_interval=0.0 if before else None)
    client = create_app(config, queue=Queue(store, timing)).test_client()

    def ask() -> int:
        return client.get(f"/api/stories/1{secrets.token_urlsafe(24)[:32]}.{secrets.token_urlsafe(16)}").status_code

    ask()  # the first look seeds the changes feed
    before_calls = store.calls.copy()
    started = time.monotonic()
    answers = Counter(ask() for _ in range(count))
    calls = store.calls - before_calls
    return {"ids": count, "answers": dict(answers), "calls": dict(calls), "total_calls": sum(calls.values()),
            "seconds": time.monotonic() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle-s", type=float, default=60.0, help="how long to watch the idle worker (at scale 1)")
    parser.add_argument("--lines", type=int, default=100, help="lines in the story")
    parser.add_argument("--line-rate", type=float, default=20.0, help="lines the worker writes per second")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency the emulator adds per request")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every interval by this to run faster")
    parser.add_argument("--watched", type=int, default=20, help="stories the web app's browsers watch at once")
    parser.add_argument("--written", type=int, default=4, help="of those, stories being written")
    parser.add_argument("--story-rate", type=float, default=2.0, help="lines per second of each story written")
    parser.add_argument("--watch-s", type=float, default=20.0, help="seconds each watching phase lasts")
    parser.add_argument("--unknown", type=int, default=200, help="random story ids the web app is asked for")
    parser.add_argument("--before", action="store_true",
                        help="the web app as it was: every status read goes to Drive (no changes feed)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()

    timing = scaled(Timing.from_env(DriveStore.default_timing, environ={}), args.scale)
    with Emulator(faults=Faults(latency_s=args.latency_ms / 1000)) as emulator:
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        url = f"drive://id:{emulator.create_folder('bench')}"
        print(f"Drive timings x{args.scale:g}: poll {timing.poll:g}s, heartbeat {timing.heartbeat:g}s, "
              f"flush {timing.flush:g}s; emulator latency {args.latency_ms:g} ms")

        idle = idle_worker(url, settings, timing, args.idle_s * args.scale)
        per_minute = sum(idle.values()) / args.idle_s * 60
        print(f"idle worker: {per_minute:.1f} API calls per minute ({breakdown(idle)} "
              f"in {args.idle_s:g} Drive-time seconds)")

        worker, reader, polls = story(url, settings, timing, args.lines, args.line_rate / args.scale)
        print(f"story of {args.lines} lines at {args.line_rate:g} lines/s: "
              f"{sum(worker.values()) / args.lines:.2f} worker API calls per line ({breakdown(worker)})")
        print(f"reader polling every {timing.poll:g}s: {sum(reader.values()) / max(polls, 1):.2f} API calls "
              f"per status poll over {polls} polls ({breakdown(reader)})")
        web = watched(url, settings, timing, args.watched, args.written, args.story_rate, args.watch_s,
                      args.before)
        print(f"web app{' (before: no changes feed)' if args.before else ''}, {args.watched} stories watched: "
              f"{web['calls_per_s_per_finished_story']:.3f} calls/s per finished story "
              f"({breakdown(Counter(web['idle_calls']))}), "
              f"{web['calls_per_s_per_written_story']:.2f} calls/s per story being written "
              f"({args.written} at {args.story_rate:g} lines/s; {breakdown(Counter(web['busy_calls']))})")
        unknown = unknown_ids(url, settings, timing, args.unknown, args.before)
        print(f"web app{' (before)' if args.before else ''}, {args.unknown} random story ids: "
              f"{unknown['total_calls']} API calls ({breakdown(Counter(unknown['calls']))}) in "
              f"{unknown['seconds']:.1f} s; answers {unknown['answers']}")
        if args.json:
            Path(args.json).write_text(json.dumps({
                "web": web,
                "unknown_ids": unknown,
                "scale": args.scale, "latency_ms": args.latency_ms, "poll_s": timing.poll / args.scale,
                "idle_calls_per_minute": per_minute, "idle_calls": dict(idle),
                "lines": args.lines, "line_rate": args.line_rate,
                "worker_calls_per_line": sum(worker.values()) / args.lines, "worker_calls": dict(worker),
                "reader_calls_per_poll": sum(reader.values()) / max(polls, 1), "reader_calls": dict(reader),
            }))


if __name__ == "__main__":
    main()
