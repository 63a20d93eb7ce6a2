"""Public job ids and record parsing."""

from __future__ import annotations

import pytest

from drivequeue.errors import CorruptRecord, InvalidKey
from drivequeue.records import (
    JobRecord,
    OutputRecord,
    decode,
    hash_secret,
    make_job_id,
    new_secret,
    parse_job_id,
    secret_matches,
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
    job = JobRecord(kind="story", payload={}, secret_hash="h", created=1.0, claim_key="c",
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
