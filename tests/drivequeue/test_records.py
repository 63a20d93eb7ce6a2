"""Public job ids and record parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivequeue.errors import CorruptRecord, InvalidKey
from drivequeue.job_ids import hash_secret, make_job_id, new_secret, parse_job_id, secret_matches
from drivequeue.records import (
    CancelRecord,
    ClaimRecord,
    JobRecord,
    OutputRecord,
    SegmentRecord,
    WorkerRecord,
    decode,
)


def test_ids_round_trip_and_secrets_have_128_bits():
    secret = new_secret()
    assert len(secret) >= 22
    assert parse_job_id(make_job_id("job-abc", secret)) == ("job-abc", secret)
    assert secret_matches(secret, hash_secret(secret))
    assert not secret_matches(new_secret(), hash_secret(secret))
    assert not secret_matches(secret, None)


@pytest.mark.parametrize("bad", [
    "", "../x", "%2e%2e", "job-abc", "job-abc.short", "a" * 1024, "job-abc." + "s" * 22 + "/x",
    "job abc." + "s" * 22, ".", "job-abc.." + "s" * 22, None, 12, ["job"],
])
def test_malformed_ids_are_refused(bad):
    with pytest.raises(InvalidKey):
        parse_job_id(bad)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[1]", b"null", b"{", "\"text\"".encode()])
def test_only_json_objects_decode(data):
    with pytest.raises(CorruptRecord):
        decode(data)


def test_records_check_their_fields():
    job = JobRecord(kind="lines", payload={}, secret_hash="h", created=1.0, claim_key="c",
                    cancel_key="x", next_segment_key="s")
    assert JobRecord.parse(decode(job.to_bytes())) == job
    raw = decode(job.to_bytes())
    for change, message in [({"v": 2}, "unknown protocol version 2"), ({"type": "claim"}, "expected a job"),
                            ({"claim_key": 5}, "claim_key"), ({"created": "yesterday"}, "created")]:
        with pytest.raises(CorruptRecord, match=message):
            JobRecord.parse({**raw, **change})
    output = OutputRecord(job="j", claim="c", attempt=1, segment=1, lines=["a"])
    raw = decode(output.to_bytes())
    assert OutputRecord.parse(raw) == output
    for change in ({"lines": [1]}, {"state": "sleeping"}, {"ends": ["1"]}):
        with pytest.raises(CorruptRecord):
            OutputRecord.parse({**raw, **change})


def test_output_marks_must_be_indices_of_its_lines():
    base = {"v": 1, "type": "output", "job": "j", "claim": "c", "attempt": 1, "segment": 1,
            "lines": ["a", "b"], "ends": [], "state": "running", "progress": {}, "time": 0.0}
    assert OutputRecord.parse({**base, "marks": {"breaks": [1, 0]}}).marks == {"breaks": [0, 1]}
    for bad in ([2], [-1], ["0"], [True], "0"):
        with pytest.raises(CorruptRecord, match="marks"):
            OutputRecord.parse({**base, "marks": {"breaks": bad}})
    with pytest.raises(CorruptRecord, match="meta"):
        OutputRecord.parse({**base, "meta": "chapter"})


# -- hostile values: every parse ends in a record or one CorruptRecord --------------------------

_hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300) | st.floats()
    | st.text(max_size=10) | st.just("../../etc/passwd") | st.just("x" * 100_000),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_RECORDS = [JobRecord, SegmentRecord, CancelRecord, ClaimRecord, OutputRecord, WorkerRecord]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_RECORDS), st.data())
def test_a_record_with_hostile_values_is_a_corrupt_record(record_type, data):
    """Start from a valid record and overwrite some fields: a record or CorruptRecord, nothing else;
    the reason is short, whatever the field held (it goes into one log line)."""
    valid = decode(_valid(record_type))
    names = sorted(valid)
    changes = data.draw(st.dictionaries(st.sampled_from(names), _hostile_values, max_size=3))
    try:
        parsed = record_type.parse({**valid, **changes})
    except CorruptRecord as exc:
        assert len(str(exc)) < 200
        return
    repr(parsed)  # what was accepted can be shown and written again
    parsed.to_bytes()


def _valid(record_type) -> bytes:
    key = "k" * 10
    samples = {
        JobRecord: JobRecord(kind="lines", payload={"v": 1, "text": "x"}, secret_hash="0" * 64, created=1.0,
                             claim_key=key, cancel_key=key, next_segment_key=key),
        SegmentRecord: SegmentRecord(job=key, index=2, payload={"v": 1, "lines": 1}, created=1.0, cancel_key=key,
                                     next_segment_key=key),
        CancelRecord: CancelRecord(job=key, segment=1, time=1.0, options={"seen": 1}),
        ClaimRecord: ClaimRecord(job=key, segment=1, attempt=1, worker=key, worker_id="w", output_key=key,
                                 next_claim_key=key, time=1.0),
        OutputRecord: OutputRecord(job=key, claim=key, attempt=1, segment=1, lines=["a"], ends=[1],
                                   marks={"breaks": [0]}, meta={"how": "x"}, progress={"line": 1, "of": 2},
                                   time=1.0, result={"n": 1}, files=["out.txt"]),
        WorkerRecord: WorkerRecord(id="w", host="h", device="cpu", offers=["default"], kinds=["lines v2"],
                                   version="1", started=1.0),
    }
    return samples[record_type].to_bytes()


@pytest.mark.parametrize("record_type", _RECORDS)
def test_the_reason_a_record_is_refused_stays_short_whatever_its_type_field_holds(record_type):
    with pytest.raises(CorruptRecord) as refused:
        record_type.parse({**decode(_valid(record_type)), "type": "x" * 100_000})
    assert len(str(refused.value)) < 200
