"""``RedisStore``: the queue in a Redis database, through redis-py.

Open it with ``redis://[:PASSWORD@]HOST:PORT[/DB][?queue=NAME]`` or
``rediss://...`` (TLS). ``queue=NAME`` keeps several queues apart in one
database (default ``main``); every other query parameter is redis-py's, such as
``ssl_cert_reqs=none`` for a server whose certificate is self-signed (Heroku's
Key-Value Store; ``DRIVEQUEUE_REDIS_SSL_CERT_REQS=none`` says the same for a URL
that is used as Heroku sets it).

How the ``Store`` operations map onto Redis (all keys start with
``drivequeue:NAME:``):

* a file is a hash ``m:<key>`` (its name, the tag of the create that made it,
  when it was last written by the server's clock, its MD5 for uploads) and a
  list ``d:<key>`` of chunks whose concatenation is its content; the index hash
  ``index`` maps every key to its name for listings;
* ``create``, ``write``, ``delete`` and ``create_pair`` (a claim with its output) are
  Lua scripts, so each is one atomic step: of concurrent creates of one key exactly one finds it absent, and a
  create retried after a lost answer recognises its own random tag;
* each of those scripts also publishes ``<create|write|delete> <name> <key>`` on
  the channel ``changes``, and ``wait`` listens there: an idle worker wakes
  within milliseconds of a submit and makes no calls while nothing happens.
  Heartbeat rewrites (files called ``worker``) wake nobody;
* ``upload`` sends a file in chunks of ``CHUNK_SIZE`` to a temporary list that
  the create script renames into place, so a reader sees the whole file or none.
  Files above ``MAX_FILE_BYTES`` are refused: Redis holds everything in memory,
  and big data sets belong on Google Drive.

Nothing acknowledged is lost only if the server logs every write before it
answers: ``appendonly yes`` with ``appendfsync always``. At start the store
reads ``INFO persistence`` (and ``CONFIG GET appendfsync`` where the server
allows it; it never changes the server's settings) and logs a warning when a
crash of the server could lose acknowledged writes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis import exceptions as redis_errors

from .env import Env
from .errors import (
    BadStoreURL,
    ChecksumMismatch,
    ConfigError,
    FileTooBig,
    KeyExists,
    NotFound,
    StoreUnavailable,
    UnreadableFile,
)
from .store import (KEY_PATTERN, MAX_READ_BYTES, NAME_PATTERN, Entry, Store, as_bytes, check_key, check_name,
                     check_reserved, check_size, file_chunks, random_keys)
from .timing import Timing

log = logging.getLogger(__name__)

#: content is stored and sent in pieces of this size (a Redis string may hold 512 MB)
CHUNK_SIZE = 4 * 1024 * 1024
#: the biggest file the store takes: Redis keeps everything in memory
MAX_FILE_BYTES = 256 * 1024 * 1024
#: an upload's chunks wait under a temporary name at most this long
UPLOAD_TTL_S = 3600
DEFAULT_QUEUE = "main"
#: how long one call may wait for the server before it counts as unavailable
SOCKET_TIMEOUT_S = 10.0
#: files rewritten every few seconds by every worker; their rewrites wake no waiter
QUIET_NAMES = frozenset({"worker"})
#: messages consumed at most per wake (the rest wake the next wait at once)
DRAIN_AT_ONCE = 1000

Progress = Callable[[int], None]

# What every create does. A key that exists: its tag (a retried create recognises its own).
# The bookkeeping of a new file: its meta hash, the index, its number in the set of creates,
# and the change message.
_CREATED = """
local function existing(meta)
  if redis.call('TYPE', meta)['ok'] ~= 'hash' then return '' end
  return redis.call('HGET', meta, 'tag') or ''
end
local function record(meta, key, name, tag, md5, mtime, index, channel, sequence, created)
  redis.call('HSET', meta, 'name', name, 'tag', tag, 'md5', md5, 'mtime', mtime)
  redis.call('HSET', index, key, name)
  redis.call('ZADD', created, redis.call('INCR', sequence), key)
  redis.call('PUBLISH', channel, 'create ' .. name .. ' ' .. key)
end
local now = redis.call('TIME')
local mtime = now[1] .. '.' .. string.format('%06d', now[2])
"""

# KEYS: meta, data, index, channel, sequence, created, [upload list]; ARGV: key, name, tag, md5, chunks...
_CREATE = _CREATED + """
if redis.call('EXISTS', KEYS[1]) == 1 then return existing(KEYS[1]) end
if KEYS[7] then
  if redis.call('EXISTS', KEYS[7]) == 0 then return redis.error_reply('UPLOADGONE') end
  redis.call('RENAME', KEYS[7], KEYS[2])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('DEL', KEYS[2])
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 5))
end
record(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], mtime, KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return false
"""

# Two small files in one step, the second only if it is absent (a claim and its output).
# KEYS: meta 1, data 1, meta 2, data 2, index, channel, sequence, created;
# ARGV: key 1, name 1, key 2, name 2, tag, chunk count of 1, chunks of 1..., chunks of 2...
_CREATE_PAIR = _CREATED + """
if redis.call('EXISTS', KEYS[3]) == 1 then return existing(KEYS[3]) end
local first = 7 + tonumber(ARGV[6])
for i, range in ipairs({{7, first - 1}, {first, #ARGV}}) do
  local data = KEYS[2 * i]
  redis.call('DEL', data)
  redis.call('RPUSH', data, unpack(ARGV, range[1], range[2]))
  record(KEYS[2 * i - 1], ARGV[2 * i - 1], ARGV[2 * i], ARGV[5], '', mtime, KEYS[5], KEYS[6], KEYS[7], KEYS[8])
end
return false
"""

# KEYS: meta, data, channel; ARGV: key, chunks...
_WRITE = """
local name = redis.call('HGET', KEYS[1], 'name')
if not name then return 0 end
local now = redis.call('TIME')
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
redis.call('HSET', KEYS[1], 'md5', '', 'mtime', now[1] .. '.' .. string.format('%06d', now[2]))
redis.call('PUBLISH', KEYS[3], 'write ' .. name .. ' ' .. ARGV[1])
return 1
"""

# KEYS: meta, data, index, channel, created; ARGV: key. Whatever the keys hold: junk is removed too.
_DELETE = """
local name = redis.call('HGET', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 and not name then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('PUBLISH', KEYS[4], 'delete ' .. (name or '') .. ' ' .. ARGV[1])
return 1
"""

# KEYS: meta, data; ARGV: limit (-1: none), most pieces a file within it can have.
# The size is summed here, on the server, over one piece more than that at most:
# a file over the limit never travels, a list of a million pieces is not walked.
_READ = """
local meta = redis.call('TYPE', KEYS[1])['ok']
if meta == 'none' then return false end
local data = redis.call('TYPE', KEYS[2])['ok']
if meta ~= 'hash' or (data ~= 'list' and data ~= 'none') then return {'type', meta, data} end
local limit = tonumber(ARGV[1])
local most = tonumber(ARGV[2])
local pieces = redis.call('LLEN', KEYS[2])
local chunks = redis.call('LRANGE', KEYS[2], 0, limit >= 0 and most or -1)
local size = 0
for _, chunk in ipairs(chunks) do size = size + #chunk end
if limit >= 0 and size > limit then return {'size', size, pieces - #chunks} end
if limit >= 0 and pieces > #chunks then return {'pieces', pieces} end
return {'ok', chunks}
"""


def split_redis_url(url: str) -> tuple[str, str]:
    """``(redis-py URL, queue name)``: the ``queue`` parameter is this store's, the rest redis-py's."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise BadStoreURL("a Redis queue URL looks like redis://HOST:PORT/DB or rediss://... (TLS)")
    params = parse_qsl(parts.query, keep_blank_values=True)
    names = [value for key, value in params if key == "queue"]
    queue = names[-1] if names else DEFAULT_QUEUE
    if not NAME_PATTERN.fullmatch(queue):
        raise BadStoreURL("the queue=NAME of a Redis URL is lowercase letters, digits and _")
    rest = urlencode([(k, v) for k, v in params if k != "queue"])
    return urlunsplit(parts._replace(query=rest)), queue


def open_redis_store(url: str, environ: dict[str, str] | None = None) -> RedisStore:
    """Open the store a ``redis://`` or ``rediss://`` URL names.

    ``DRIVEQUEUE_REDIS_SSL_CERT_REQS`` (``none``, ``optional``, ``required``) applies to a
    ``rediss://`` URL that names no ``ssl_cert_reqs`` itself, so that Heroku's ``REDIS_URL``
    can be used as it is set (and as it is rotated).
    """
    client_url, queue = split_redis_url(url)
    cert_reqs = Env(environ).text("DRIVEQUEUE_REDIS_SSL_CERT_REQS", "").lower()
    if cert_reqs and client_url.startswith("rediss://") and "ssl_cert_reqs=" not in client_url:
        if cert_reqs not in ("none", "optional", "required"):
            raise ConfigError("DRIVEQUEUE_REDIS_SSL_CERT_REQS is none, optional or required")
        client_url += ("&" if urlsplit(client_url).query else "?") + f"ssl_cert_reqs={cert_reqs}"
    try:
        client = redis.Redis.from_url(client_url, socket_timeout=SOCKET_TIMEOUT_S,
                                      socket_connect_timeout=SOCKET_TIMEOUT_S)
    except ValueError as exc:
        raise BadStoreURL(f"cannot use this Redis URL: {exc}") from None
    return RedisStore(client, queue, url)


def _unavailable(exc: Exception) -> StoreUnavailable:
    if isinstance(exc, redis_errors.AuthenticationError) or "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
        return StoreUnavailable(
            "Redis refused the password: if the server's URL was rotated (Heroku does that), "
            "set the new REDIS_URL or DRIVEQUEUE_URL here"
        )
    return StoreUnavailable(f"cannot reach Redis ({type(exc).__name__}: {exc})")


#: what redis-py raises when the server cannot serve a call (down, loading, read-only, refused)
_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ResponseError)


class RedisStore(Store):
    """The queue ``queue`` in the Redis database that ``client`` talks to."""

    #: calls cost well under a millisecond and changes are pushed: leases can be short
    default_timing = Timing(lease=6.0, heartbeat=1.0, poll=10.0, check=0.5, backoff_max=10.0, read=0.1)
    pushes_changes = True

    def __init__(self, client: redis.Redis, queue: str, url: str):
        self.client = client
        self.queue = queue
        self.url = url
        self._prefix = f"drivequeue:{queue}:"
        self._index = self._prefix + "index"
        self._channel = self._prefix + "changes"
        self._sequence = self._prefix + "sequence"
        self._created_set = self._prefix + "created"
        self._create = client.register_script(_CREATE)
        self._create_pair = client.register_script(_CREATE_PAIR)
        self._write = client.register_script(_WRITE)
        self._delete = client.register_script(_DELETE)
        self._read = client.register_script(_READ)
        self._pubsub: redis.client.PubSub | None = None
        self._pubsub_lock = threading.Lock()
        warning = self.durability_warning()
        if warning:
            log.warning("%s", warning)

    def __repr__(self) -> str:
        return f"RedisStore(queue={self.queue!r})"

    # -- durability ---------------------------------------------------------------------

    def durability_warning(self) -> str | None:
        """Why a crash of the server could lose acknowledged writes, or None if it cannot."""
        try:
            info = self.client.info("persistence")
        except _DOWN as exc:
            return f"cannot read the Redis server's persistence settings ({_unavailable(exc)})"
        if not info.get("aof_enabled"):
            return ("the Redis server keeps no append-only file: a crash of the server loses every job "
                    "and line written since its last snapshot (run it with appendonly yes, appendfsync always)")
        try:
            policy = self.client.config_get("appendfsync").get("appendfsync")
        except _DOWN:
            return None  # a managed server may refuse CONFIG; the append-only file is on
        if policy != "always":
            return (f"the Redis server syncs its append-only file {policy!r}, not 'always': a crash of "
                    "the server can lose about a second of acknowledged writes")
        return None

    # -- single files -------------------------------------------------------------------

    def new_keys(self, name: str, n: int = 1) -> list[str]:
        return random_keys(name, n)

    def create(self, key: str, name: str, data: bytes) -> None:
        check_reserved(key, name)
        chunks = _chunks(_bytes(data))
        self._created(key, name, chunks=chunks)

    def create_pair(self, first: tuple[str, str, bytes], second: tuple[str, str, bytes]) -> None:
        """One script creates both, or neither when ``second`` exists: one round trip, one write."""
        for key, name, _ in (first, second):
            check_reserved(key, name)
        chunks = [_chunks(_bytes(data)) for _, _, data in (first, second)]
        tag = secrets.token_hex(8)
        keys = [self._meta(first[0]), self._data(first[0]), self._meta(second[0]), self._data(second[0]),
                self._index, self._channel, self._sequence, self._created_set]
        existing = self._call(self._create_pair, keys=keys,
                              args=[first[0], first[1], second[0], second[1], tag, len(chunks[0]),
                                    *chunks[0], *chunks[1]])
        if existing is not None and existing.decode() != tag:  # a tag of our own: our earlier try won
            raise KeyExists(second[0])

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        check_key(key)
        found = self._call(self._read, keys=[self._meta(key), self._data(key)], args=self._read_args(limit))
        return self._content(key, found, limit)

    def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        """Every read in one pipeline: one round trip."""
        for key in keys:
            check_key(key)
        args = self._read_args(MAX_READ_BYTES)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    self._read(keys=[self._meta(key), self._data(key)], args=args, client=pipe)
                answers = pipe.execute(raise_on_error=False)
        except _DOWN as exc:
            raise _unavailable(exc) from None
        found: dict[str, bytes | None] = {}
        for key, answer in zip(keys, answers):
            if isinstance(answer, Exception):
                raise _unavailable(answer)
            try:
                found[key] = self._content(key, answer, MAX_READ_BYTES)
            except NotFound:
                found[key] = None
            except UnreadableFile:
                continue  # a read of it alone says why
        return found

    @staticmethod
    def _read_args(limit: int | None) -> list[int]:
        pieces = max(1, -(-limit // CHUNK_SIZE)) if limit is not None else -1
        return [-1 if limit is None else limit, pieces]

    def _content(self, key: str, found, limit: int | None) -> bytes:
        """What the read script answered for ``key``, as ``read`` returns it."""
        if not found:
            raise NotFound(f"no file {key}")
        answer = found[0].decode()
        if answer == "type":
            raise UnreadableFile(f"its Redis keys hold a {found[1].decode()} and a {found[2].decode()}, "
                                 "not a hash and a list")
        if answer == "size" and found[2]:
            raise UnreadableFile(f"it holds more than the {limit:,} bytes a read of it takes")
        if answer == "size":
            check_size(found[1], limit)
        if answer == "pieces":
            raise UnreadableFile(f"it is stored in {found[1]:,} pieces, more than this store makes of a file "
                                 "a read takes")
        return b"".join(found[1])

    def write(self, key: str, data: bytes) -> None:
        check_key(key)
        chunks = _chunks(_bytes(data))
        written = self._call(self._write, keys=[self._meta(key), self._data(key), self._channel],
                             args=[key, *chunks])
        if not written:
            raise NotFound(f"no file {key}")

    def delete(self, key: str) -> None:
        check_key(key)
        self._call(self._delete, keys=[self._meta(key), self._data(key), self._index, self._channel,
                                       self._created_set], args=[key])

    def exists(self, key: str) -> bool:
        check_key(key)
        return bool(self._call(self.client.exists, self._meta(key)))

    def modified(self, key: str) -> float:
        check_key(key)
        stamp = self._call(self.client.hget, self._meta(key), "mtime")
        if stamp is None:
            raise NotFound(f"no file {key}")
        try:
            written = float(stamp)
        except ValueError:
            written = math.nan
        if not math.isfinite(written):
            raise UnreadableFile(f"its time of last change, {stamp[:40]!r}, is not a number")
        return written

    def now(self) -> float:
        """The Redis server's clock (``TIME``), the one every file's time of change is stamped by."""
        seconds, micros = self._call(self.client.time)
        return seconds + micros / 1e6

    def list(self, name: str | None = None) -> list[Entry]:
        if name is not None:
            check_name(name)
        entries = self._entries(self._call(self.client.hgetall, self._index).items())
        return [entry for entry in entries if name is None or entry.name == name]

    def _entries(self, fields: Iterable[tuple[bytes, bytes]]) -> list[Entry]:
        """The entries that index fields (key, name) name; those that name no file are noted."""
        return [entry for entry in (self._index_entry(*field) for field in fields) if entry is not None]

    def _index_entry(self, raw_key: bytes, raw_name: bytes) -> Entry | None:
        """The entry an index field names; None (and a note) if it names no file of the queue."""
        try:
            key, file_name = raw_key.decode(), raw_name.decode()
        except UnicodeDecodeError:
            self.bad.note(repr(raw_key[:60]), "index entry", "it is not UTF-8 text")
            return None
        if not KEY_PATTERN.fullmatch(key) or not NAME_PATTERN.fullmatch(file_name):
            self.bad.note(repr(key[:60]), "index entry", f"it is not a key and a file name ({file_name[:40]!r})")
            return None
        return Entry(key, file_name)

    def created_since(self, cursor: object | None) -> tuple[list[Entry], int] | None:
        """From cursor None: every file (the index) and the create counter, read in one transaction;
        then only the keys whose create came later (the names are part of the keys). None (list
        instead) if the queue's own counter or create log hold something else than they should."""
        try:
            if cursor is None:
                with self.client.pipeline(transaction=True) as pipe:
                    pipe.hgetall(self._index)
                    pipe.get(self._sequence)
                    index, sequence = pipe.execute()
                return self._entries(index.items()), int(sequence or 0)
            rows = self.client.zrangebyscore(self._created_set, f"({int(cursor)}", "+inf", withscores=True)
        except (redis_errors.ResponseError, ValueError) as exc:
            self.bad.note(self._sequence, "create counter", f"it cannot be read as the queue's ({exc})")
            return None
        except _DOWN as exc:
            raise _unavailable(exc) from None
        entries = self._entries((key, key.partition(b"-")[0]) for key, _ in rows)
        return entries, int(rows[-1][1]) if rows else int(cursor)

    # -- big files ----------------------------------------------------------------------

    def upload(self, key: str, name: str, path: str | os.PathLike, progress: Progress | None = None) -> str:
        """Create ``key`` from a local file sent in chunks; returns its MD5 (``FileTooBig`` past the limit)."""
        check_reserved(key, name)
        tag = secrets.token_hex(8)
        staging = f"{self._prefix}u:{tag}"
        digest = hashlib.md5()
        try:
            with open(path, "rb") as source:
                size = os.fstat(source.fileno()).st_size
                if size > MAX_FILE_BYTES:
                    raise FileTooBig(f"{Path(path).name} is {size / 2**20:.0f} MiB; a Redis queue takes files up "
                                     f"to {MAX_FILE_BYTES // 2**20} MiB (keep bigger ones on Google Drive)")
                for chunk in file_chunks(source, size, CHUNK_SIZE) if size else [b""]:  # empty: one empty chunk
                    digest.update(chunk)
                    with self.client.pipeline(transaction=True) as pipe:
                        pipe.rpush(staging, chunk)
                        pipe.expire(staging, UPLOAD_TTL_S)
                        pipe.execute()
                    if progress is not None and chunk:
                        progress(len(chunk))
        except _DOWN as exc:
            raise _unavailable(exc) from None
        self._created(key, name, tag=tag, md5=digest.hexdigest(), staging=staging)
        return digest.hexdigest()

    def download(self, key: str, path: str | os.PathLike, progress: Progress | None = None) -> None:
        """Write ``key`` to ``path`` one chunk at a time, checking the MD5 an upload recorded."""
        check_key(key)
        data_key = self._data(key)
        digest = hashlib.md5()
        expected = self._call(self.client.hget, self._meta(key), "md5")
        if expected is None:
            raise NotFound(f"no file {key}")
        count = self._call(self.client.llen, data_key)
        with open(path, "wb") as out:
            for index in range(count):
                chunk = self._call(self.client.lindex, data_key, index)
                if chunk is None:
                    raise StoreUnavailable(f"{key} changed while it was being downloaded; try again")
                out.write(chunk)
                digest.update(chunk)
                if progress is not None:
                    progress(len(chunk))
        if expected and expected.decode() != digest.hexdigest():
            raise ChecksumMismatch(f"{key} arrived with a different MD5 than it was stored with; try again")

    # -- waiting ------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Wait for a change message on the queue's channel, at most ``timeout`` seconds.

        The subscription is made on the first call and kept, so changes between
        two calls are not missed; after it is made (again, after an outage) the
        first call returns True at once, since changes may have been missed.
        """
        with self._pubsub_lock:
            try:
                if self._pubsub is None:
                    pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(self._channel)
                    self._pubsub = pubsub
                    return True
                return self._changed(self._pubsub, timeout)
            except _DOWN as exc:
                self._close_pubsub()
                raise _unavailable(exc) from None

    def close(self) -> None:
        with self._pubsub_lock:
            self._close_pubsub()
        self.client.close()

    # -- helpers ------------------------------------------------------------------------

    def _changed(self, pubsub, timeout: float) -> bool:
        """Whether a message other than a heartbeat's comes within ``timeout``; drains what waits."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is None:
                if time.monotonic() >= deadline:
                    return False
                continue  # a subscription notice, not a change
            operation, _, rest = bytes(message.get("data") or b"").decode(errors="replace").partition(" ")
            if operation != "write" or rest.partition(" ")[0] not in QUIET_NAMES:
                for _ in range(DRAIN_AT_ONCE):  # one wake for a burst of changes
                    if pubsub.get_message(timeout=0.0) is None:
                        break
                return True

    def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except _DOWN:
                pass
            self._pubsub = None

    def _created(self, key: str, name: str, chunks: list[bytes] | None = None, tag: str | None = None,
                 md5: str = "", staging: str | None = None) -> None:
        tag = tag or secrets.token_hex(8)
        keys = [self._meta(key), self._data(key), self._index, self._channel, self._sequence, self._created_set]
        if staging is not None:
            keys.append(staging)
        try:
            existing = self._call(self._create, keys=keys, args=[key, name, tag, md5, *(chunks or [])])
        except StoreUnavailable:
            if staging is not None:
                self._drop_quietly(staging)
            raise
        if existing is not None and existing.decode() != tag:  # a tag of our own: our earlier try won
            if staging is not None:
                self._drop_quietly(staging)
            raise KeyExists(key)

    def _drop_quietly(self, key: str) -> None:
        try:
            self.client.delete(key)
        except _DOWN:
            pass  # it expires by itself

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except redis_errors.ResponseError as exc:
            if "UPLOADGONE" in str(exc):
                raise StoreUnavailable("the upload's chunks expired before it finished; try again") from None
            if "WRONGTYPE" in str(exc):  # one file's keys hold something else: that file only is bad
                raise UnreadableFile("a Redis key of it holds another type than a file's") from None
            raise _unavailable(exc) from None
        except _DOWN as exc:
            raise _unavailable(exc) from None

    def _meta(self, key: str) -> str:
        return f"{self._prefix}m:{key}"

    def _data(self, key: str) -> str:
        return f"{self._prefix}d:{key}"


def _bytes(data) -> bytes:
    """``data`` as bytes, if a Redis queue takes a file that big."""
    data = as_bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise FileTooBig(f"a Redis queue takes files up to {MAX_FILE_BYTES // 2**20} MiB")
    return data


def _chunks(data: bytes) -> list[bytes]:
    """``data`` in pieces of ``CHUNK_SIZE`` (one empty piece for empty data)."""
    return [data[i:i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
