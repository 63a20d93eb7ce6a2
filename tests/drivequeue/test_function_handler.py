"""Plain-function handlers on the serve loop: how the function ends decides the job's ending."""

from __future__ import annotations

import threading

import pytest

from drivequeue import JobFailed, LocalStore, Queue, files, open_store
from drivequeue.endings import Endings
from drivequeue.function_handler import FunctionRunner
from drivequeue.plugins import kinds_of, load
from drivequeue.serve import HandlerContext, Server
from drivequeue.shutdown import Shutdown
from tests.drivequeue import echo_plugin

from tests.helpers import eventually


@pytest.fixture
def queue(tmp_path, fast_timing):
    return Queue(LocalStore(tmp_path / "queue"), fast_timing, kinds=kinds_of(load(["tests.drivequeue.echo_plugin"])))


def serve(queue, tmp_path, max_jobs=None, stop=None):
    """A worker serving the echo kind in this process; returns its thread (running) or None (finished).
    A running one has a store handle of its own (the test's thread waits on the other)."""
    if stop is not None:
        queue = Queue(open_store(queue.store.url), queue.timing, kinds=queue.kinds)
    context = HandlerContext(store=queue.store, timing=queue.timing, device="cpu", stop=stop or Shutdown(),
                             endings=Endings(), cache_dir=tmp_path / "cache")
    server = Server(queue, echo_plugin.handlers(context), context, max_jobs=max_jobs, drain_seconds=5)
    if stop is None:
        server.run()
        return None
    thread = threading.Thread(target=server.run)
    thread.start()
    return thread


def test_a_returned_value_is_the_result_and_attached_files_come_back(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "hello"})
    serve(queue, tmp_path, max_jobs=1)
    assert queue.result(job_id, timeout=5) == {"length": 5}
    status = queue.status(job_id)
    assert status["lines"] == ["HELLO"] and status["files"] == ["echo.txt"]
    fetched, = queue.fetch_files(job_id, tmp_path / "out")
    assert fetched.read_text() == "hellohello"
    assert not (tmp_path / "cache" / "jobs" / job_id.split(".")[0]).exists()  # its work folder is gone


def test_job_failed_fails_the_job_for_good(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "x", "mode": "fail"})
    serve(queue, tmp_path, max_jobs=1)
    with pytest.raises(JobFailed, match="the job failed: asked to fail"):
        queue.result(job_id, timeout=5)
    assert queue.status(job_id)["attempt"] == 1


def test_an_exception_crashes_the_attempt_until_the_attempts_are_used_up(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "x", "mode": "crash"})
    serve(queue, tmp_path, max_jobs=queue.timing.max_attempts)
    status = queue.status(job_id)
    assert status["status"] == "failed"
    assert status["error"] == f"gave up after {queue.timing.max_attempts} attempts; last: RuntimeError: boom"


def test_a_cancel_reaches_a_running_function_through_check(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "x", "mode": "wait"})
    stop = Shutdown()
    worker = serve(queue, tmp_path, stop=stop)
    try:
        eventually(lambda: queue.status(job_id)["status"] == "running")
        queue.cancel(job_id)
        assert queue.wait(job_id, timeout=10)["status"] == "cancelled"
        eventually(lambda: scratch(queue, job_id) == [])  # its worker ends it and removes what it kept
    finally:
        stop.request("test over")
        worker.join(10)


def test_a_warm_stop_gives_the_job_back_without_using_an_attempt(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "x", "mode": "wait"})
    stop = Shutdown()
    worker = serve(queue, tmp_path, stop=stop)
    eventually(lambda: queue.status(job_id)["status"] == "running")
    stop.request("test over")
    worker.join(10)
    assert not worker.is_alive()
    status = queue.status(job_id)
    assert status["status"] == "queued" and status["error"] is None
    assert queue.reader.view(job_id.split(".")[0]).used_attempts == 0
    assert scratch(queue, job_id) == ["note.txt"]  # kept for the next attempt
    queue.cancel(job_id)  # a cancel ends it while no worker holds it
    assert scratch(queue, job_id) == []


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_a_job_that_ends_leaves_no_scratch_file(queue, tmp_path, mode):
    job_id = queue.submit("echo", {"text": "x", "mode": mode})
    serve(queue, tmp_path, max_jobs=1)
    assert queue.status(job_id).settled
    assert scratch(queue, job_id) == []
    assert not (tmp_path / "cache" / "jobs" / job_id.split(".")[0]).exists()


def test_a_crashed_job_keeps_its_scratch_file_until_its_last_attempt(queue, tmp_path):
    job_id = queue.submit("echo", {"text": "x", "mode": "crash"})
    serve(queue, tmp_path, max_jobs=1)
    assert queue.status(job_id)["status"] == "queued"
    assert scratch(queue, job_id) == ["note.txt"]
    serve(queue, tmp_path, max_jobs=queue.timing.max_attempts - 1)
    assert queue.status(job_id)["status"] == "failed"
    assert scratch(queue, job_id) == []


def scratch(queue, job_id) -> list[str]:
    prefix = f"jobs/{job_id.split('.')[0]}/scratch/"
    return [f.name[len(prefix):] for f in files.stored_files(queue.store) if f.name.startswith(prefix)]


def test_the_loop_steps_only_stepped_handlers_and_runs_a_plain_function_in_threads(queue, tmp_path):
    class Batch:
        count, room = 0, 4

        def start(self, claim): ...

        def step(self): ...

        def drain(self, deadline): ...

    batch = Batch()
    context = HandlerContext(store=queue.store, timing=queue.timing, device="cpu", stop=Shutdown(),
                             endings=Endings(), cache_dir=tmp_path / "cache")
    server = Server(queue, {"echo": echo_plugin.echo, "batched": batch}, context)
    plain, = [runner for runner in server.runners if runner is not batch]
    assert isinstance(plain, FunctionRunner) and not hasattr(plain, "step")
    assert server.stepped == [batch]
