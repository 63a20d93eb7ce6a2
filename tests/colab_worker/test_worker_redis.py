"""The worker on a ``redis://`` queue rides out a ``kill -9`` of redis-server: it backs off,
resumes, and no served line is lost; ``drivequeue`` lists the story from the same URL."""

import logging
import time

from tests.colab_worker.worker_support import drivequeue, follow, queue_env, queue_for, run_worker
from tests.drivequeue.redis_fixtures import RedisServer
from tests.helpers import eventually


def test_a_worker_on_redis_rides_out_a_killed_server(tmp_path, caplog):
    server = RedisServer(tmp_path / "redis").start()
    env = queue_env(tmp_path, DRIVEQUEUE_URL=server.queue_url("stories"))
    queue = queue_for(env)
    job = queue.submit("story", {"seed": "The miller had three sons", "lines": 30})

    def crash_the_server():
        reader = queue_for(env)
        served = eventually(lambda: reader.status(job)["lines"], 120, what="a first line")
        server.kill()
        eventually(lambda: "queue store unavailable (cannot reach Redis" in caplog.text, 60,
                   what="the worker to notice the outage")
        time.sleep(0.5)
        server.start()
        return served, follow(reader, job, lambda s: s["status"] == "done")

    try:
        with caplog.at_level(logging.INFO):
            served, done = run_worker(queue, tmp_path, max_jobs=1, alongside=crash_the_server)
        assert done["line_count"] == 30
        assert done["lines"][:len(served)] == served  # what was served before the crash is kept
        assert job.split(".")[0] in drivequeue(env, "list")
    finally:
        server.kill()
