"""``drivequeue selfcheck`` verifies a deployed queue step by step and cleans up after itself."""

from __future__ import annotations

import subprocess
import sys

from drivequeue.selfcheck import selfcheck
from drivequeue.urls import open_store

STEPS = ["create a test job", "read it back", "find it in a listing", "claim it",
         "refuse a second claim", "write a result", "delete the test files"]


def run_selfcheck(url):
    return subprocess.run([sys.executable, "-m", "drivequeue", "selfcheck", "--queue", url],
                          capture_output=True, text=True, timeout=120)


def test_selfcheck_passes_on_the_emulated_drive_and_leaves_nothing(drive_env):
    url = f"drive://id:{drive_env.create_folder('queue')}"
    result = run_selfcheck(url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"queue {url}"
    assert [line.split("  ", 1)[1].rsplit(" (", 1)[0].strip() for line in lines[1:-1]] == STEPS
    assert all(line.startswith("ok") for line in lines[1:-1])
    assert lines[-1].startswith("all steps passed") and "API calls" in lines[-1]
    assert open_store(url).list() == []


def test_selfcheck_reports_the_failing_step(drive_env, monkeypatch):
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_RETRY_BUDGET", "0.2")
    store = open_store(f"drive://id:{drive_env.create_folder('queue')}")
    store.new_keys("selfcheck")  # fill the key pool: the next request is the create
    drive_env.faults.fail_rate, drive_env.faults.statuses = 1.0, (503,)
    report = []
    assert not selfcheck(store, report.append)
    assert report[1] == ("FAILED  create a test job: Google Drive kept failing on files.create "
                         "(HTTP 503 backendError) for 0.2s; try again later")
    assert report[2].startswith("could not remove the test files: Google Drive kept failing")
    drive_env.faults.fail_rate = 0.0
    assert store.list() == []


def test_selfcheck_says_why_the_queue_cannot_be_opened(drive_env):
    result = run_selfcheck("drive://no-such-folder")
    assert result.returncode == 1
    assert "FAILED  open the queue: no Drive folder named 'no-such-folder'" in result.stderr
