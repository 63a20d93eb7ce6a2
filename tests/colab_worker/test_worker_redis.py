"""``drivequeue`` and ``colab-worker run`` work unchanged on a ``redis://`` queue, and a worker
rides out a ``kill -9`` of redis-server: it backs off, resumes, and no served line is lost."""

import time

from tests.colab_worker.worker_support import WorkerProcess, drivequeue, queue_env, queue_for, submit_story
from tests.helpers import eventually
from tests.drivequeue.redis_fixtures import RedisServer


def test_a_worker_on_redis_rides_out_a_killed_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    env = queue_env(tmp_path, DRIVEQUEUE_URL=server.queue_url("stories"))
    queue = queue_for(env)
    job = submit_story(env, "The miller had three sons", 30)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        served = eventually(lambda: queue.status(job)["lines"], 120, what="a first line")
        server.kill()
        worker.wait_for_log("queue store unavailable (cannot reach Redis", timeout=60)
        time.sleep(0.5)
        server.start()
        done = eventually(lambda: (s := queue.status(job))["status"] == "done" and s, 180, what="the story to end")
        assert done["line_count"] == 30
        assert done["lines"][:len(served)] == served  # what was served before the crash is kept
        assert job.split(".")[0] in drivequeue(env, "list")
    finally:
        worker.stop()
        server.kill()
