"""``colab-worker run`` started while Drive fails most requests waits, says what for, and
starts serving once Drive is back (the real worker process on the Drive emulator)."""

from __future__ import annotations

import json

from tests.colab_worker.worker_support import WorkerProcess, queue_env


def test_a_worker_started_in_an_outage_rides_it_out(drive_env, tmp_path):
    folder = drive_env.create_folder("queue")
    env = queue_env(tmp_path, DRIVEQUEUE_URL=f"drive://id:{folder}", DRIVEQUEUE_DRIVE_ENDPOINT=drive_env.url,
                    DRIVEQUEUE_TOKEN=json.dumps(drive_env.token_info()), DRIVEQUEUE_DRIVE_RETRY_FIRST="0.05",
                    DRIVEQUEUE_DRIVE_RETRY_BUDGET="0.3")
    drive_env.faults.fail_rate = 0.85
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        worker.wait_for_log("waiting", timeout=120)
        assert worker.process.poll() is None
        drive_env.faults.fail_rate = 0.0
        worker.wait_for_log(" serving ", timeout=120)
    finally:
        worker.signal()
        worker.wait()
        worker.stop()
    assert "Traceback" not in worker.log
    assert "waiting" in worker.log
