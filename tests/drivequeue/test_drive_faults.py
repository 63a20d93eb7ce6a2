"""The queue on a Drive that fails a fifth of its requests and answers slowly: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from drivequeue import Queue, Timing
from drivequeue.urls import open_store

from .chaos_worker import read_logs
from .lines_plugin import BY_NAME
from tests.helpers import eventually

REPO = Path(__file__).resolve().parents[2]
JOBS = 20
WORKERS = 2
# slow enough for 50 ms per request plus retries, with coalesced output as on Drive
TIMING = Timing(lease=8.0, heartbeat=0.5, poll=0.3, check=0.5, flush=0.3, max_attempts=5)


def names_on_drive(emulator, folder):
    """How many files of each name the emulated Drive holds in ``folder`` (its own view, no lag)."""
    counts: dict[str, int] = {}
    for file in emulator.drive.listing():
        if folder in file["parents"]:
            counts[file["name"]] = counts.get(file["name"], 0) + 1
    return counts


def test_twenty_jobs_and_two_workers_finish_with_a_fifth_of_requests_failing(drive_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_RETRY_FIRST", "0.05")
    folder = drive_env.create_folder("queue")
    url = f"drive://id:{folder}"
    drive_env.faults.fail_rate, drive_env.faults.latency_s = 0.2, 0.05
    queue = Queue(open_store(url), TIMING, kinds=BY_NAME)
    rng = random.Random(5)
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.drivequeue.chaos_worker", url, str(log),
                          json.dumps(asdict(TIMING))], cwd=REPO)
        for log in logs
    ]
    try:
        wanted = {}
        for _ in range(JOBS):
            lines = rng.randint(1, 4)
            wanted[queue.submit("lines", {"text": "faults", "count": lines}).split(".")[0]] = lines
        for key in wanted:  # a finished job stays finished: wait for each in turn
            eventually(lambda: queue.reader.view(key).state.value == "done", within=300, every=0.5)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert sum(queue.store.calls.values()) > queue.store.calls["files.create"]  # it did talk to Drive
    assert drive_env.requests.total() > 20 * JOBS and drive_env.faults.fail_rate == 0.2

    owners, _ = read_logs(logs)
    assert all(len(worker_keys) == 1 for worker_keys in owners.values())

    claims = outputs = 0
    for key, lines in wanted.items():
        view = queue.reader.view(key)
        assert [int(line.split()[0]) for line in view.lines] == list(range(1, lines + 1)), key
        claims += len(view.claim_keys)
        outputs += len(view.claims)
    # every logical file exists exactly once: retried creates made no duplicates
    counts = names_on_drive(drive_env, folder)
    assert counts["job"] == JOBS
    assert counts["claim"] == claims and counts["output"] == outputs
    assert set(counts) <= {"job", "claim", "output", "worker"}


def test_two_workers_racing_for_one_attempt_on_a_failing_drive_one_wins(drive_env):
    folder = drive_env.create_folder("queue")
    url = f"drive://id:{folder}"
    producer = Queue(open_store(url), TIMING, kinds=BY_NAME)
    for _ in range(10):
        producer.submit("lines", {"text": "race", "count": 1})
    drive_env.faults.fail_rate, drive_env.faults.drop_rate = 0.2, 0.1
    sessions = [Queue(open_store(url), TIMING, kinds=BY_NAME).worker(host=f"w{i}", device="cpu", offers=["default"])
                for i in range(2)]
    for session in sessions:
        session.open()
    barrier = threading.Barrier(2)
    won: list[list[str]] = [[], []]

    def race(i):
        barrier.wait()
        while (claim := sessions[i].claim_next()) is not None:
            won[i].append(claim.job_key)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        session.close()
    drive_env.faults.fail_rate = drive_env.faults.drop_rate = 0.0
    taken = won[0] + won[1]
    assert len(taken) == len(set(taken)) == 10
    assert all(producer.reader.view(job["key"]).attempt == 1 for job in producer.jobs())
    assert names_on_drive(drive_env, folder)["claim"] == 10
