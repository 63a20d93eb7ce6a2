"""Files an attacker who can write the queue folder might leave there, planted by hand.

Each planter returns the key it used, so that a test can look for that key in the logs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from drivequeue import LocalStore
from drivequeue.job_ids import hash_secret, new_secret
from drivequeue.records import JobRecord, decode


def job_json(store: LocalStore, **change) -> dict:
    """A well-formed story job record, with ``change`` applied."""
    claim, cancel, segment = (store.new_keys(name)[0] for name in ("claim", "cancel", "segment"))
    record = JobRecord(kind="story", payload={"v": 1, "seed": "planted", "lines": 1},
                       secret_hash=hash_secret(new_secret()), created=1.0, claim_key=claim,
                       cancel_key=cancel, next_segment_key=segment)
    return {**decode(record.to_bytes()), **change}


def _compact(record: dict) -> str:
    text = json.dumps(record, separators=(",", ":"))
    assert text.count(":0,") == 1  # the one field a planter swaps for a huge number
    return text


def plant(store: LocalStore, name: str, data: bytes) -> str:
    key, = store.new_keys(name)
    (store.root / key).write_bytes(data)
    return key


def plant_hostile_records(store: LocalStore) -> dict[str, str]:
    """Valid JSON with hostile values: what each key is."""
    huge_created = _compact(job_json(store, created=0)).replace('"created":0', '"created":' + "9" * 400)
    deep = '{"v":1,"type":"job","payload":' + "[" * 100_000 + "]" * 100_000 + "}"
    heartbeat = {"v": 1, "type": "worker", "id": "evil", "host": "h", "device": "cpu", "models": ["default"],
                 "kinds": ["story"], "version": "1", "started": 0, "beat": 1, "time": 1.0, "claims": [],
                 "state": "idle"}
    huge_started = _compact(heartbeat).replace('"started":0', '"started":' + "9" * 400)
    return {
        plant(store, "job", huge_created.encode()): "a 400-digit created",
        plant(store, "job", deep.encode()): "100,000 nested arrays",
        plant(store, "job", json.dumps(job_json(store, claim_key="../../etc/passwd")).encode()): "a traversal claim key",
        plant(store, "job", json.dumps(job_json(store, created=float("inf"))).encode()): "an infinite created",
        plant(store, "worker", huge_started.encode()): "a heartbeat with a 400-digit started",
    }


def plant_non_regular_files(store: LocalStore, outside: Path) -> dict[str, str]:
    """A folder, a FIFO, and links (to a job file outside the folder, and to /dev/zero), named like jobs."""
    planted = {}
    key, = store.new_keys("job")
    (store.root / key).mkdir()
    planted[key] = "a folder"
    key, = store.new_keys("job")
    os.mkfifo(store.root / key)
    planted[key] = "a FIFO"
    outside.write_text(json.dumps(job_json(store)))
    key, = store.new_keys("job")
    os.symlink(outside, store.root / key)
    planted[key] = "a link to a job file outside"
    key, = store.new_keys("job")
    os.symlink("/dev/zero", store.root / key)
    planted[key] = "a link to /dev/zero"
    return planted
