"""``drivequeue worker`` and kinds declared by a function, end to end through the real command line:
each command is a process of its own, as a person would type it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from drivequeue import LocalStore, Queue, open_store
from drivequeue.plugins import kinds_of, load

from tests.helpers import eventually

REPO = Path(__file__).resolve().parents[2]
FN = "tests.drivequeue.fn_plugin"
ECHO = "tests.drivequeue.echo_plugin"


@pytest.fixture
def folder(tmp_path):
    LocalStore(tmp_path / "queue").close()
    return tmp_path / "queue"


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVEQUEUE_")}
    return {**env, "PYTHONPATH": str(REPO), "DRIVEQUEUE_LEASE": "2", "DRIVEQUEUE_HEARTBEAT": "0.2", **extra}


def drivequeue(*args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drivequeue", *args], cwd=REPO, env=cli_env(**extra),
                          capture_output=True, text=True, timeout=120)


def worker(queue: Path | str, *args: str, **extra: str) -> subprocess.Popen:
    """``drivequeue worker`` on ``queue`` (a folder or a URL), its output piped."""
    cache = ["--cache-dir", str(queue.parent / "cache")] if isinstance(queue, Path) else []
    return subprocess.Popen([sys.executable, "-m", "drivequeue", "worker", "--queue", str(queue), *cache, *args],
                            cwd=REPO, env=cli_env(**extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def submit(folder: Path, kind: str, payload: dict, *plugins: str) -> str:
    flags = [arg for plugin in plugins for arg in ("--plugin", plugin)]
    done = drivequeue(*flags, "submit", kind, "--payload", json.dumps(payload), "--queue", str(folder))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_kind_declared_by_a_function_runs_on_a_generic_worker_without_torch(folder, tmp_path):
    text = tmp_path / "words.txt"
    text.write_text("The cat saw the dog\nThe dog ran\n")
    pushed = drivequeue("push", str(text), "inputs/words.txt", "--queue", str(folder))
    assert pushed.returncode == 0, pushed.stderr
    job = submit(folder, "wordcount", {"text": "inputs/words.txt", "top": 2}, FN)
    served = worker(folder, "--plugin", FN, "--max-jobs", "1")
    out, _ = served.communicate(timeout=120)
    assert served.returncode == 0, out
    assert "serving heavy" not in out and "scale" in out and "wordcount" in out
    result = drivequeue("--plugin", FN, "result", job, "--json", "--queue", str(folder))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == "done"
    assert shown["result"] == {"top": [["the", 3], ["dog", 2]], "torch_loaded": False}
    status = drivequeue("--plugin", FN, "status", job, "--queue", str(folder))
    assert "8 words" in status.stdout.splitlines()


def test_older_payload_versions_run_their_own_function(folder):
    queue = Queue(LocalStore(folder), kinds=kinds_of(load([FN], environ={})))
    old, new = queue.submit("scale", {"v": 1, "x": 4}), queue.submit("scale", {"x": 4})
    served = worker(folder, "--plugin", FN, "--kinds", "scale", "--max-jobs", "2")
    out, _ = served.communicate(timeout=120)
    assert served.returncode == 0, out
    assert queue.result(old, timeout=5) == 8.0 and queue.result(new, timeout=5) == 12.0


def test_submit_help_lists_the_fields_with_their_ranges_and_defaults_and_bad_requests_are_refused(folder):
    shown = drivequeue("--plugin", FN, "submit", "wordcount", "--help")
    assert shown.returncode == 0
    assert "The most frequent words of a pushed text file." in shown.stdout
    assert "text (required): the name of a pushed file" in shown.stdout
    assert "top (default 3): a whole number from 1 to 10" in shown.stdout
    assert "case (default \"lower\"): one of 'keep', 'lower'" in shown.stdout
    refused = drivequeue("--plugin", FN, "submit", "wordcount", "--payload", '{"text": "a.txt", "top": 11}',
                         "--queue", str(folder))
    assert refused.returncode == 2
    assert refused.stderr.strip() == "drivequeue: error: top must be a whole number from 1 to 10"
    assert not LocalStore(folder).list("job")


def test_kinds_served_on_request_wait_until_a_worker_names_them(folder):
    heavy = submit(folder, "heavy", {}, FN)
    echo = submit(folder, "echo", {"text": "hi"}, ECHO)
    served = worker(folder, "--plugin", FN, "--plugin", ECHO, "--max-jobs", "1")
    out, _ = served.communicate(timeout=120)
    assert served.returncode == 0, out
    assert "serving echo, scale, wordcount on cpu" in out
    waiting = json.loads(drivequeue("--plugin", FN, "status", heavy, "--json", "--queue", str(folder)).stdout)
    assert waiting["status"] == "queued"
    assert json.loads(drivequeue("--plugin", ECHO, "result", echo, "--json", "--queue", str(folder)).stdout)[
        "status"] == "done"
    named = worker(folder, "--plugin", FN, "--kinds", "heavy", "--max-jobs", "1")
    out, _ = named.communicate(timeout=120)
    assert named.returncode == 0 and "serving heavy on cpu" in out, out
    assert json.loads(drivequeue("--plugin", FN, "result", heavy, "--json", "--queue", str(folder)).stdout)[
        "result"] == "ran"


@pytest.mark.parametrize("args, message", [
    (["--kinds", "paint"], "no loaded plugin declares the job kind 'paint' (known kinds: "),
    (["--kinds", "story"], "no loaded plugin has a handler for story"),
    ([], "nothing to serve: no loaded plugin has handlers"),
    (["--kinds", ","], "name at least one job kind"),
])
def test_a_worker_with_nothing_it_can_serve_says_why(folder, args, message):
    done = drivequeue("worker", "--queue", str(folder), *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_idle_worker_on_redis_stops_at_once_on_sigterm(redis_server):
    url = redis_server.queue_url()
    served = worker(url, "--plugin", ECHO, DRIVEQUEUE_POLL="3600")
    try:
        queue = Queue(open_store(url), kinds=kinds_of(load([ECHO], environ={})))
        eventually(lambda: queue.workers() and queue.workers()[0]["state"] == "idle")
        served.send_signal(signal.SIGTERM)
        out, _ = served.communicate(timeout=30)  # an hour's poll: only a prompt stop ends in time
    finally:
        served.kill()
    assert served.returncode == 0 and "stopped" in out, out

