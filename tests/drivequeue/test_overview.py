"""One look at the queue (``drivequeue.overview``) and ``drivequeue top``, which shows it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from drivequeue import Queue, Timing
from drivequeue.cli import main
from drivequeue.overview import HOUR_MINUTES, take
from drivequeue.records import encode
from drivequeue.urls import open_store

from . import echo_plugin
from .lines_plugin import BY_NAME

PLUGIN = ("--plugin", "tests.drivequeue.lines_plugin")


def job(queue, count=2, **fields):
    return queue.submit("lines", {"text": "Once upon a time", "count": count, **fields})


def gpu():
    return {"name": "Tesla T4", "memory_used": 3 * 2**30, "memory_free": 12 * 2**30}


def ended_jobs(queue, session):
    """Jobs that end done (3 lines), failed and cancelled, one of each."""
    done, failed, cancelled = job(queue, count=3), job(queue), job(queue)
    claim = session.claim_next()
    claim.append(["one", "two", "three"])
    claim.complete()
    session.claim_next().fail("the model file is damaged")
    queue.cancel(cancelled)
    return done, failed, cancelled


def test_a_look_shows_workers_jobs_failures_waiting_jobs_and_throughput(queue, other_queue, store):
    with queue.worker(host="gpu-box", device="cuda: Tesla T4", offers=["default"], probe=gpu) as session:
        ended_jobs(queue, session)
        running = job(queue)
        session.claim_next()
        served, unserved = job(queue), job(queue, tool="big")
        mixed = Queue(store, queue.timing, kinds={**BY_NAME, **{k.name: k for k in echo_plugin.KINDS}})
        mixed.submit("echo", {"text": "hi"})  # a kind the observer's program does not know
        session.heartbeat()
        view = take(other_queue)
    assert running and served
    assert view.counts["lines"] == {"queued": 2, "running": 1, "done": 1, "failed": 1, "cancelled": 1}
    assert view.counts["echo"]["queued"] == 1
    (worker,) = view.workers
    assert worker["online"] and worker["host"] == "gpu-box" and worker["claims"] == 1
    assert worker["report"]["device"] == gpu() and worker["report"]["kinds"]["lines"]["lines"] == 3
    assert "lines v2" in worker["kinds"] and worker["version"] == ""
    assert [(f.kind, f.error, f.attempt) for f in view.failures] == [("lines", "the model file is damaged", 1)]
    assert sorted(w.needs for w in view.waiting) == ["echo v1", "lines v2 with tool 'big'"]
    assert [w.key for w in view.waiting if w.kind == "lines"] == [unserved.split(".")[0]]
    assert view.throughput["done"][-1] == 1 and view.throughput["failed"][-1] == 1
    assert view.throughput["cancelled"][-1] == 1 and view.throughput["lines"][-1] == 3
    assert sum(view.throughput["done"]) == 1 and len(view.throughput["done"]) == HOUR_MINUTES
    assert sorted(e.state for e in view.ended) == ["cancelled", "done", "failed"]


def test_without_a_worker_online_every_queued_job_waits(queue):
    job(queue)
    with queue.worker(host="cpu-box", device="cpu", offers=["default"]):
        assert take(queue).waiting == []
    (waiting,) = take(queue).waiting
    assert waiting.needs == "lines v2 with tool 'default'"


def test_the_throughput_is_per_minute_of_the_last_hour(queue):
    with queue.worker(host="gpu-box", device="cpu", offers=["default"]) as session:
        ended_jobs(queue, session)
    assert take(queue, now=time.time() + 30 * 60).throughput["done"][29:31] in ([1, 0], [0, 1])
    late = take(queue, now=time.time() + 61 * 60)
    assert sum(late.throughput["done"]) == 0 and len(late.ended) == 3


def test_times_of_an_ended_job_say_how_long_it_waited_and_ran(queue):
    job_id = job(queue, count=1)
    with queue.worker(host="gpu-box", device="cpu", offers=["default"]) as session:
        time.sleep(0.05)
        claim = session.claim_next()
        time.sleep(0.05)
        claim.append(["one"])
        claim.complete()
    (ended,) = take(queue).ended
    assert ended.key == job_id.split(".")[0] and ended.state == "done" and ended.lines == 1
    assert ended.queued < ended.started < ended.ended


def test_damaged_files_show_as_what_they_are(queue, store):
    key, = store.new_keys("job")
    store.create(key, "job", b"not json")
    worker_key, = store.new_keys("worker")
    store.create(worker_key, "worker", encode({"v": 1, "type": "worker", "id": 5}))
    view = take(queue)
    assert view.counts == {"?": {"queued": 0, "running": 0, "done": 0, "failed": 1, "cancelled": 0}}
    assert view.failures[0].kind == "?" and "corrupt job file" in view.failures[0].error
    assert view.workers == [{"key": worker_key, "error": "field 'id' is missing or has the wrong type",
                             "online": False}]


def test_on_drive_a_second_look_reads_only_what_changed(drive_env):
    url = f"drive://id:{drive_env.create_folder('queue')}"
    timing = Timing(lease=100.0, heartbeat=30.0, poll=0.1, check=0.1)  # no heartbeat within the test
    observer = Queue(open_store(url), timing, kinds=BY_NAME)
    observer.follow_changes(0.2)
    producer = Queue(open_store(url), timing, kinds=BY_NAME)
    with producer.worker(host="w", device="cpu", offers=["default"]) as session:
        for _ in range(3):
            job(producer)
        claim = session.claim_next()
        claim.append(["a", "b"])
        claim.complete()
        take(observer)
        time.sleep(0.3)
        before = observer.store.calls.copy()
        view = take(observer)
        spent = observer.store.calls - before
    assert view.counts["lines"]["done"] == 1 and view.counts["lines"]["queued"] == 2
    assert set(spent) == {"changes.list"}  # nothing changed: no job, output or heartbeat is read again


# -- drivequeue top -----------------------------------------------------------------------------


def test_top_json_prints_one_look(store, queue, capsys):
    job(queue, tool="big")
    assert main(["top", "--json", "--queue", store.url, *PLUGIN]) == 0
    look = json.loads(capsys.readouterr().out)
    assert look["counts"]["lines"]["queued"] == 1 and look["workers"] == []
    assert look["waiting"][0]["needs"] == "lines v2 with tool 'big'" and "ended" not in look


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "7200"])
def test_top_refuses_an_interval_it_cannot_keep(store, capsys, interval):
    assert main(["top", "--interval", interval, "--queue", store.url]) == 2
    assert "--interval must be a number of seconds above 0 and at most 3600" in capsys.readouterr().err


def test_top_redraws_until_interrupted(store, queue):
    job(queue, tool="big")
    with queue.worker(host="gpu-box", device="cuda: Tesla T4", offers=["default"], probe=gpu) as session:
        done = job(queue, count=1)
        claim = session.claim_next()
        claim.append(["one"])
        claim.complete()
        session.heartbeat()
        # started as a supervisor or a shell may start it, with SIGINT ignored: Ctrl-C still stops it
        process = subprocess.Popen([sys.executable, "-m", "drivequeue", "top", "--interval", "0.2",
                                    "--queue", store.url, *PLUGIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env={**os.environ, "DRIVEQUEUE_LEASE": "30"},
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        looks = 0
        output = ""
        while looks < 2:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            output += line
            looks += "Ctrl-C stops" in line
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)  # reads on, so a full pipe cannot hold the exit up
        assert process.returncode == 0, errors
        output += rest
    assert done
    assert "WORKERS: 1 online, 0 offline" in output
    assert "cuda: Tesla T4  memory: 3.0 GiB used, 12.0 GiB free  jobs: 0" in output
    assert "lines: 1 lines (" in output and "1 done" in output
    assert "lines v2 with tool 'big'" in output
    assert "1 done, 0 failed, 0 cancelled, 1 lines" in output
