"""The job protocol: submit, claim, leases, fencing, attempts, cancel, continue.

It runs on the in-memory store with the tests' own job kinds (``lines_plugin``); the store
contract (test_store_contract.py) holds every store to what the protocol needs of it, and the
races between processes run here on the stores that other processes can open."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace

import pytest

from drivequeue import JobState, LocalStore, MemoryStore, Queue, open_store
from drivequeue.errors import InvalidKey, InvalidPayload, JobStateError, LeaseLost, NotFound, StoreUnavailable
from drivequeue.metered_store import MeteredStore
from drivequeue.records import decode, encode
from tests.helpers import eventually

from .lines_plugin import BY_NAME, MAX_COUNT, MAX_LINES
from .outage import OutageStore, output_state

STATUS_FIELDS = {"id", "kind", "status", "lines", "line_count", "lines_requested", "error", "queue_position",
                 "attempt", "worker", "progress", "created", "payload", "segments", "parent", "stopping"}


@pytest.fixture
def store():
    store = MemoryStore()
    yield store
    store.close()


def new_queue(store, timing) -> Queue:
    return Queue(store, timing, kinds=BY_NAME)


def job(queue, count=3, **fields):
    return queue.submit("lines", {"text": "Once upon a time", "count": count, **fields})


def session(queue, offers=("default",), **kw):
    return queue.worker(host="testhost", device="cpu", offers=list(offers), **kw)


def claim_when_ready(sess):
    return eventually(sess.claim_next)


# -- submit and status ------------------------------------------------------------------------


def test_submit_queues_a_job_that_status_describes(queue):
    job_id = job(queue, count=4, pace=1.2)
    status = queue.status(job_id)
    assert set(status.to_dict()) >= STATUS_FIELDS
    assert status["id"] == job_id
    assert status["status"] == "queued" and status["queue_position"] == 1
    assert status["lines"] == [] and status["line_count"] == 0 and status["lines_requested"] == 4
    assert status["payload"]["text"] == "Once upon a time" and status["payload"]["pace"] == 1.2
    assert status["worker"] is None and status["attempt"] == 0 and status["segments"] == 1


def test_submit_is_idempotent_on_the_job_id(queue, store):
    job_id = queue.new_job_id()
    assert queue.submit("lines", {"text": "a"}, job_id=job_id) == job_id
    assert queue.submit("lines", {"text": "a"}, job_id=job_id) == job_id
    assert len(store.list("job")) == 1
    other = job(queue)  # the same request without an id is another job
    assert other != job_id and len(store.list("job")) == 2


def test_a_bad_request_is_refused_and_writes_nothing(queue, store):
    with pytest.raises(InvalidPayload, match="text is blank"):
        queue.submit("lines", {"text": "  "})
    with pytest.raises(InvalidPayload, match="unknown job kind"):
        queue.submit("paint", {"text": "a"})
    assert store.list() == []


@pytest.mark.parametrize("bad", ["../x", "%2e%2e", "", "a" * 1024, "job-x/../../etc.passwd", None])
def test_malformed_ids_never_reach_the_store(tmp_path, fast_timing, bad):
    store = MeteredStore(LocalStore(tmp_path / "q"))
    queue = new_queue(store, fast_timing)
    for call in (queue.status, queue.cancel, lambda i: queue.continue_job(i, {"count": 1})):
        with pytest.raises(InvalidKey):
            call(bad)
    if bad is not None:  # None asks submit for a fresh id
        with pytest.raises(InvalidKey):
            queue.submit("lines", {"text": "a"}, job_id=bad)
    assert store.operations == {}


def test_unknown_ids_and_wrong_secrets_are_not_found(queue):
    job_id = job(queue)
    key, _ = job_id.split(".")
    for bad in (key + "." + "x" * 22, queue.new_job_id()):
        with pytest.raises(NotFound):
            queue.status(bad)


def test_queue_positions_are_first_in_first_out(queue):
    ids = [job(queue) for _ in range(3)]
    assert [queue.status(i)["queue_position"] for i in ids] == [1, 2, 3]


# -- claiming ----------------------------------------------------------------------------------


def test_a_worker_claims_writes_lines_and_completes(queue, other_queue):
    job_id = job(queue, count=3)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        assert claim.kind == "lines" and claim.attempt == 1
        assert claim.payload["text"] == "Once upon a time" and claim.remaining == 3 and claim.lines == []
        running = queue.status(job_id)
        assert running["status"] == "running" and running["worker"]["host"] == "testhost"
        assert running["queue_position"] is None
        claim.append(["one", "two"])
        claim.set_progress({"line": 2, "of": 3})
        status = queue.status(job_id, after=1)
        assert status["lines"] == ["two"] and status["line_count"] == 2
        assert status["progress"] == {"line": 2, "of": 3}
        claim.append(["three"])
        assert claim.remaining == 0
        claim.complete()
        assert worker.claim_next() is None
    done = queue.status(job_id)
    assert done["status"] == "done" and done["lines"] == ["one", "two", "three"] and done["worker"] is None


def test_claims_are_first_in_first_out_and_respect_offers_and_kinds(queue, other_queue):
    first = job(queue, tool="other")
    second = job(queue)
    third = job(queue)
    note = queue.submit("note", {"text": "tales"})
    with session(other_queue) as worker:
        assert worker.claim_next().job_key == second.split(".")[0]
        assert worker.claim_next().job_key == third.split(".")[0]
        assert worker.claim_next(kinds={"lines"}) is None
        assert worker.claim_next().job_key == note.split(".")[0]
    with session(other_queue, offers=["other"], kinds={"lines"}) as worker:
        assert worker.claim_next().job_key == first.split(".")[0]


def test_exactly_one_of_many_threads_wins_a_job(store, fast_timing):
    producer = new_queue(store, fast_timing)
    for _ in range(5):
        job(producer)
    queues = [new_queue(open_store(store.url), fast_timing) for _ in range(8)]
    sessions = [session(q).__enter__() for q in queues]
    barrier = threading.Barrier(len(sessions))
    won: list[list[str]] = [[] for _ in sessions]

    def race(i):
        barrier.wait()
        while (claim := sessions[i].claim_next()) is not None:
            won[i].append(claim.key)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claims = [key for keys in won for key in keys]
    assert len(claims) == len(set(claims)) == 5
    for summary in producer.jobs():
        assert summary["status"] == "running" and summary["attempt"] == 1
    for sess in sessions:
        sess.close()


def _race_in_a_process(url, timing, barrier, results):
    queue = new_queue(open_store(url), timing)
    with session(queue) as worker:
        barrier.wait()
        claims = []
        while (claim := worker.claim_next()) is not None:
            claims.append(claim.key)
            claim.complete()
        results.put(claims)


def test_exactly_one_of_many_processes_wins_each_job(store_factory, fast_timing):
    """On each store that other processes can open (``STORE_FACTORIES``)."""
    store = store_factory()
    producer = new_queue(store, fast_timing)
    ids = [job(producer) for _ in range(6)]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_race_in_a_process, args=(store.url, fast_timing, barrier, results))
             for _ in range(4)]
    for proc in procs:
        proc.start()
    claims = [key for _ in procs for key in results.get(timeout=60)]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert len(claims) == len(set(claims)) == 6
    assert all(producer.status(i)["status"] == "done" for i in ids)


def test_marks_and_meta_travel_with_the_lines_survive_a_takeover_and_show_through_the_kinds_status(
        queue, other_queue):
    job_id = job(queue, count=5)
    dead = session(queue, background=False).__enter__()  # beats only when told: it "dies" below
    claim = dead.claim_next()
    claim.append([" and slept.", "Then."], marks={"breaks": [1]}, meta={"ending": "mid-line"})
    with pytest.raises(ValueError):
        claim.append(["x"], marks={"breaks": [1]})
    with pytest.raises(TypeError):
        claim.append(["x"], meta={"ending": object()})
    with session(other_queue) as rescuer:
        resumed = claim_when_ready(rescuer)
        assert resumed.marks == {"breaks": [1]} and resumed.meta == {"ending": "mid-line"}
        resumed.append(["A.", "B.", "C."], marks={"breaks": [0, 2]})
        resumed.complete()
    status = queue.status(job_id)
    assert status.lines == (" and slept.", "Then.", "A.", "B.", "C.")
    assert status.marks == {"breaks": (1, 2, 4)} and status.meta == {"ending": "mid-line"}
    assert status["breaks"] == [1, 2, 4] and status["ending"] == "mid-line"
    assert queue.status(job_id, after=2)["breaks"] == [2, 4]
    assert queue.status(job_id, after=3)["breaks"] == [4]
    assert "marks" not in status.to_dict() and "meta" not in status.to_dict()  # the kind shows them its own way


def test_an_output_written_without_marks_and_meta_reads_as_having_none(queue, store):
    job_id = job(queue, count=2)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["one", "two"])
        key = claim._record.output_key
        raw = decode(store.read(key))
        del raw["marks"], raw["meta"]  # as an older worker wrote it
        store.write(key, encode(raw))
        status = queue.status(job_id)
    assert status.lines == ("one", "two") and status.marks == {} and status.meta == {}


# -- leases, recovery, fencing ---------------------------------------------------------------


def test_an_expired_lease_makes_the_job_claimable_and_it_resumes_from_the_last_line(queue, other_queue):
    job_id = job(queue, count=5)
    dead = session(queue, background=False).__enter__()  # beats only when told: it "dies" below
    claim = dead.claim_next()
    claim.append(["1", "2"])
    with session(other_queue) as rescuer:
        assert rescuer.claim_next() is None  # the lease has not expired yet for this observer
        resumed = claim_when_ready(rescuer)
        assert resumed.job_key == claim.job_key and resumed.attempt == 2
        assert resumed.lines == ["1", "2"] and resumed.remaining == 3
        resumed.append(["3", "4", "5"])
        resumed.complete()
    status = queue.status(job_id)
    assert status["status"] == "done" and status["lines"] == ["1", "2", "3", "4", "5"] and status["attempt"] == 2


def test_a_stale_owner_cannot_write_once_its_heartbeat_is_too_old(queue, other_queue):
    job_id = job(queue, count=4)
    stale = session(queue, background=False).__enter__()
    claim = stale.claim_next()
    claim.append(["1"])
    with session(other_queue) as rescuer:
        resumed = claim_when_ready(rescuer)
        resumed.append(["2"])
        with pytest.raises(LeaseLost, match="heartbeat"):
            claim.append(["stale"])
        with pytest.raises(JobStateError):
            claim.complete()
        resumed.append(["3", "4"])
        resumed.complete()
    assert queue.status(job_id)["lines"] == ["1", "2", "3", "4"]


def test_a_stale_owner_that_still_beats_is_fenced_by_the_newer_claim(queue, other_queue, store):
    job_id = job(queue, count=3)
    stale = session(queue, background=False).__enter__()
    claim = stale.claim_next()
    claim.append(["1"])
    store.delete(stale.key)  # its registry entry vanishes: observers count it dead at once
    with session(other_queue) as rescuer:
        resumed = rescuer.claim_next()
        assert resumed is not None and resumed.lines == ["1"]
        stale.heartbeat()  # registers again under a new key; the old claim is given up
        with pytest.raises(LeaseLost):
            claim.append(["stale"])
        resumed.append(["2", "3"])
        resumed.complete()
    assert queue.status(job_id)["lines"] == ["1", "2", "3"]


def test_late_writes_of_a_live_stale_owner_never_show(queue, other_queue, store):
    job_id = job(queue, count=2)
    stale = session(queue, background=False).__enter__()
    claim = stale.claim_next()
    store.delete(stale.key)
    with session(other_queue) as rescuer:
        resumed = rescuer.claim_next()
        # the takeover check has not run yet: this write lands in the stale owner's own file
        claim._last_takeover_check = float("inf")
        claim.append(["stale line"])
        assert queue.status(job_id)["lines"] == []
        resumed.append(["a", "b"])
        resumed.complete()
    assert queue.status(job_id)["lines"] == ["a", "b"]


def test_a_claim_dropped_by_a_live_worker_is_taken_over(queue, other_queue):
    job_id = job(queue, count=2)
    with session(queue) as first:
        claim = first.claim_next()
        first._drop(claim)  # what a fenced claim does; the worker itself keeps beating
        with session(other_queue) as second:
            resumed = claim_when_ready(second)
            assert resumed.attempt == 2
            resumed.append(["a", "b"])
            resumed.complete()
    assert queue.status(job_id)["status"] == "done"


# -- attempts --------------------------------------------------------------------------------------


def test_a_job_that_crashes_its_worker_k_times_fails_with_the_reason(queue):
    job_id = job(queue)
    with session(queue) as worker:
        for attempt in (1, 2, 3):
            claim = worker.claim_next()
            assert claim.attempt == attempt
            claim.crash(f"CUDA error {attempt}")
        assert worker.claim_next() is None
    status = queue.status(job_id)
    assert status["status"] == "failed"
    assert "3 attempts" in status["error"] and "CUDA error 3" in status["error"]


def test_abandoned_attempts_count_and_end_in_failed(store, fast_timing):
    timing = replace(fast_timing, lease=0.5, heartbeat=0.05, max_attempts=2)
    queue = new_queue(store, timing)
    job_id = job(queue)
    for attempt in (1, 2):
        observer = new_queue(open_store(store.url), timing)
        vanishing = session(observer, background=False).__enter__()
        claim = claim_when_ready(vanishing)
        assert claim.attempt == attempt
    status = eventually(lambda: (s := queue.status(job_id))["status"] == "failed" and s)
    assert "2 attempts" in status["error"] and "stopped responding" in status["error"]


def test_released_claims_do_not_use_up_attempts(queue):
    job_id = job(queue, count=3)
    with session(queue) as worker:
        for _ in range(5):
            claim = worker.claim_next()
            assert claim.attempt == 1
            claim.append([f"line {len(claim.lines) + 1}"])
            claim.release()
            assert queue.status(job_id)["status"] == "queued"
        claim = worker.claim_next()
        assert claim.lines == ["line 1", "line 2", "line 3", "line 4", "line 5"]


def test_fail_is_final(queue):
    job_id = job(queue)
    with session(queue) as worker:
        worker.claim_next().fail("unknown model 'x'")
        assert worker.claim_next() is None
    status = queue.status(job_id)
    assert status["status"] == "failed" and status["error"] == "unknown model 'x'"


def test_closing_a_session_releases_what_it_holds(queue, other_queue):
    job_id = job(queue)
    with session(queue) as worker:
        worker.claim_next().append(["kept"])
    assert queue.status(job_id)["status"] == "queued"
    with session(other_queue) as worker:
        assert worker.claim_next().lines == ["kept"]


@pytest.mark.parametrize("ending, args, state, next_attempt", [
    ("complete", (), "done", None),
    ("fail", ("unknown model",), "failed", None),
    ("crash", ("CUDA error",), "queued", 2),  # a crash uses up its attempt once
    ("release", (), "queued", 1),
])
def test_a_final_write_that_meets_an_outage_leaves_the_claim_open_to_retry(
        tmp_path, fast_timing, ending, args, state, next_attempt):
    store = OutageStore(tmp_path / "queue")
    queue = new_queue(store, fast_timing)
    job_id = job(queue, count=2)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["one", "two"])
        store.outage = lambda method, key, data: output_state(data) not in (None, "running")
        for _ in range(2):
            with pytest.raises(StoreUnavailable):
                getattr(claim, ending)(*args)
            assert worker.claims == [claim]
        beat = worker.record.beat  # still held: the heartbeat renews it for more than a lease
        eventually(lambda: worker.record.beat > beat + fast_timing.lease / fast_timing.heartbeat)
        assert queue.status(job_id)["status"] == "running"
        store.outage = None
        getattr(claim, ending)(*args)
        assert worker.claims == []
        with pytest.raises(JobStateError):
            claim.complete()
    status = queue.status(job_id)
    assert status["status"] == state and status["lines"] == ["one", "two"]
    assert store.refused == 2
    if next_attempt is not None:
        with session(queue) as worker:
            assert worker.claim_next().attempt == next_attempt


def test_closing_a_session_writes_an_ending_that_met_an_outage(tmp_path, fast_timing):
    store = OutageStore(tmp_path / "queue")
    queue = new_queue(store, fast_timing)
    job_id = job(queue, count=1)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["the end"])
        store.outage = lambda method, key, data: output_state(data) == "done"
        with pytest.raises(StoreUnavailable):
            claim.complete()
        store.outage = None
    status = queue.status(job_id)
    assert status["status"] == "done" and status["lines"] == ["the end"] and status["attempt"] == 1


def test_a_job_failed_on_the_way_is_not_held_through_an_outage_and_is_failed_once_it_is_past(
        tmp_path, fast_timing):
    def refuse(payload):
        raise InvalidPayload("this worker writes no lines today")

    store = OutageStore(tmp_path / "queue")
    queue = new_queue(store, fast_timing)
    job_id = job(queue)
    strict = Queue(store, fast_timing, kinds={**BY_NAME, "lines": replace(BY_NAME["lines"], check=refuse)})
    with session(strict) as worker:
        store.outage = lambda method, key, data: output_state(data) == "failed"
        with pytest.raises(StoreUnavailable):
            worker.claim_next()
        assert worker.claims == []  # its heartbeat does not keep the job running
        store.outage = None
        assert worker.claim_next() is None  # failed on the way
    status = queue.status(job_id)
    assert status.state is JobState.FAILED and status.error == "this worker writes no lines today"


# -- cancel and continue ------------------------------------------------------------------------


def test_cancel_stops_a_running_job(queue, other_queue):
    job_id = job(queue, count=MAX_COUNT)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        claim.append(["1"])
        assert claim.cancelled is False
        cancelled = queue.cancel(job_id)
        assert cancelled["status"] == "cancelled" and cancelled["stopping"] is True
        eventually(lambda: claim.cancelled)
        claim.append(["2"])  # the line it was writing when the cancel came
        claim.complete()
        assert worker.claim_next() is None
    status = queue.status(job_id)
    assert status["status"] == "cancelled" and status["stopping"] is False and status["lines"] == ["1", "2"]


def test_cancel_a_queued_job_and_not_a_finished_one(queue):
    queued, finished = job(queue), job(queue)
    cancelled = queue.cancel(queued)
    assert cancelled["status"] == "cancelled" and cancelled["stopping"] is False  # no worker to wait for
    assert queue.cancel(queued)["status"] == "cancelled"  # twice is fine
    with session(queue) as worker:
        claim = worker.claim_next()
        assert claim.job_key == finished.split(".")[0]
        claim.complete()
    with pytest.raises(JobStateError, match="finished"):
        queue.cancel(finished)


def test_a_reader_that_lacks_the_kind_is_told_a_finished_job_cannot_be_cancelled(queue, store, fast_timing):
    finished = job(queue)
    with session(queue) as worker:
        worker.claim_next().complete()
    without_the_kind = Queue(store, fast_timing, kinds={})
    assert without_the_kind.status(finished).state is JobState.DONE
    with pytest.raises(JobStateError, match="finished"):
        without_the_kind.cancel(finished)
    assert queue.status(finished)["status"] == "done"


def test_a_cancelled_job_whose_worker_vanished_is_not_stopping(store, fast_timing):
    timing = replace(fast_timing, lease=0.5, heartbeat=0.05)
    queue = new_queue(store, timing)
    job_id = job(queue)
    vanishing = session(new_queue(open_store(store.url), timing), background=False).__enter__()
    claim_when_ready(vanishing).append(["1"])
    assert queue.cancel(job_id)["stopping"] is True
    eventually(lambda: queue.status(job_id)["stopping"] is False)
    queue.continue_job(job_id, {"count": 2})
    assert queue.status(job_id)["status"] == "queued"


def test_continue_adds_a_segment_that_resumes_the_job(queue, other_queue):
    job_id = job(queue, count=2, pace=0.5)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        claim.append(["a", "b"])
        with pytest.raises(JobStateError, match="running"):
            queue.continue_job(job_id, {"count": 2})
        claim.complete()
        status = queue.continue_job(job_id, {"count": 3, "step": 5})
        assert status["status"] == "queued" and status["segments"] == 2 and status["lines_requested"] == 5
        with pytest.raises(JobStateError, match="queued"):
            queue.continue_job(job_id, {"count": 2})
        more = worker.claim_next()
        assert more.attempt == 1 and more.lines == ["a", "b"] and more.remaining == 3
        assert more.settings["pace"] == 0.5 and more.settings["step"] == 5 and more.settings["count"] == 3
        assert [s["count"] for s in more.segments] == [2, 3]
        more.append(["c", "d", "e"])
        more.complete()
    assert queue.status(job_id)["lines"] == ["a", "b", "c", "d", "e"]


def test_continue_after_a_cancel_starts_from_the_lines_written(queue):
    job_id = job(queue, count=10)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["1"])
        queue.cancel(job_id)
        # until the worker has stopped, a continue would race the line it is still writing
        with pytest.raises(JobStateError, match="still stopping"):
            queue.continue_job(job_id, {"count": 2})
        eventually(lambda: claim.cancelled)
        claim.append(["2"])
        claim.complete()
        queue.continue_job(job_id, {"count": 2})
        more = worker.claim_next()
        assert more.lines == ["1", "2"] and more.remaining == 2
        more.append(["3", "4"])
        more.complete()
    assert queue.status(job_id)["status"] == "done"


def test_a_cancel_that_keeps_some_lines_drops_the_rest_and_what_is_written_after_it(queue, other_queue):
    job_id = job(queue, count=MAX_COUNT)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        claim.append([str(n) for n in range(1, 8)])
        cancelled = queue.cancel(job_id, {"keep": 4})  # the kind's rule: the first 4 lines
        assert cancelled["lines"] == ["1", "2", "3", "4"] and cancelled["line_count"] == 4
        assert cancelled["stopping"] is True
        claim.append(["8", "9"])  # what the worker writes before it notices
        eventually(lambda: claim.cancelled)
        claim.complete()
    status = other_queue.status(job_id)  # another reader, that saw the 9 lines, drops them too
    assert status["status"] == "cancelled" and not status["stopping"]
    assert status["lines"] == ["1", "2", "3", "4"]
    assert queue.status(job_id, after=4)["lines"] == []


def test_a_cancel_that_keeps_some_lines_after_the_segment_finished_still_cuts_it(queue, other_queue):
    job_id = job(queue, count=4)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        claim.append(["1", "2", "3", "4"])
        claim.complete()
        assert queue.status(job_id)["status"] == "done"
        with pytest.raises(JobStateError, match="finished"):
            queue.cancel(job_id, {"keep": 4})  # it would keep every line: nothing to stop
        with pytest.raises(JobStateError, match="finished"):
            queue.cancel(job_id)
        status = queue.cancel(job_id, {"keep": 2})
        assert status["status"] == "cancelled" and status["lines"] == ["1", "2"]
        # continuing resumes after the lines kept, and the cut segment stays cut
        queue.continue_job(job_id, {"count": 2})
        assert other_queue.status(job_id)["lines"] == ["1", "2"]
        more = worker.claim_next()
        assert more.lines == ["1", "2"] and more.remaining == 2
        more.append(["x", "y"])
        more.complete()
    assert queue.status(job_id)["lines"] == ["1", "2", "x", "y"]


def test_a_cut_drops_the_marks_of_the_lines_it_drops(queue, other_queue):
    job_id = job(queue, count=4)
    with session(other_queue) as worker:
        claim = worker.claim_next()
        claim.append(["A.", "B.", "C.", "D."], marks={"breaks": [0, 2, 3]}, meta={"ending": "full"})
        claim.complete()
        status = queue.cancel(job_id, {"keep": 2})
        assert status["lines"] == ["A.", "B."] and status["breaks"] == [0] and status["ending"] == "full"
        queue.continue_job(job_id, {"count": 1})
        more = worker.claim_next()  # a later claim copies the cut lines and their marks
        assert more.lines == ["A.", "B."] and more.marks == {"breaks": [0]}
        more.append(["E."])
        more.complete()
    assert queue.status(job_id)["breaks"] == [0]


def test_a_cancel_that_keeps_some_lines_never_cuts_an_earlier_segment(queue):
    job_id = job(queue, count=2)
    with session(queue) as worker:
        first = worker.claim_next()
        first.append(["a", "b"])
        first.complete()
        queue.continue_job(job_id, {"count": 5})
        more = worker.claim_next()
        more.append(["c", "d", "e"])
        status = queue.cancel(job_id, {"keep": 0})  # less than the earlier segment wrote
        assert status["lines"] == ["a", "b"]
        eventually(lambda: more.cancelled)
        more.complete()
    assert queue.status(job_id)["lines"] == ["a", "b"]


@pytest.mark.parametrize("keep", [-1, "3", True, 1.5, None, [], {}, 10**30])
def test_a_cancel_with_a_bad_option_is_refused_and_writes_nothing(queue, keep):
    job_id = job(queue)
    options = {"keep": keep} if keep is not None else {"keep_lines": 1}
    with pytest.raises(InvalidPayload, match="keep"):
        queue.cancel(job_id, options)
    assert queue.status(job_id)["status"] == "queued"


def test_continue_refuses_bad_requests(queue):
    job_id = job(queue, count=MAX_COUNT)
    note = queue.submit("note", {"text": "once"})
    with session(queue) as worker:
        for _ in range(2):
            worker.claim_next().complete()
    with pytest.raises(InvalidPayload, match="count"):
        queue.continue_job(job_id, {"count": 0})
    with pytest.raises(InvalidPayload, match="cannot be continued"):
        queue.continue_job(note, {"count": 1})
    for _ in range(MAX_LINES // MAX_COUNT - 1):
        queue.continue_job(job_id, {"count": MAX_COUNT})
        with session(queue) as worker:
            worker.claim_next().complete()
    with pytest.raises(InvalidPayload, match=f"at most {MAX_LINES} lines"):
        queue.continue_job(job_id, {"count": 1})


def test_two_racing_continues_make_one_segment(queue, other_queue):
    job_id = job(queue, count=1)
    with session(queue) as worker:
        worker.claim_next().complete()
    queue.status(job_id), other_queue.status(job_id)  # both have seen it done
    queue.continue_job(job_id, {"count": 1})
    with pytest.raises(JobStateError):
        other_queue.continue_job(job_id, {"count": 1})
    assert queue.status(job_id)["segments"] == 2


# -- coalesced output (what Drive uses) ---------------------------------------------------------


def test_lines_are_coalesced_within_the_flush_interval_and_flushed_in_order(store, fast_timing):
    queue = new_queue(store, replace(fast_timing, flush=3600))
    job_id = job(queue, count=3)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["a"])
        claim.append(["b"])
        assert queue.status(job_id)["lines"] == []
        claim.flush()
        assert queue.status(job_id)["lines"] == ["a", "b"]
        claim.append(["c"])
        claim.complete()
    assert queue.status(job_id)["lines"] == ["a", "b", "c"]


def test_a_progress_report_rides_on_the_line_write(store, fast_timing):
    queue = new_queue(store, replace(fast_timing, flush=3600))
    job_id = job(queue, count=3)
    with session(queue) as worker:
        claim = worker.claim_next()
        claim.append(["a"], progress={"line": 2, "of": 3})
        assert queue.status(job_id)["progress"] == {}
        claim.flush()
        status = queue.status(job_id)
        assert status["lines"] == ["a"] and status["progress"] == {"line": 2, "of": 3}
        with pytest.raises(TypeError):
            claim.append(["b"], progress=[2, 3])
        claim.release()

# -- the worker registry --------------------------------------------------------------------------


def test_workers_are_listed_while_they_beat(queue, other_queue):
    assert queue.workers() == []
    with session(other_queue, version="1.2", kinds={"lines"}) as worker:
        entry, = eventually(queue.workers)
        assert entry["id"] == worker.id and entry["host"] == "testhost" and entry["device"] == "cpu"
        assert entry["offers"] == ["default"] and entry["kinds"] == ["lines v1", "lines v2"]
        assert entry["version"] == "1.2" and entry["protocol"] == 1 and entry["online"] is True
        job(queue)
        worker.claim_next()
        eventually(lambda: queue.workers()[0]["state"] == "busy")
    assert queue.workers() == []


def test_set_offers_changes_what_a_worker_claims_and_announces(queue, other_queue):
    job_id = job(queue, tool="tales")
    with session(other_queue) as worker:
        assert worker.claim_next() is None
        worker.set_offers(["tales", "default"])
        assert worker.claim_next().job_key == job_id.split(".")[0]
        eventually(lambda: queue.workers()[0]["offers"] == ["default", "tales"])

def test_a_silent_worker_goes_offline(queue, other_queue):
    silent = session(other_queue, background=False).__enter__()
    assert queue.workers()[0]["online"] is True
    eventually(lambda: queue.workers()[0]["online"] is False)
    silent.heartbeat()
    assert queue.workers()[0]["online"] is True


def test_many_threads_reading_through_one_queue_agree(queue, other_queue):
    """A web app serves every request through one Queue: its caches must stay consistent."""
    ids = [job(queue, count=2) for _ in range(5)]
    errors = []
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                for job_id in ids:
                    status = queue.status(job_id)
                    assert status["line_count"] <= 4 and status["attempt"] <= 2
                queue.jobs()
        except Exception as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    with session(other_queue) as worker:
        for _ in ids:
            claim = worker.claim_next()
            claim.append(["a"])
            claim.release()
            claim = worker.claim_next()
            claim.append(["b"])
            claim.complete()
    stop.set()
    for reader in readers:
        reader.join()
    assert errors == []
    for job_id in ids:
        view = queue.reader.view(job_id.split(".")[0])
        assert len(view.claims) == len(set(view.claim_keys)) == 2
        assert queue.status(job_id)["lines"] == ["a", "b"]
