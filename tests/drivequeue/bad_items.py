"""Bad items planted by hand in each store, as someone who can write the store might leave them.

``plant_bad_items(store, emulator)`` plants what every store can hold plus what only that
store can (a sparse 1 GiB file on a folder, Redis keys of the wrong type and index entries
that name no file, Drive folders and Google Docs files named like records), and returns
``{text the item is named by: what it is}``: each text must show up in the logs and in
``drivequeue bad``; and the key of a job whose claim file is one of them: it must fail with
the reason.
"""

from __future__ import annotations

import json
import os

from drivequeue import Queue
from drivequeue.drive import DriveStore
from drivequeue.local import LocalStore
from drivequeue.records import JobRecord
from drivequeue.redis_store import RedisStore
from drivequeue.store import Store

GOOGLE_DOC = "application/vnd.google-apps.document"
FOLDER = "application/vnd.google-apps.folder"


def _file_record(blob: str, size: str = "12", name: str = '"models/bad.pt"') -> bytes:
    return (f'{{"v":1,"type":"file","name":{name},"blob":"{blob}","size":{size},'
            f'"md5":"{"0" * 32}","time":1.0}}').encode()


def _create(store: Store, name: str, data: bytes) -> str:
    key, = store.new_keys(name)
    store.create(key, name, data)
    return key


def plant_bad_items(store: Store, emulator=None) -> tuple[dict[str, str], str]:
    planted = {
        _create(store, "file", _file_record(store.new_keys("blob")[0], size="1e999")): "a file record of size 1e999",
        _create(store, "file", _file_record(store.new_keys("blob")[0], name="[" * 100_000 + "]" * 100_000)):
            "a file record nested 100,000 deep",
        _create(store, "job", b" " * (9 * 1024 * 1024)): "a job file over the read limit",
    }
    job_id = Queue(store, store.default_timing).submit("story", {"seed": "a planted story", "lines": 1})
    job_key = job_id.split(".")[0]
    claim_key = JobRecord.parse(json.loads(store.read(job_key))).claim_key
    if isinstance(store, LocalStore):
        store.create(claim_key, "claim", b'{"v": 1, "type": "claim"')
        planted[claim_key] = "a claim file cut short"
        key, = store.new_keys("job")
        with open(store.root / key, "wb") as sparse:
            sparse.truncate(1024 ** 3)
        planted[key] = "a sparse 1 GiB job file"
    elif isinstance(store, RedisStore):
        store.create(claim_key, "claim", b'{"v": 1, "type": "claim"')
        planted[claim_key] = "a claim file cut short"
        planted.update(_plant_redis(store))
    elif isinstance(store, DriveStore):
        emulator.drive.create({"id": claim_key, "name": "claim", "mimeType": GOOGLE_DOC,
                               "parents": [store.folder_id]}, b"")
        planted[claim_key] = "a Google Docs file at a job's claim key"
        for mime, what in ((FOLDER, "a sub-folder named job"), (GOOGLE_DOC, "a Google Docs file named job")):
            made = emulator.drive.create({"name": "job", "mimeType": mime, "parents": [store.folder_id]}, b"")
            planted[made.id] = what
    return planted, job_key


def _plant_redis(store: RedisStore) -> dict[str, str]:
    client, prefix = store.client, f"drivequeue:{store.queue}:"
    index = prefix + "index"
    client.hset(index, "../../etc/passwd", "job")
    client.hset(index, b"\xff\xfejob", "job")
    wrong_hash, = store.new_keys("job")
    client.hset(index, wrong_hash, "job")
    client.set(prefix + "m:" + wrong_hash, "not a hash")
    wrong_list = _create(store, "job", b"{}")
    client.delete(prefix + "d:" + wrong_list)
    client.sadd(prefix + "d:" + wrong_list, "not a list")
    blob = _create(store, "blob", os.urandom(10))
    client.hset(prefix + "m:" + blob, "mtime", "soon")
    return {
        "../../etc/passwd": "an index entry that is no key",
        r"\xff\xfejob": "an index entry that is not UTF-8",
        wrong_hash: "a job key holding a string",
        wrong_list: "a job whose content is a set",
        blob: "a blob whose time of change is not a number",
    }
