"""One bad item harms only itself, on every store: the real CLI, a real worker process and the
web app carry on past items planted by hand (records out of bounds, a sparse 1 GiB file, Redis
keys of the wrong type and index entries that name no file, Drive folders and Google Docs files
named like records). Each is logged once in one line that names it and listed by
``drivequeue bad``; the job whose claim file is bad fails with the reason."""

from __future__ import annotations

import json
import subprocess
import sys

from drivequeue import Queue, open_store
from drivequeue.drive import DriveStore
from tests.colab_worker.worker_support import REPO, WorkerProcess, drivequeue, follow, queue_env, queue_for, submit_story
from tests.drivequeue.bad_items import plant_bad_items
from tests.webapp.conftest import FAST
from webapp import create_app
from webapp.config import Config

#: runs the drivequeue command line, then prints the most memory it held (KiB) last: the peak of
#: its own memory map (VmHWM; getrusage's maximum would include what the parent held at fork)
MEASURED_CLI = """
import re, sys
from drivequeue.cli import main
status = main(sys.argv[1:])
print(re.search(r"VmHWM:\\s*(\\d+) kB", open("/proc/self/status").read()).group(1))
sys.exit(status)
"""


def cli(env: dict[str, str], *args: str) -> tuple[str, int]:
    """``drivequeue ARGS`` in a process of its own: (its output, the most memory it held in MiB)."""
    done = subprocess.run([sys.executable, "-c", MEASURED_CLI, *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    out, _, peak = done.stdout.rstrip("\n").rpartition("\n")
    return out, int(peak) // 1024


def test_bad_items_harm_only_themselves(store_factory, tmp_path, request):
    store = store_factory()
    emulator = request.getfixturevalue("drive_env") if isinstance(store, DriveStore) else None
    env = queue_env(tmp_path, DRIVEQUEUE_URL=store.url)
    (tmp_path / "notes.txt").write_text("a good pushed file\n")
    drivequeue(env, "push", str(tmp_path / "notes.txt"))
    planted, chained = plant_bad_items(store, emulator)
    good = submit_story(env, "The wolf", 2)

    # the command line: every command answers, in bounded memory (nothing over the limit is read)
    for args in (["workers"], ["status", good], ["gc"]):
        cli(env, *args)
    jobs, peak = cli(env, "list")
    assert peak < 400, f"drivequeue list held {peak} MiB"
    assert "failed" in (line := next(line for line in jobs.splitlines() if line.startswith(chained)))
    assert "(corrupt claim file: " in line
    listed, peak = cli(env, "files")
    assert listed.split()[-1] == "notes.txt" and len(listed.splitlines()) == 1
    bad, peak = cli(env, "bad")
    assert peak < 400, f"drivequeue bad held {peak} MiB"
    for name, what in planted.items():
        assert name in bad, f"{what} ({name}) is not listed by drivequeue bad:\n{bad}"

    # a real worker serves the good story past all of it, saying once what it skipped
    queue = queue_for(env)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        done = follow(queue, good, lambda s: s["status"] == "done", timeout=180)
        assert done["line_count"] == 2
        operator = Queue(queue.store, queue.timing, operator=True)  # names a job by its key
        failed = follow(operator, chained, lambda s: s["status"] == "failed", timeout=30)
    finally:
        worker.signal()
        assert worker.wait() == 0
    assert failed["error"].startswith("corrupt claim file:")
    log = worker.log
    assert "Traceback" not in log and log.count("started:") == 1, log
    for name, what in planted.items():
        lines = [line for line in log.splitlines() if name in line]
        assert len(lines) == 1, f"{what} ({name}) should be named by one log line:\n{log}"

    # the web app: the good story opens, a new one is taken
    config = Config(secret_key="x" * 40, queue_url=store.url, environment="development", poll_interval=0.0)
    client = create_app(config, queue=Queue(open_store(store.url), FAST)).test_client()
    assert client.get(f"/api/stories/{good}").get_json()["status"] == "done"
    assert client.get(f"/stories/{good}").status_code == 200
    assert client.get("/").status_code == 200
    created = client.post("/api/stories", json={"seed": "Once", "lines": 1})
    assert created.status_code == 202, created.get_json()
    assert json.loads(client.get("/api/workers").data)["workers"] == []
