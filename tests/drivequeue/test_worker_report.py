"""What a worker reports through its heartbeat: its device's memory and its work per kind."""

from __future__ import annotations

import json
import logging
import math

from hypothesis import given
from hypothesis import strategies as st

from drivequeue.records import WorkerRecord, decode, encode
from drivequeue.worker_report import ENDINGS, WorkerReport, parse_report


def job(queue, count=3):
    return queue.submit("lines", {"text": "Once upon a time", "count": count})


def gpu():
    return {"name": "Tesla T4", "memory_used": 3 * 2**30, "memory_free": 12 * 2**30}


def reported(queue):
    """The report of the one worker the queue lists, as another process reads it."""
    workers = queue.workers()
    assert len(workers) == 1
    return workers[0]["report"]


def test_an_observer_sees_the_workers_device_memory_and_work_per_kind(queue, other_queue):
    done_id, failed_id = job(queue, count=3), job(queue, count=2)
    with queue.worker(host="gpu-box", device="cuda: Tesla T4", offers=["default"], probe=gpu) as session:
        claim = session.claim_next()
        claim.append(["one", "two"])
        claim.append(["three"])
        claim.complete()
        session.claim_next().fail("no such tool")
        session.heartbeat()
        report = reported(other_queue)
    assert report["device"] == gpu()
    counts = report["kinds"]["lines"]
    assert counts["lines"] == 3 and counts["done"] == 1 and counts["failed"] == 1
    assert counts["crashed"] == counts["released"] == counts["cancelled"] == 0
    assert counts["lines_per_minute"] > 0
    assert other_queue.status(done_id)["status"] == "done" and other_queue.status(failed_id)["status"] == "failed"


def test_the_rate_counts_only_the_last_minute():
    now = [1000.0]
    report = WorkerReport(clock=lambda: now[0])
    now[0] += 120
    report.wrote("lines", 30)
    now[0] += 30
    assert report.as_json()["kinds"]["lines"]["lines_per_minute"] == 30.0
    now[0] += 40  # the 30 lines were written 70 s ago
    assert report.as_json()["kinds"]["lines"] == {"lines": 30, "lines_per_minute": 0.0, **dict.fromkeys(ENDINGS, 0)}


def test_a_young_worker_reports_its_rate_over_the_time_it_has_run():
    now = [50.0]
    report = WorkerReport(clock=lambda: now[0])
    now[0] += 10
    report.wrote("lines", 5)
    assert report.as_json()["kinds"]["lines"]["lines_per_minute"] == 30.0


def test_a_probe_that_breaks_costs_the_device_entry_not_the_heartbeat(queue, other_queue, caplog):
    def broken():
        raise RuntimeError("CUDA driver hiccup")

    with queue.worker(host="gpu-box", device="cuda", probe=broken) as session:
        with caplog.at_level(logging.WARNING, logger="drivequeue.worker_report"):
            assert session.heartbeat()
        beat = other_queue.workers()[0]
        assert beat["online"] and "device" not in beat["report"]
    assert "the device probe failed: RuntimeError: CUDA driver hiccup" in caplog.text


def test_a_heartbeat_without_a_report_reads_as_an_empty_one(queue, other_queue, store):
    with queue.worker(host="old-box", device="cpu") as session:
        raw = decode(store.read(session.key))
        del raw["report"]  # what a worker of an earlier release writes
        store.write(session.key, encode(raw))
        assert other_queue.workers()[0]["report"] == {}


def test_a_damaged_report_is_left_out_and_the_heartbeat_still_counts(queue, other_queue, store):
    with queue.worker(host="gpu-box", device="cuda") as session:
        raw = decode(store.read(session.key))
        raw["report"] = {"device": {"name": "x" * 500, "memory_used": -1, "memory_free": True},
                         "kinds": {"lines": {"lines": "many", "done": 2, "extra": 1}, "a\nb": {"lines": 1},
                                   "k" * 41: {"lines": 1}}}
        store.write(session.key, encode(raw))
        beat = other_queue.workers()[0]
    assert beat["online"] and beat["report"] == {"kinds": {"lines": {"done": 2}}}


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=50), inner, max_size=4),
                    max_leaves=30)


@given(st.one_of(JSON, st.fixed_dictionaries({"device": JSON, "kinds": st.dictionaries(st.text(max_size=50), JSON)})))
def test_whatever_a_report_holds_parsing_keeps_only_bounded_names_and_counts(raw):
    report = parse_report(raw)
    assert set(report) <= {"device", "kinds"}
    for name, value in report.get("device", {}).items():
        assert name in ("name", "memory_used", "memory_free")
        assert isinstance(value, str) and len(value) <= 200 if name == "name" else _count(value)
    for kind, counts in report.get("kinds", {}).items():
        assert len(kind) <= 40 and kind.isprintable()
        assert all(name in ("lines", "lines_per_minute", *ENDINGS) and _count(v) for name, v in counts.items())
    json.dumps(report, allow_nan=False)  # what a page or a metric shows can always be printed


def _count(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 2**53 \
        and not math.isnan(value)


def test_a_worker_record_carries_its_report_through_the_file():
    record = WorkerRecord(id="w", host="h", device="cuda", offers=[], kinds=["lines v2"], version="1",
                          started=1.0, report={"device": gpu(), "kinds": {"lines": {"lines": 4}}})
    assert WorkerRecord.parse(decode(record.to_bytes())).report == record.report
