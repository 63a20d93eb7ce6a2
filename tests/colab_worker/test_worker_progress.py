"""A story worker reports "line k of n" for the request it is writing, a continue
included, and the report rides on the line writes instead of adding writes."""

import json

from drivequeue import LocalStore, Queue, Timing
from tests.colab_worker.worker_support import run_worker

TIMING = Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1, backoff_max=0.3)


class RecordingStore(LocalStore):
    """The real local store, keeping every output file it writes."""

    def __init__(self, root):
        super().__init__(root)
        self.outputs = []

    def write(self, key, data):
        super().write(key, data)
        record = json.loads(data)
        if record.get("type") == "output":
            self.outputs.append(record)


def running_writes(store, segment):
    return [o for o in store.outputs if o["segment"] == segment and o["state"] == "running"]


def test_progress_says_which_line_of_the_request_is_being_written(tmp_path):
    store = RecordingStore(tmp_path / "queue")
    queue = Queue(store, TIMING)
    job = queue.submit("story", {"seed": "The miller had three sons.", "lines": 4})
    run_worker(queue, tmp_path, max_jobs=1)
    queue.continue_job(job, {"lines": 3})
    run_worker(queue, tmp_path, max_jobs=1)
    assert queue.status(job)["status"] == "done"

    first = running_writes(store, 1)
    # one report as the story starts, then each line carries the number of the next one
    assert [(len(o["lines"]), o["progress"]) for o in first] == [
        (0, {"line": 1, "of": 4}), (1, {"line": 2, "of": 4}), (2, {"line": 3, "of": 4}),
        (3, {"line": 4, "of": 4}), (4, {"line": 4, "of": 4}),
    ]
    second = running_writes(store, 2)
    assert [(len(o["lines"]), o["progress"]) for o in second] == [
        (4, {"line": 1, "of": 3}), (5, {"line": 2, "of": 3}), (6, {"line": 3, "of": 3}), (7, {"line": 3, "of": 3}),
    ]
    # every write the progress report needs beyond the line writes: one per request
    assert len(store.outputs) == (4 + 1 + 1) + (3 + 1 + 1)
