"""Helpers for the worker tests: real worker processes on a local queue folder where signals
or a process's death are the point, else a worker in the test's own process (``run_worker``).

Timings of worker processes are shrunk through the environment (``DRIVEQUEUE_*``),
exactly as a user would, so the processes under test run the shipped code unchanged.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import torch

from colab_worker.config import WorkerConfig
from colab_worker.model_shelf import ModelShelf
from drivequeue.shutdown import Shutdown
from colab_worker.serving import serve_queue
from drivequeue import LocalStore, Queue, Timing, open_store
from tests.helpers import eventually

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

#: short leases so that a killed worker's jobs are taken over within seconds
FAST_TIMING = {
    "DRIVEQUEUE_LEASE": "3",
    "DRIVEQUEUE_HEARTBEAT": "0.2",
    "DRIVEQUEUE_POLL": "0.2",
    "DRIVEQUEUE_CHECK": "0.1",
    "DRIVEQUEUE_BACKOFF_MAX": "0.5",
}


def queue_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for CLI and worker processes on the queue folder ``tmp_path/queue``."""
    env = dict(os.environ)
    env.update(FAST_TIMING)
    env.update({
        "DRIVEQUEUE_URL": str(tmp_path / "queue"),
        "COLAB_WORKER_DEVICE": "cpu",
        "COLAB_WORKER_CACHE": str(tmp_path / "cache"),
        "PYTHONUNBUFFERED": "1",
        # one torch thread per process: on a small shared CPU more threads slow everything down
        "COLAB_WORKER_THREADS": "1",
    })
    env.update(extra)
    return env


def queue_for(env: dict[str, str]) -> Queue:
    """A producer-side handle on the queue the processes use, with their timing."""
    return Queue(open_store(env["DRIVEQUEUE_URL"]), Timing.from_env(LocalStore.default_timing, env))


def run_worker(queue: Queue, tmp_path: Path, max_jobs: int, alongside: Callable[[], T] | None = None) -> T | None:
    """A worker in this process, on the CPU, until ``max_jobs`` jobs have ended.

    ``alongside``: what a reader does meanwhile (in a thread, as another process would): its
    result is returned; if it fails, the worker is stopped and its error raised here.
    """
    config = dataclasses.replace(WorkerConfig.from_env(), device="cpu", cache_dir=tmp_path / "cache")
    shelf = ModelShelf(queue.store, config.cache_dir, torch.device("cpu"), default=config.model)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as COLAB_WORKER_THREADS=1 does for the worker processes
    outcome: dict[str, object] = {}
    try:
        with Shutdown() as stop:
            def read() -> None:
                try:
                    outcome["result"] = alongside()
                except BaseException as exc:  # raised again below, in the test's own thread
                    outcome["error"] = exc
                    stop.request("the reader beside the worker failed")

            reader = threading.Thread(target=read) if alongside is not None else None
            if reader is not None:
                reader.start()
            serve_queue(queue, shelf, config, torch.device("cpu"), "cpu", stop, max_jobs)
        if reader is not None:
            reader.join()
    finally:
        torch.set_num_threads(threads)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def drivequeue(env: dict[str, str], *args: str) -> str:
    """Run the ``drivequeue`` command; its stdout. The queue folder exists first, as it does
    once a worker or the web app has started on it (the command refuses a missing one)."""
    if "://" not in env["DRIVEQUEUE_URL"]:
        Path(env["DRIVEQUEUE_URL"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "drivequeue", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout


def submit_story(env: dict[str, str], seed: str, lines: int, *extra: str) -> str:
    """Submit a story through the CLI; its public id (the last line printed)."""
    return drivequeue(env, "submit", "story", "--seed", seed, "--lines", str(lines), *extra).split()[-1]


class WorkerProcess:
    """``colab-worker run`` in a child process, its log in a file.

    ``clock``: run it under libfaketime with its wall clock this far off (``+8d``, ``-7h``), as on a
    machine whose clock is wrong; its monotonic clock and the file system's are left true."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str, clock: str | None = None):
        self.log_path = log_path
        self._log = open(log_path, "a")
        if clock is not None:  # preloaded into the worker itself, so that signals reach it
            env = {**env, "LD_PRELOAD": libfaketime(), "FAKETIME": clock, "DONT_FAKE_MONOTONIC": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "colab_worker", "run", *args], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, text: str, timeout: float = 120) -> None:
        eventually(lambda: text in self.log or self.process.poll() is not None, timeout, what=f"log line {text!r}")
        assert text in self.log, f"worker exited with {self.process.returncode}:\n{self.log}"

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def stop(self) -> None:
        """Make sure the process is gone (test cleanup)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def libfaketime() -> str:
    """The path of libfaketime (Debian's ``faketime`` package, which ``make test`` installs)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not found:
        pytest.fail("libfaketime is not installed: `make test` installs it (apt-get install faketime)")
    return found[0]


def follow(queue: Queue, job_id: str, until, timeout: float = 180) -> dict:
    """Re-read the job whenever the queue folder changes until ``until(status)`` holds; that status."""
    queue.store.wait(0)  # start watching before the first read
    deadline = time.monotonic() + timeout
    while True:
        status = queue.status(job_id)
        if until(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; the job is {status}")
        queue.store.wait(0.5)
