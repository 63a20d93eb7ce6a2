"""``MemoryStore``: the queue in the memory of one process (tests, and trying the API out).

``memory://NAME`` names a folder that exists in this process only; every handle
opened on the same name sees the same files, and its ``wait`` wakes at once when
a file is created, written or deleted through any of them. The folder lives as
long as some handle on it does. Nothing is shared with other processes, and
nothing survives the process. ``MemoryStore()`` opens a new folder with a fresh name.
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import BadStoreURL, KeyExists, NotFound
from .store import (KEY_PATTERN, MAX_READ_BYTES, Entry, Store, as_bytes, check_key, check_name, check_reserved,
                     check_size, random_keys)
from .timing import Timing


@dataclass
class _File:
    name: str
    data: bytes
    modified: float


class _Folder:
    """The files of one ``memory://`` name, and a count of the changes made to them."""

    def __init__(self) -> None:
        self.files: dict[str, _File] = {}
        self.changes = 0
        self.changed = threading.Condition()  # its lock guards both


_FOLDERS: weakref.WeakValueDictionary[str, _Folder] = weakref.WeakValueDictionary()
_FOLDERS_LOCK = threading.Lock()


class MemoryStore(Store):
    """A handle on the in-memory folder ``name`` (a new one when None)."""

    #: every operation is a dictionary lookup, and changes are seen at once
    default_timing = Timing()
    pushes_changes = True

    def __init__(self, name: str | None = None):
        if name is None:
            name = secrets.token_urlsafe(12)
        elif not isinstance(name, str) or not KEY_PATTERN.fullmatch(name):
            raise BadStoreURL("a memory:// store's name is 1 to 100 letters, digits, - and _")
        with _FOLDERS_LOCK:
            folder = _FOLDERS.get(name)
            if folder is None:
                folder = _FOLDERS[name] = _Folder()
        self._folder = folder
        self.url = f"memory://{name}"
        self._seen: int | None = None  # the change count at this handle's last wait

    def __repr__(self) -> str:
        return f"MemoryStore({self.url!r})"

    def new_keys(self, name: str, n: int = 1) -> list[str]:
        return random_keys(name, n)

    def create(self, key: str, name: str, data: bytes) -> None:
        check_reserved(key, name)
        data = as_bytes(data)
        with self._folder.changed:
            if key in self._folder.files:
                raise KeyExists(f"{key} exists")
            self._folder.files[key] = _File(name, data, time.time())
            self._changed()

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        data = self._file(key).data
        check_size(len(data), limit)
        return data

    def write(self, key: str, data: bytes) -> None:
        data = as_bytes(data)
        with self._folder.changed:
            file = self._file(key)
            file.data, file.modified = data, time.time()
            self._changed()

    def delete(self, key: str) -> None:
        check_key(key)
        with self._folder.changed:
            if self._folder.files.pop(key, None) is not None:
                self._changed()

    def list(self, name: str | None = None) -> list[Entry]:
        if name is not None:
            check_name(name)
        with self._folder.changed:
            return [Entry(key, file.name) for key, file in self._folder.files.items()
                    if name is None or file.name == name]

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._folder.changed:
            return key in self._folder.files

    def modified(self, key: str) -> float:
        return self._file(key).modified

    def now(self) -> float:
        return time.time()  # the one process that stamps every file

    def wait(self, timeout: float) -> bool:
        """Wait for a change made through any handle, at most ``timeout`` seconds. The first
        call starts watching; changes made between two calls are not missed."""
        folder = self._folder
        with folder.changed:
            if self._seen is None:
                self._seen = folder.changes
            changed = folder.changed.wait_for(lambda: folder.changes != self._seen, max(0.0, timeout))
            self._seen = folder.changes
            return changed

    # -- helpers -----------------------------------------------------------------

    def _file(self, key: str) -> _File:
        check_key(key)
        with self._folder.changed:
            try:
                return self._folder.files[key]
            except KeyError:
                raise NotFound(f"no file {key}") from None

    def _changed(self) -> None:
        """Called with the folder's lock held."""
        self._folder.changes += 1
        self._folder.changed.notify_all()


def open_memory_store(url: str) -> MemoryStore:
    """The store ``memory://NAME`` names (``drivequeue.urls`` registers the scheme)."""
    parts = urlsplit(url)
    if parts.path or parts.query or parts.fragment:
        raise BadStoreURL("a memory:// queue URL is memory://NAME, with nothing after the name")
    return MemoryStore(parts.netloc)
