"""``JobStatus``: a frozen object that is JSON only at the edges, and still answers ``status["field"]``."""

from __future__ import annotations

import dataclasses
import json

import pytest

from drivequeue import Field, JobKind, JobStatus, Queue
from drivequeue.kinds import integer
from drivequeue.status import JobState, WorkerInfo

#: every field docs/protocol.md lists for ``status()``
DOCUMENTED = ("id", "kind", "status", "stopping", "lines", "after", "line_count", "lines_requested", "error",
              "queue_position", "attempt", "worker", "progress", "created", "payload", "segments", "parent",
              "waiting_for", "result", "files", "marks", "meta")


class NotedStatus(JobStatus):
    """A kind's own reading of its output notes."""

    def printed(self) -> str:
        return " / ".join(self.lines)


NOTED = JobKind(name="noted", version=1, fields={"count": Field(integer(1, 10), 3)}, count_field="count",
                status_class=NotedStatus)


def running(**fields) -> JobStatus:
    return JobStatus(id="job-1.s", kind="noted", state=JobState.RUNNING, **fields)


def test_every_documented_field_reads_by_name_and_the_json_is_plain():
    status = running(lines=["a", "b"], line_count=2, marks={"breaks": [0, 1]}, meta={"note": "x"},
                     worker=WorkerInfo(id="w1", host="h", device="cpu", last_seen=5.0),
                     progress={"line": 2}, payload={"count": 2}, files=["out.txt"])
    shown = status.to_dict()
    assert set(shown) == set(DOCUMENTED)
    assert all(status[name] == shown[name] for name in DOCUMENTED)
    assert json.loads(json.dumps(shown)) == shown  # nothing that JSON cannot carry
    assert status["status"] == "running" and status["lines"] == ["a", "b"]
    assert status["worker"] == {"id": "w1", "host": "h", "device": "cpu", "last_seen": 5.0}
    assert shown["marks"] == {"breaks": [0, 1]} and shown["progress"] == {"line": 2}
    with pytest.raises(KeyError):
        status["paragraph_ends"]
    with pytest.raises(TypeError):
        "status" in status  # not a mapping: to_dict() is


def test_a_status_cannot_be_changed_by_whoever_holds_it():
    given = {"line": 1}
    status = running(progress=given, lines=["a"], payload={"count": 1})
    given["line"] = 9  # the caller's dict is copied
    assert status.progress == {"line": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.state = JobState.DONE
    with pytest.raises(TypeError):
        status.progress["line"] = 2
    with pytest.raises(TypeError):
        status.payload["count"] = 5
    status.to_dict()["lines"].append("b")  # the edge's copy is its own
    assert status.lines == ("a",)


def test_since_keeps_the_lines_and_marks_from_a_line_on():
    status = running(lines=["a", "b", "c", "d"], line_count=4, marks={"breaks": [0, 2, 3]})
    later = status.since(2)
    assert later.lines == ("c", "d") and later.after == 2 and later.line_count == 4
    assert later.marks == {"breaks": (2, 3)}
    assert later.since(3).lines == ("d",)
    with pytest.raises(ValueError, match="after 2"):
        later.since(1)


def test_settled_means_finished_with_no_worker_still_ending_it():
    assert not running().settled
    assert JobStatus(id="j", kind=None, state=JobState.DONE).settled
    stopping = JobStatus(id="j", kind=None, state=JobState.CANCELLED, stopping=True)
    assert not stopping.settled and dataclasses.replace(stopping, stopping=False).settled


def test_the_queue_answers_with_the_kinds_status_class(store, fast_timing):
    queue = Queue(store, fast_timing, kinds={"noted": NOTED})
    job_id = queue.submit("noted", {"count": 3})
    with queue.worker(host="h", device="cpu") as session:
        claim = session.claim_next()
        claim.append(["one", "two"], marks={"breaks": [0]})
        running_status = queue.status(job_id)
        assert type(running_status) is NotedStatus and running_status.state is JobState.RUNNING
        assert running_status.worker.host == "h" and running_status.printed() == "one / two"
        claim.append(["three"])
        claim.complete(result={"n": 3})
    done = queue.status(job_id, after=1)
    assert done.settled and done.result == {"n": 3} and done.lines == ("two", "three")
    assert done.line_count == 3 and done.lines_requested == 3 and done.worker is None
    assert done.marks == {"breaks": ()}  # the break after line 0 is before ``after``
    assert queue.wait(job_id) == queue.status(job_id)
    assert queue.result(job_id) == {"n": 3}


def test_a_job_of_no_known_kind_has_a_plain_status(store, fast_timing):
    producer = Queue(store, fast_timing, kinds={"noted": NOTED})
    job_id = producer.submit("noted", {})
    stranger = Queue(store, fast_timing, kinds={})
    status = stranger.status(job_id)
    assert type(status) is JobStatus and status.waiting_for == "noted v1" and status.queue_position == 1
