"""The storage interface the queue runs on: a flat folder of files addressed by key.

A store offers only what both a local folder and a Google Drive folder can do
reliably (no append, no rename, no locks, no compare-and-swap):

* keys are handed out up front by ``new_keys`` (random names on a folder,
  ``files.generateIds`` on Drive), and ``create`` on such a key succeeds once;
* files are read and overwritten whole, by key; a reader never sees half a file;
* ``list`` is for discovery only and may lag behind writes (Drive's name
  listings do), so anything that must be found reliably is reached by key.

Every file also has a *name* (``job``, ``claim``, ``worker``...) so that a
listing can be filtered by what the files hold. Keys and names use only
``[A-Za-z0-9_-]``; anything else is rejected with ``InvalidKey`` before it
touches the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .bad_items import BadItems
from .errors import InvalidKey, KeyExists, NotFound, UnreadableFile
from .timing import Timing

#: what a read takes unless told otherwise: more than any record of the protocol
MAX_READ_BYTES = 8 * 1024 * 1024

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,30}")


def check_key(key: object) -> str:
    """Return ``key`` if it is a well-formed store key, else raise ``InvalidKey``."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidKey("malformed key")
    return key


def check_name(name: object) -> str:
    """Return ``name`` if it is a well-formed file name, else raise ``InvalidKey``."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidKey("malformed file name")
    return name


def random_keys(name: str, n: int) -> list[str]:
    """``n`` keys ``<name>-<random>`` (a folder, Redis, memory: the keys ``check_reserved`` accepts)."""
    check_name(name)
    return [f"{name}-{secrets.token_urlsafe(16)}" for _ in range(n)]


def check_reserved(key: object, name: object) -> str:
    """Return ``key`` if ``new_keys(name)`` could have handed it out on a store whose keys are
    ``<name>-<random>`` (a folder, Redis, memory), else raise ``InvalidKey``."""
    check_key(key)
    check_name(name)
    prefix, _, rest = key.partition("-")
    if prefix != name or not rest:
        raise InvalidKey(f"key was not reserved for a {name!r} file")
    return key


def as_bytes(data: object) -> bytes:
    """``data`` as ``bytes`` (a bytearray or memoryview copied); ``TypeError`` for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("store data must be bytes")
    return bytes(data)


def file_chunks(source: BinaryIO, size: int, chunk_size: int) -> Iterator[bytes]:
    """The first ``size`` bytes of the open file ``source`` in pieces of ``chunk_size``: what it held
    when it was opened, however fast it grows since (an upload must end; the caller sees the growth)."""
    left = size
    while left > 0:
        chunk = source.read(min(chunk_size, left))
        if not chunk:
            return  # it shrank
        left -= len(chunk)
        yield chunk


def check_size(size: int, limit: int | None) -> None:
    """``UnreadableFile`` if a file of ``size`` bytes is more than a read with ``limit`` takes."""
    if limit is not None and size > limit:
        raise UnreadableFile(f"it holds {size:,} bytes, more than the {limit:,} a read of it takes")


@dataclass(frozen=True)
class Entry:
    """One file seen in a listing."""

    key: str
    name: str


class Store(ABC):
    """A folder of whole files, addressed by keys the store hands out.

    Errors: ``NotFound`` for a missing key, ``KeyExists`` when ``create`` meets
    an existing key, ``InvalidKey`` for a malformed key or name,
    ``StoreUnavailable`` when the backend cannot be reached (callers back off
    and retry).
    """

    #: the URL this store was opened from (``file:///...``, ``drive://id:...``, ``redis://...``)
    url: str
    #: the intervals that suit this store (``drivequeue.timing.Timing``), which each store class sets
    default_timing: Timing
    #: whether ``wait`` returns as soon as something changes (inotify, Redis messages); a store
    #: that cannot tell is looked at every ``poll`` instead
    pushes_changes: bool = False
    #: whether ``list`` costs less than reading the files it shows absent (Drive: one call to
    #: its changes feed, where every read is a request): a reader then lists to learn what exists
    lists_cheaply: bool = False

    @abstractmethod
    def new_keys(self, name: str, n: int = 1) -> list[str]:
        """Reserve ``n`` fresh keys for files that will be called ``name``.

        A reserved key does not exist until ``create`` is called with it.
        """

    @abstractmethod
    def create(self, key: str, name: str, data: bytes) -> None:
        """Create the file ``key`` holding ``data``; ``KeyExists`` if it exists.

        Of several concurrent creates of one key, exactly one succeeds, and
        retrying a create that may have succeeded is safe: it either succeeds or
        raises ``KeyExists``.
        """

    def create_pair(self, first: tuple[str, str, bytes], second: tuple[str, str, bytes]) -> None:
        """Create ``first`` and then ``second`` (each ``(key, name, data)``, keys fresh from
        ``new_keys``), so that ``second`` never exists without ``first``: a claim and its output.

        ``KeyExists`` if ``second`` exists already; ``first`` is then not left behind. Both are
        durable once this returns. This default is two ``create`` calls; a store may do it in
        one step (Redis) or make both durable with one sync (a local folder).
        """
        self.create(*first)
        try:
            self.create(*second)
        except KeyExists:
            self.delete(first[0])
            raise

    @abstractmethod
    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        """Return the whole content of ``key``; ``NotFound`` if it does not exist.

        ``UnreadableFile`` if what is there is not a file (a folder, a Redis key of another
        type...) or holds more than ``limit`` bytes: the size is found out first, so such a
        file costs nothing to refuse (``None``: no limit, for the contents of pushed files).
        """

    @abstractmethod
    def write(self, key: str, data: bytes) -> None:
        """Replace the content of the existing file ``key`` atomically.

        ``NotFound`` if it does not exist. The last writer wins.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error."""

    @abstractmethod
    def list(self, name: str | None = None) -> list[Entry]:
        """Files in the folder, only those called ``name`` if given.

        For discovery only: a listing may miss recent creates or still show
        recent deletes.
        """

    def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        """What ``read`` gives for each of ``keys``: its content, or None for a file that does not
        exist; a file ``read`` would refuse is left out (reading it alone says why). A store may
        ask for all of them at once (Redis: one round trip); this default reads one by one."""
        found: dict[str, bytes | None] = {}
        for key in keys:
            try:
                found[key] = self.read(key)
            except NotFound:
                found[key] = None
            except (UnreadableFile, InvalidKey):
                continue
        return found

    def created_since(self, cursor: object | None) -> tuple[list[Entry], object] | None:
        """Files created since ``cursor`` (None: every file) and the cursor for the next call,
        for a store that can tell without listing everything; None from a store that cannot
        (``list`` instead). Files created by programs older than this method may be missed
        until a listing from cursor None; a file removed since may still be reported."""
        return None

    @property
    def bad(self) -> BadItems:
        """The items of this store that this process found it cannot use (``drivequeue.bad_items``)."""
        notes = self.__dict__.get("_bad_items")
        if notes is None:
            notes = self.__dict__.setdefault("_bad_items", BadItems())
        return notes

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists (a read that only asks)."""
        try:
            self.read(key, limit=0)
        except NotFound:
            return False
        except UnreadableFile:
            return True
        return True

    def modified(self, key: str) -> float | None:
        """When ``key`` was last written, as a Unix time by the store's clock (for
        retention); ``NotFound`` if it does not exist. This default cannot tell: None."""
        return None

    def now(self) -> float | None:
        """The store's clock now, the one ``modified`` answers by: an age is ``now() - modified(key)``,
        whatever the clock of the machine asking. This default cannot tell: None."""
        return None

    def upload(self, key: str, name: str, path: str | os.PathLike[str],
               progress: Callable[[int], None] | None = None) -> str:
        """Create ``key`` from the local file ``path``, like ``create`` (``KeyExists`` if it exists).

        Stores that can stream (Drive) send big files in resumable chunks;
        ``progress`` is called with each number of bytes sent. Returns the MD5
        hex digest of what was stored (the backend's own where it keeps one), for
        the caller to compare with the file it meant to send. This default reads
        the whole file into memory.
        """
        data = Path(path).read_bytes()
        self.create(key, name, data)
        if progress is not None:
            progress(len(data))
        return hashlib.md5(data).hexdigest()

    def download(self, key: str, path: str | os.PathLike[str],
                 progress: Callable[[int], None] | None = None) -> None:
        """Write the content of ``key`` to the local file ``path``; ``NotFound`` if it does not exist.

        ``progress`` is called with each number of bytes received. This default
        holds the whole content in memory.
        """
        data = self.read(key, limit=None)
        Path(path).write_bytes(data)
        if progress is not None:
            progress(len(data))

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; a store that can see changes returns early.

        Returns True when something in the folder may have changed, False when
        the time simply ran out. This default only sleeps.
        """
        time.sleep(max(0.0, timeout))
        return False

    def follow_changes(self, period: float) -> None:
        """Let this handle's reads be up to ``period`` seconds old where that saves the
        backend work (Drive: files are fetched again only when its changes feed, followed
        once per period, reports them changed). For observers only; this default does nothing."""

    def close(self) -> None:
        """Release whatever the store holds open (nothing by default)."""
