"""Chaos: worker processes SIGKILLed at random while 100 jobs run; nothing is lost or doubled."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path


from drivequeue import Queue
from drivequeue.records import ClaimRecord, decode

from .chaos_worker import read_logs
from .lines_plugin import BY_NAME


REPO = Path(__file__).resolve().parents[2]
WORKERS = 4
JOBS = 100


def test_killed_workers_lose_no_line_and_no_attempt_has_two_owners(busy_store, fast_timing, tmp_path):
    store = busy_store
    # many attempts allowed: a job may be caught by several kills, and this test is about recovery
    timing = replace(fast_timing, poll=0.1, max_attempts=50)
    queue = Queue(store, timing, kinds=BY_NAME)
    rng = random.Random(1)
    wanted = {}
    for _ in range(JOBS):
        lines = rng.randint(1, 6)
        wanted[queue.submit("lines", {"text": "chaos", "count": lines}).split(".")[0]] = lines
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]

    def start(i):
        return subprocess.Popen(
            [sys.executable, "-m", "tests.drivequeue.chaos_worker", store.url, str(logs[i]),
             json.dumps(asdict(timing))],
            cwd=REPO,
        )

    workers = [start(i) for i in range(WORKERS)]
    kills = 0
    deadline = time.monotonic() + 120  # only keeps a broken run from hanging
    try:
        while not all(job["status"] == "done" for job in queue.jobs()):
            assert time.monotonic() < deadline, "the jobs never all finished"
            if kills < 40:
                victim = rng.randrange(WORKERS)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start(victim)
                kills += 1
            time.sleep(rng.uniform(0.3, 0.8))
    finally:
        for proc in workers:
            proc.kill()
            proc.wait()

    owners, reported = read_logs(logs)
    assert all(len(keys) == 1 for keys in owners.values())

    assert {job["key"] for job in queue.jobs()} == set(wanted)
    claims = {entry.key: ClaimRecord.parse(decode(store.read(entry.key))) for entry in store.list("claim")}
    for key, lines in wanted.items():
        view = queue.reader.view(key)
        assert view.state.value == "done"
        numbers = [int(line.split()[0]) for line in view.lines]
        assert numbers == list(range(1, lines + 1)), key
        # every line a worker was told was written is the one the job kept
        for claim_key in view.claim_keys:
            for number in reported.get(claim_key, ()):
                assert view.lines[number - 1] == f"{number} {claim_key}"
    for claim_key, worker_keys in owners.items():
        assert worker_keys == {claims[claim_key].worker}
    resumed = sum(1 for key in wanted if queue.reader.view(key).attempt > 1)
    print(f"{kills} kills, {resumed} jobs resumed by another attempt")
    # the chaos really happened: workers died mid-job and others picked their jobs up
    assert kills >= 8 and resumed >= 3
