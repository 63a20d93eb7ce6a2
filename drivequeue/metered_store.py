"""A store that counts the calls made through it and the failures, by operation (for metrics).

``MeteredStore(store)`` passes every operation on to ``store`` and counts it in
``operations``; an operation that raises ``StoreUnavailable`` (the backend
could not be reached, after the store's own retries) also counts in
``failures``. ``NotFound``, ``KeyExists`` and ``InvalidKey`` are answers, not
failures. Whatever else the wrapped store has (the Drive store's ``calls`` of
the API, its URL and timings) is reached through it.
"""

from __future__ import annotations

import threading
from collections import Counter

from .errors import StoreUnavailable
from .bad_items import BadItems
from .store import MAX_READ_BYTES, Entry, Store


class MeteredStore(Store):
    """``store``, counted."""

    def __init__(self, store: Store):
        self.inner = store
        self.url = store.url
        self.operations: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        if name == "inner":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"MeteredStore({self.inner!r})"

    @property
    def bad(self) -> BadItems:
        return self.inner.bad  # one account of the store's bad items, whichever handle met them

    def _call(self, operation: str, method, *args, **kwargs):
        with self._lock:
            self.operations[operation] += 1
        try:
            return method(*args, **kwargs)
        except StoreUnavailable:
            with self._lock:
                self.failures[operation] += 1
            raise

    def new_keys(self, name: str, n: int = 1) -> list[str]:
        return self._call("new_keys", self.inner.new_keys, name, n)

    @property
    def pushes_changes(self) -> bool:
        return self.inner.pushes_changes

    @property
    def lists_cheaply(self) -> bool:
        return self.inner.lists_cheaply

    def create(self, key: str, name: str, data: bytes) -> None:
        self._call("create", self.inner.create, key, name, data)

    def create_pair(self, first: tuple[str, str, bytes], second: tuple[str, str, bytes]) -> None:
        self._call("create_pair", self.inner.create_pair, first, second)

    def created_since(self, cursor: object | None) -> tuple[list[Entry], object] | None:
        return self._call("created_since", self.inner.created_since, cursor)

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        return self._call("read", self.inner.read, key, limit)

    def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        return self._call("read_many", self.inner.read_many, keys)

    def write(self, key: str, data: bytes) -> None:
        self._call("write", self.inner.write, key, data)

    def delete(self, key: str) -> None:
        self._call("delete", self.inner.delete, key)

    def list(self, name: str | None = None) -> list[Entry]:
        return self._call("list", self.inner.list, name)

    def exists(self, key: str) -> bool:
        return self._call("exists", self.inner.exists, key)

    def modified(self, key: str) -> float | None:
        return self._call("modified", self.inner.modified, key)

    def now(self) -> float | None:
        return self._call("now", self.inner.now)

    def upload(self, key, name, path, progress=None) -> str | None:
        return self._call("upload", self.inner.upload, key, name, path, progress)

    def download(self, key, path, progress=None) -> None:
        self._call("download", self.inner.download, key, path, progress)

    def wait(self, timeout: float) -> bool:
        return self.inner.wait(timeout)

    def follow_changes(self, period: float) -> None:
        self.inner.follow_changes(period)

    def close(self) -> None:
        self.inner.close()
