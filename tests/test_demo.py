"""The README's first command, `make demo`, run from a clean copy of the repository.

The copy reuses the environment that is already built (CI proves the fresh
install); everything else comes from the copy. Ctrl-C is imitated the way a
terminal does it: SIGINT to the whole foreground process group.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from drivequeue import Queue, open_store

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _clean_copy(target: Path) -> None:
    for name in _repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)  # keeps mtimes: make sees nothing to reinstall
    (target / ".venv").symlink_to(VENV)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Output:
    """Collects a process's output in a thread so that tests can wait for a line."""

    def __init__(self, stream) -> None:
        self.text = ""
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                self.text += line
                self._lock.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not (match := re.search(pattern, self.text)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{self.text}")
                self._lock.wait(left)
            return match


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_make_demo_serves_stories_and_stops_cleanly_on_ctrl_c(tmp_path):
    copy = tmp_path / "repo"
    copy.mkdir()
    _clean_copy(copy)
    port = _free_port()
    queue_dir = tmp_path / "queue"
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONUNBUFFERED": "1"}
    env.pop("DRIVEQUEUE_URL", None)
    demo = subprocess.Popen(
        ["make", "--no-print-directory", "demo", f"PORT={port}", f"QUEUE={queue_dir}"],
        cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output = Output(demo.stdout)
    try:
        url = output.wait_for(r"Running on (http://127\.0\.0\.1:\d+)", timeout=120).group(1)
        pids = {name: int(pid) for name, pid in re.findall(r"(web|worker)\.1 started \(pid=(\d+)\)", output.text)}
        assert set(pids) == {"web", "worker"}
        output.wait_for(r"worker\.1\s*\|.*worker \S+ serving", timeout=120)

        request = urllib.request.Request(
            f"{url}/api/stories",
            data=json.dumps({"seed": "The old king had three sons.", "lines": 30}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            story_id = json.load(response)["id"]

        deadline = time.monotonic() + 90
        story = _get_json(f"{url}/api/stories/{story_id}")
        while len(story["lines"]) < 2:
            assert time.monotonic() < deadline, story
            time.sleep(0.2)
            story = _get_json(f"{url}/api/stories/{story_id}")
        assert all(line.strip() for line in story["lines"])

        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
        output.wait_for(r"worker\.1 stopped", timeout=5)
        output.wait_for(r"web\.1 stopped", timeout=5)
        # a clean stop says so: no process reports that a signal killed it
        assert re.findall(r"(web|worker)\.1 stopped \(rc=(-?\d+)\)", output.text) in (
            [("web", "0"), ("worker", "0")], [("worker", "0"), ("web", "0")]), output.text
        assert "Error 130" not in output.text, output.text  # honcho's status for Ctrl-C is not an error
        assert "SIGKILL" not in output.text, output.text
        assert output.text.count("sending SIGTERM to worker") <= 1, output.text
        for name, pid in pids.items():
            assert not _alive(pid), f"{name} (pid {pid}) still runs after Ctrl-C"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    queue = Queue(open_store(str(queue_dir)))
    assert queue.status(story_id)["status"] != "running"
    assert not [worker for worker in queue.workers() if worker["online"]]
    assert all(job["status"] != "running" for job in queue.jobs())
