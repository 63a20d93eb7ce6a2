"""The story kinds on the queue (in memory): what a reader who stops a story keeps, the paragraph
breaks a worker notes, how long a story may grow, and what a worker serving stories announces."""

from __future__ import annotations

import pytest

from drivequeue import InvalidPayload, MemoryStore, Queue
from drivequeue.records import decode, encode
from stories.plugin import KINDS


@pytest.fixture
def queue(fast_timing):
    store = MemoryStore()
    yield Queue(store, fast_timing, kinds={kind.name: kind for kind in KINDS})
    store.close()


def session(queue, **kw):
    return queue.worker(host="h", device="cpu", offers=["default"], **kw)


def test_a_reader_who_stops_a_story_keeps_the_lines_seen_and_the_one_being_written(queue):
    job_id = queue.submit("story", {"seed": "Once", "lines": 50})
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append([str(n) for n in range(1, 8)])  # the page had shown 3 of these 7 lines
        assert queue.cancel(job_id, {"seen": 3})["lines"] == ["1", "2", "3", "4"]
        claim.append(["8"])  # written before the worker noticed
        claim.complete()
        assert queue.status(job_id).lines == ("1", "2", "3", "4")
        queue.continue_job(job_id, {"lines": 5})
        more = worker.claim_next()
        more.append(["5", "6"])
        # a reader who saw none of the new lines keeps at least what the earlier segments wrote
        assert queue.cancel(job_id, {"seen": 0})["lines"] == ["1", "2", "3", "4"]
        more.complete()


def test_paragraph_breaks_and_the_seed_end_travel_with_the_lines(queue):
    job_id = queue.submit("story", {"seed": "It rained", "lines": 4})
    assert queue.status(job_id)["seed_end"] is None and queue.status(job_id)["paragraph_ends"] == []
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append([" and rained.", "Then."], marks={"paragraph_ends": [1]}, meta={"seed_end": "mid-sentence"})
        claim.append(["A.", "B."], marks={"paragraph_ends": [0]})
        claim.complete()
    status = queue.status(job_id)
    assert status["paragraph_ends"] == [1, 2] and status["seed_end"] == "mid-sentence"
    assert queue.status(job_id, after=2)["paragraph_ends"] == [2]


def test_lines_written_before_paragraph_breaks_follow_the_seed_on_a_new_line(queue):
    job_id = queue.submit("story", {"seed": "It rained", "lines": 2})
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["one", "two"])
        key = claim._record.output_key
        raw = decode(queue.store.read(key))
        del raw["marks"], raw["meta"]  # as an older worker wrote it
        queue.store.write(key, encode(raw))
        status = queue.status(job_id)
    assert status["lines"] == ["one", "two"]
    assert status["paragraph_ends"] == [] and status["seed_end"] == "newline"


def test_a_story_grows_to_1000_lines_and_no_further(queue):
    job_id = queue.submit("story", {"seed": "Once", "lines": 100})
    for _ in range(9):
        with session(queue) as worker:
            worker.claim_next().complete()
        queue.continue_job(job_id, {"lines": 100})
    with session(queue) as worker:
        worker.claim_next().complete()
    with pytest.raises(InvalidPayload, match="at most 1000 lines"):
        queue.continue_job(job_id, {"lines": 1})


def test_a_worker_serving_stories_announces_both_versions_it_reads(queue):
    with session(queue, kinds={"story"}):
        assert queue.workers()[0]["kinds"] == ["story v1", "story v2"]
