"""Named files moved in and out of the queue (``drivequeue push`` / ``pull``), on any store.

A pushed file is two store files. Its content is a ``blob``, streamed with the
store's ``upload`` (resumable chunks on Drive). Only when the content has
arrived whole and its MD5 matches the local file is a small immutable ``file``
record created that names it::

    {"v": 1, "type": "file", "name": "corpora/grimm.txt", "blob": KEY, "size": 1234, "md5": HEX, "time": T}

so a reader that finds a record finds a complete file. Every store reports the MD5 of
what it stored (Drive and Redis their own, a local folder of what it wrote), and a
push fails, keeping nothing, when that differs from the local file's or when the
local file changed (size or time of change) while it was being sent. Pushing a name again
adds a newer record (the newest ``time`` wins; ties by key) and then removes
the older versions. A pull downloads to a temporary file next to the target,
checks the MD5 and only then renames it into place.

A job's handler may keep files of its own in the queue: scratch files that a
later attempt resumes from (``scratch_name``: ``jobs/<job key>/scratch/<name>``),
removed as the job ends (by whoever ends it; ``Queue.gc`` removes any left), and result files
(``result_name``: ``jobs/<job key>/results/<name>``), removed with the job.
``gc`` also removes blobs that no record names (a push that died between its
upload and its record) once they are older than the retention.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from .errors import ChecksumMismatch, CorruptRecord, InvalidKey, NotFound, shown
from .records import MAX_COUNT, MAX_TIME, decode
from .store import KEY_PATTERN, Store, file_chunks

FILE_VERSION = 1
RECORD = "file"
BLOB = "blob"
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
JOB_FILE_NAME = re.compile(r"jobs/([A-Za-z0-9_-]{1,100})/(scratch|results)/.+")
MAX_NAME = 200
MD5 = re.compile(r"[0-9a-f]{32}")
_HASH_CHUNK = 1 << 20

Progress = Callable[[int], None]


@dataclass(frozen=True)
class StoredFile:
    """One version of a pushed file; ``key`` is its record, ``blob`` its content."""

    key: str
    name: str
    blob: str
    size: int
    md5: str
    time: float


def check_file_name(name: object) -> str:
    """Return ``name`` if it can name a pushed file (``a/b.txt``, no ``..``), else ``InvalidKey``."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not FILE_NAME.fullmatch(name):
        raise InvalidKey("a file name is 1-200 letters, digits, '.', '_', '-' and '/' between parts")
    if any(part in (".", "..") for part in name.split("/")):
        raise InvalidKey("a file name may not contain '.' or '..' parts")
    return name


def scratch_name(job_key: str, name: str) -> str:
    """The pushed-file name of job ``job_key``'s scratch file ``name`` (removed when the job ends)."""
    return check_file_name(f"jobs/{job_key}/scratch/{name}")


def result_name(job_key: str, name: str) -> str:
    """The pushed-file name of job ``job_key``'s result file ``name`` (removed with the job)."""
    return check_file_name(f"jobs/{job_key}/results/{name}")


def job_of(name: str) -> tuple[str, bool] | None:
    """``(job key, is scratch)`` for a job's own file ``name``; None for any other name."""
    match = JOB_FILE_NAME.fullmatch(name)
    return (match.group(1), match.group(2) == "scratch") if match else None


def md5_of(path: str | os.PathLike) -> str:
    """The MD5 of the file ``path`` as it was when opened (of no more bytes, if it grows meanwhile)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in file_chunks(f, os.fstat(f.fileno()).st_size, _HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _parse(data: bytes) -> StoredFile:
    """A file record, every field checked (``CorruptRecord`` says which is wrong)."""
    record = decode(data)
    if record.get("v") != FILE_VERSION or record.get("type") != RECORD:
        raise CorruptRecord(f"it is not a file record of version {FILE_VERSION}")
    try:
        name = check_file_name(record.get("name"))
    except InvalidKey:
        raise CorruptRecord(f"its name {shown(record.get('name'))} is not a file name") from None
    blob, size, md5, stamp = (record.get(field) for field in ("blob", "size", "md5", "time"))
    if not isinstance(blob, str) or not KEY_PATTERN.fullmatch(blob):
        raise CorruptRecord(f"its blob {shown(blob)} is not a store key")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_COUNT:
        raise CorruptRecord(f"its size {shown(size)} is not a number of bytes")
    if not isinstance(md5, str) or not MD5.fullmatch(md5):
        raise CorruptRecord(f"its md5 {shown(md5)} is not 32 hexadecimal digits")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not 0 <= stamp <= MAX_TIME:
        raise CorruptRecord(f"its time {shown(stamp)} is not a plausible time")
    return StoredFile(key="", name=name, blob=blob, size=size, md5=md5, time=float(stamp))


class _Records:
    """Immutable ``file`` records, read once per process and store (those still listed are kept)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], StoredFile] = {}

    def versions(self, store: Store) -> list[StoredFile]:
        """Every readable version, oldest first; a record that cannot be read is skipped and noted."""
        found = []
        listed = store.list(RECORD)
        for entry in listed:
            try:
                found.append(self.get(store, entry.key))
            except NotFound:
                continue  # removed meanwhile
            except CorruptRecord as exc:
                store.bad.note(entry.key, "pushed file record", str(exc))
        keep = {(store.url, entry.key) for entry in listed}
        for cached in [cached for cached in self._cache if cached[0] == store.url and cached not in keep]:
            self._cache.pop(cached, None)
        return sorted(found, key=lambda f: (f.time, f.key))

    def get(self, store: Store, key: str) -> StoredFile:
        cached = self._cache.get((store.url, key))
        if cached is None:
            cached = self._cache[(store.url, key)] = replace(_parse(store.read(key)), key=key)
        return cached


_records = _Records()


def stored_files(store: Store) -> list[StoredFile]:
    """The newest version of every pushed file, by name."""
    newest = {f.name: f for f in _records.versions(store)}
    return [newest[name] for name in sorted(newest)]


def find(store: Store, name: str) -> StoredFile:
    """The newest version of ``name``; ``NotFound`` if it was never pushed."""
    check_file_name(name)
    versions = [f for f in _records.versions(store) if f.name == name]
    if not versions:
        raise NotFound(f"no pushed file named {name!r}")
    return versions[-1]


def push(store: Store, path: str | os.PathLike, name: str | None = None,
         progress: Progress | None = None) -> StoredFile:
    """Upload the local file ``path`` as ``name`` (default: its file name) and return its record."""
    path = Path(path)
    name = check_file_name(path.name if name is None else name)
    if not path.is_file():
        raise NotFound(f"no local file {path}")
    before = path.stat()
    local_md5 = md5_of(path)
    blob, key = store.new_keys(BLOB)[0], store.new_keys(RECORD)[0]
    stored_md5 = store.upload(blob, BLOB, path, progress)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        store.delete(blob)
        raise ChecksumMismatch(f"{path} changed while it was being pushed; push it again once it is complete")
    if stored_md5 != local_md5:
        store.delete(blob)
        raise ChecksumMismatch(f"{path} changed or was damaged on the way (MD5 {stored_md5} != {local_md5}); push it again")
    pushed = StoredFile(key, name, blob, before.st_size, local_md5, time.time())
    record = {"v": FILE_VERSION, "type": RECORD, **{k: v for k, v in asdict(pushed).items() if k != "key"}}
    store.create(key, RECORD, json.dumps(record).encode())
    for old in _records.versions(store):
        if old.name == name and old.key != key:
            store.delete(old.key)
            store.delete(old.blob)
    return pushed


def remove(store: Store, name: str) -> int:
    """Remove every version of the pushed file ``name`` (each record before its blob, so
    that no record names a missing blob); how many versions there were."""
    check_file_name(name)
    versions = [f for f in _records.versions(store) if f.name == name]
    for stored in versions:
        store.delete(stored.key)
        store.delete(stored.blob)
    return len(versions)


def remove_scratch(store: Store, job_key: str) -> int:
    """Remove every scratch file of job ``job_key`` (it has ended); how many versions there were."""
    prefix = f"jobs/{job_key}/scratch/"
    names = sorted({f.name for f in _records.versions(store) if f.name.startswith(prefix)})
    return sum(remove(store, name) for name in names)


def remove_orphan_blobs(store: Store, before: float) -> int:
    """Remove blobs that no file record names and that were last written before the
    Unix time ``before`` (left by a push that died midway); how many were removed."""
    blobs = store.list(BLOB)  # listed before the records: a blob pushed meanwhile is too young anyway
    named = set()
    for entry in store.list(RECORD):
        try:
            named.add(_blob_named_by(store, entry.key))
        except NotFound:
            continue
    removed = 0
    for entry in blobs:
        if entry.key in named:
            continue
        try:
            written = store.modified(entry.key)
        except NotFound:
            continue
        except CorruptRecord as exc:  # its age cannot be told: kept
            store.bad.note(entry.key, "blob", str(exc))
            continue
        if written is not None and written < before:
            store.delete(entry.key)
            removed += 1
    return removed


def _blob_named_by(store: Store, key: str) -> str | None:
    """The blob record ``key`` names; read leniently, so that a record this program
    cannot interpret (a newer version's) still keeps its blob."""
    try:
        return _records.get(store, key).blob
    except CorruptRecord:
        try:
            blob = decode(store.read(key)).get("blob")
        except CorruptRecord:
            return None
        return blob if isinstance(blob, str) else None


def pull(store: Store, name: str, path: str | os.PathLike | None = None,
         progress: Progress | None = None) -> tuple[StoredFile, Path]:
    """Download the newest version of ``name`` to ``path`` (default: its last part, here)."""
    last_part = check_file_name(name).rsplit("/", 1)[-1]
    target = Path(path) if path is not None else Path(last_part)
    if target.is_dir():
        target = target / last_part
    stored = find(store, name)
    try:
        _fetch(store, stored, target, progress)
    except NotFound:  # a newer push removed this version while it was read: take the newer one
        stored = find(store, name)
        _fetch(store, stored, target, progress)
    return stored, target


def _fetch(store: Store, stored: StoredFile, target: Path, progress: Progress | None) -> None:
    partial = target.with_name(f".{target.name}.part-{os.getpid()}")
    try:
        store.download(stored.blob, partial, progress)
        if md5_of(partial) != stored.md5:
            raise ChecksumMismatch(f"{stored.name} arrived damaged (its MD5 differs from the pushed file); pull it again")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
