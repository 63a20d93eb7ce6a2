"""``LocalStore``: the queue on a local folder (the demo, the tests, a GPU box you own).

A file ``<key>`` in the folder holds one record; a key is ``<name>-<random>``,
so the name of a file is part of its key and a listing needs no reads.
Writes go to a temporary file in ``.tmp/`` that is fsynced and then renamed
over the target (``os.replace``), or hard-linked to it for ``create`` (the
link fails if the key exists), so a reader sees the previous whole file or the
new whole file, never a mix. Keys are validated before any path is built, and
only regular files are opened (never through a link, never a FIFO or a
folder), so nothing outside the folder can be reached.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import InvalidKey, KeyExists, NotFound, StoreUnavailable, UnreadableFile
from .store import (MAX_READ_BYTES, Entry, Store, as_bytes, check_key, check_name, check_reserved, check_size,
                     file_chunks, random_keys)
from .timing import Timing

try:
    import inotify_simple
except ImportError:  # not Linux: waiting falls back to sleeping
    inotify_simple = None

QUIET_MASK = inotify_simple.flags.MOVED_TO if inotify_simple is not None else 0

log = logging.getLogger(__name__)

TMP_DIR = ".tmp"
#: pushed files are copied in pieces of this size
COPY_CHUNK = 4 * 1024 * 1024
#: temporary files older than this were left by a process that died mid-write
STALE_TMP_SECONDS = 3600.0
#: files rewritten every few seconds by every worker: their rewrites (a rename over the file) wake nobody
QUIET_NAMES = frozenset({"worker"})


def _name_of(key: str) -> str | None:
    name, sep, rest = key.partition("-")
    if not sep or not rest:
        return None
    try:
        return check_name(name)
    except InvalidKey:
        return None


class LocalStore(Store):
    """A store on the folder ``root`` (created if missing)."""

    #: every operation is a local system call, and changes are seen through inotify
    default_timing = Timing()
    pushes_changes = inotify_simple is not None

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).absolute()
        self.url = self.root.as_uri()
        self._tmp = self.root / TMP_DIR
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot use {self.root} as a queue folder: {exc.strerror}") from None
        self._inotify = None
        self._creates = None  # a CreateLog, once a reader asks what is new
        self._remove_stale_temporaries()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- the Store interface -------------------------------------------------

    def new_keys(self, name: str, n: int = 1) -> list[str]:
        return random_keys(name, n)

    def create(self, key: str, name: str, data: bytes) -> None:
        path = self._new_path(key, name)
        self._link(self._write_temporary([as_bytes(data)]), path, key)

    def create_pair(self, first: tuple[str, str, bytes], second: tuple[str, str, bytes]) -> None:
        """Both files are linked before one sync of the folder makes both names durable."""
        key, name, data = first
        self._link(self._write_temporary([as_bytes(data)]), self._new_path(key, name), key, sync=False)
        try:
            self.create(*second)
        except KeyExists:
            self.delete(key)
            raise

    def upload(self, key: str, name: str, path: str | os.PathLike[str],
               progress: Callable[[int], None] | None = None) -> str:
        """Create ``key`` from the local file ``path``, copied in chunks; the MD5 of what was written."""
        target = self._new_path(key, name)
        digest = hashlib.md5()
        with open(path, "rb") as source:
            chunks = file_chunks(source, os.fstat(source.fileno()).st_size, COPY_CHUNK)
            tmp = self._write_temporary(_hashed(chunks, digest, progress))
        self._link(tmp, target, key)
        return digest.hexdigest()

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        path = self._path(key)
        try:
            self._check_regular(key, os.lstat(path).st_mode)
            # not following a link, not waiting for a writer: what replaced the file since is refused
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise NotFound(f"no file {key}") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnreadableFile("it is a symbolic link, not a file") from None
            raise StoreUnavailable(f"cannot read {key}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            try:
                status = os.fstat(fd)
                self._check_regular(key, status.st_mode)
                check_size(status.st_size, limit)
                data = f.read() if limit is None else f.read(limit + 1)
            except OSError as exc:
                raise StoreUnavailable(f"cannot read {key}: {exc.strerror}") from None
        check_size(len(data), limit)  # it grew since (files are replaced whole; only by hand)
        return data

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if not path.exists():
            raise NotFound(f"no file {key}")
        tmp = self._write_temporary([as_bytes(data)])
        try:
            os.replace(tmp, path)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise StoreUnavailable(f"cannot write {key}: {exc.strerror}") from None
        self._sync_folder()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreUnavailable(f"cannot delete {key}: {exc.strerror}") from None

    def list(self, name: str | None = None) -> list[Entry]:
        if name is not None:
            check_name(name)
        entries = []
        try:
            with os.scandir(self.root) as it:
                for item in it:
                    file_name = _name_of(item.name)
                    if file_name is None or (name is not None and file_name != name):
                        continue
                    try:  # the type the folder listing gives costs no call; anything else is looked at
                        if not item.is_file(follow_symlinks=False) and not self._regular(
                                item.name, item.stat(follow_symlinks=False).st_mode):
                            continue
                    except FileNotFoundError:
                        continue  # removed since the folder was read
                    entries.append(Entry(item.name, file_name))
        except OSError as exc:
            raise StoreUnavailable(f"cannot list {self.root}: {exc.strerror}") from None
        return entries

    def exists(self, key: str) -> bool:
        """Whether anything is at ``key``: a folder, a FIFO or a link there cannot be read, but it
        is something, as on every store (a claim that finds one at its cancel key stops, as every
        reader sees the job cancelled)."""
        try:
            os.lstat(self._path(key))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreUnavailable(f"cannot look at {key}: {exc.strerror}") from None
        return True

    def now(self) -> float:
        """The folder's clock: the time of change its file system gives a file created now."""
        try:
            fd, path = tempfile.mkstemp(dir=self._tmp)
        except OSError as exc:
            raise StoreUnavailable(f"cannot read the clock of {self.root}: {exc.strerror}") from None
        try:
            return os.fstat(fd).st_mtime
        finally:
            os.close(fd)
            _unlink_quietly(path)

    def modified(self, key: str) -> float:
        try:
            return os.stat(self._path(key)).st_mtime
        except FileNotFoundError:
            raise NotFound(f"no file {key}") from None
        except OSError as exc:
            raise StoreUnavailable(f"cannot look at {key}: {exc.strerror}") from None

    def wait(self, timeout: float) -> bool:
        """Wait for a file to appear, change or vanish (inotify), at most ``timeout`` seconds.

        The watch is set up on the first call and kept, so changes made between
        two calls are not missed. Rewrites of heartbeat files (every worker's, every few
        seconds) wake nobody, as on Redis.
        """
        watcher = self._watcher()
        if watcher is None:
            return super().wait(timeout)
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            events = watcher.read(timeout=max(0, int((deadline - time.monotonic()) * 1000)))
            if any(not (event.mask & QUIET_MASK and _name_of(event.name) in QUIET_NAMES) for event in events):
                return True
            if time.monotonic() >= deadline:
                return False

    def created_since(self, cursor: object | None) -> tuple[list[Entry], int] | None:
        """From cursor None: every file, and a watch on new names begins (inotify); then the
        files created since, from that watch, or every file again if the watch lost some. None
        without inotify (list instead)."""
        if inotify_simple is None:
            return None
        if self._creates is None:
            from .local_creates import CreateLog  # needs inotify-simple, which only some installs have

            self._creates = CreateLog(self.root, _name_of)  # before the listing: nothing falls between
        told, position = self._creates.since(None if cursor is None else int(cursor))
        if told is None:
            return self.list(), position
        return [Entry(key, name) for key, name in told], position

    def close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        if self._creates is not None:
            self._creates.close()
            self._creates = None

    # -- helpers -----------------------------------------------------------------

    def _regular(self, key: str, mode: int) -> bool:
        """Whether ``mode`` is a regular file's; anything else (a folder, a FIFO, a socket,
        a link, a device) named like a queue file is skipped, and said so once."""
        if stat.S_ISREG(mode):
            return True
        self.bad.note(key, "skipped", f"it is {_kind_of(mode)}, not a regular file")
        return False

    def _check_regular(self, key: str, mode: int) -> None:
        if not self._regular(key, mode):
            raise UnreadableFile(f"it is {_kind_of(mode)}, not a regular file")

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _new_path(self, key: str, name: str) -> Path:
        """The path of the new file ``key`` called ``name`` (``InvalidKey`` unless reserved for it)."""
        return self.root / check_reserved(key, name)

    def _link(self, tmp: str, path: Path, key: str, sync: bool = True) -> None:
        """Make the written temporary file ``tmp`` the new file ``key`` (``KeyExists`` if it exists);
        ``sync``: make the new name durable now (else the next sync of the folder does)."""
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise KeyExists(key) from None
        except OSError as exc:
            raise StoreUnavailable(f"cannot create {key}: {exc.strerror}") from None
        finally:
            _unlink_quietly(tmp)
        if sync:
            self._sync_folder()

    def _write_temporary(self, chunks: Iterable[bytes]) -> str:
        """Write ``chunks`` to a new fsynced file in ``.tmp/`` and return its path."""
        tmp = os.path.join(self._tmp, secrets.token_hex(12))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write to {self.root}: {exc.strerror}") from None
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise StoreUnavailable(f"cannot write to {self.root}: {exc.strerror}") from None
        except BaseException:
            _unlink_quietly(tmp)
            raise
        finally:
            os.close(fd)
        return tmp

    def _sync_folder(self) -> None:
        """Make a rename or link durable (a crash of the machine must not undo it)."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # some filesystems cannot sync a folder
                raise StoreUnavailable(f"cannot sync {self.root}: {exc.strerror}") from None
        finally:
            os.close(fd)

    def _remove_stale_temporaries(self) -> None:
        try:
            cutoff = self.now() - STALE_TMP_SECONDS  # by the clock that stamped them, not this process's
        except StoreUnavailable:  # a folder this process cannot write to (an observer): none are its own
            return
        with os.scandir(self._tmp) as it:
            for item in it:
                try:
                    if item.stat().st_mtime < cutoff:
                        os.unlink(item.path)
                except OSError:
                    pass  # another process removed or is using it

    def _watcher(self):
        if inotify_simple is None:
            return None
        if self._inotify is None:
            flags = inotify_simple.flags
            watcher = inotify_simple.INotify()
            watcher.add_watch(
                self.root, flags.CREATE | flags.MOVED_TO | flags.DELETE | flags.CLOSE_WRITE
            )
            self._inotify = watcher
        return self._inotify


def _kind_of(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return kind
    return "something else"


def _hashed(chunks: Iterable[bytes], digest, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    """``chunks`` as they are, each added to ``digest`` and reported to ``progress``."""
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
        if progress is not None:
            progress(len(chunk))


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
