"""The original design's transport, for comparison: a Drive folder mounted on both sides.

In the seed paper the Colab worker wrote the story into the Drive folder mounted
in the notebook, and the web side re-mounted the folder every 4 seconds and
diffed the file to find new lines. A write to a mounted Drive folder reaches the
other side only after a delay: about a minute in users' reports
(googlecolab/colabtools issues 3567, 958, 1195), sometimes much longer.

``MountedSide`` reproduces that with two local folders, one per side. Each side
works on its own folder; every file it creates, rewrites or deletes is
delivered to the other side's folder ``delay`` seconds later, at the other
side's next re-mount (one every ``remount`` seconds). The queue protocol and the
worker and web app above it run unchanged, so what a benchmark measures on it is
the transport alone: the web app reading the output file is the diff, its
``?after=N`` view the new lines.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

from drivequeue import KeyExists, LocalStore, NotFound, Store

#: seconds before a write to the Colab Drive mount shows on the other side (users' reports)
MOUNT_DELAY_S = 60.0
#: the paper's re-mount period
REMOUNT_S = 4.0


class MountedSide(LocalStore):
    """One side of a mounted Drive folder: a local folder whose changes reach ``other`` late.

    Each process makes its own side (the worker ``MountedSide(a, b)``, the web app
    ``MountedSide(b, a)``); a daemon thread of each delivers its changes.
    """

    def __init__(self, root: str | os.PathLike[str], other: str | os.PathLike[str],
                 delay: float = MOUNT_DELAY_S, remount: float = REMOUNT_S):
        super().__init__(root)
        self.delay = delay
        self.remount = remount
        self._other = LocalStore(other)
        self._pending: deque[tuple[float, str, str, str, bytes]] = deque()  # (time, op, key, name, data)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._deliver_forever, name="drive-mount", daemon=True)
        self._thread.start()

    def create(self, key: str, name: str, data: bytes) -> None:
        super().create(key, name, data)
        self._record("create", key, name, data)

    # The folder's own ways of creating files (one sync for a pair, a file copied in chunks)
    # would bypass ``create``: each goes through the plain Store's, which calls it.
    def create_pair(self, first: tuple[str, str, bytes], second: tuple[str, str, bytes]) -> None:
        """Two creates, each reaching the other side late (a mounted folder has no one-step pair)."""
        Store.create_pair(self, first, second)

    def upload(self, key: str, name: str, path: str | os.PathLike[str], progress=None) -> str:
        """A pushed file is one create, reaching the other side late like any other."""
        return Store.upload(self, key, name, path, progress)

    def write(self, key: str, data: bytes) -> None:
        super().write(key, data)
        self._record("write", key, "", data)

    def delete(self, key: str) -> None:
        super().delete(key)
        self._record("delete", key, "", b"")

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._other.close()
        super().close()

    def _record(self, op: str, key: str, name: str, data: bytes) -> None:
        with self._lock:
            self._pending.append((time.monotonic(), op, key, name, bytes(data)))

    def _deliver_forever(self) -> None:
        while not self._closed.wait(self.remount):
            self.deliver_due()

    def deliver_due(self) -> None:
        """Apply to the other side, in order, every change made at least ``delay`` seconds ago."""
        cutoff = time.monotonic() - self.delay
        while True:
            with self._lock:
                if not self._pending or self._pending[0][0] > cutoff:
                    return
                _, op, key, name, data = self._pending.popleft()
            try:
                if op == "create":
                    self._other.create(key, name, data)
                elif op == "write":
                    self._other.write(key, data)
                else:
                    self._other.delete(key)
            except (KeyExists, NotFound):
                pass  # the other side changed the same file meanwhile: last writer wins, as on Drive
