"""The files created in a local queue folder, in the order the kernel reported them (inotify),
so that a worker asks what is new instead of listing the folder for every claim.

A ``CreateLog`` watches the folder for new names from the moment it is made and
numbers them; a reader keeps the number it has seen (its cursor) and asks for the
names after it. The log keeps the last ``KEEP`` names; a reader further behind, or
one whose cursor predates a lost event (the kernel's queue overflowed), is told to
list the folder instead.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable

import inotify_simple

#: names kept for readers that are behind
KEEP = 65536


class CreateLog:
    """New names in ``root``, numbered from 1; ``name_of(name)`` keeps the names of queue files."""

    def __init__(self, root: os.PathLike[str] | str, name_of: Callable[[str], str | None]):
        self._name_of = name_of
        self._watch = inotify_simple.INotify()
        self._watch.add_watch(root, inotify_simple.flags.CREATE)
        self._names: deque[tuple[int, str, str]] = deque(maxlen=KEEP)  # (number, key, file name)
        self._last = 0  # the number of the newest name
        self._known_from = 0  # names numbered after this are all in the log
        self._lock = threading.Lock()

    def since(self, cursor: int | None) -> tuple[list[tuple[str, str]] | None, int]:
        """``(key, file name)`` of the files created after ``cursor``, and the cursor for the next
        call; None instead of the names if some of them may be missing from the log, or for
        cursor None (list the folder instead: every name after the returned cursor will be told)."""
        with self._lock:
            self._take_events()
            if cursor is None or cursor < self._known_from or (self._names and cursor < self._names[0][0] - 1):
                return None, self._last
            return [(key, name) for number, key, name in self._names if number > cursor], self._last

    def close(self) -> None:
        self._watch.close()

    def _take_events(self) -> None:
        for event in self._watch.read(timeout=0):
            if event.mask & inotify_simple.flags.Q_OVERFLOW:
                self._known_from = self._last  # names were lost: nothing before now can be told
                continue
            name = self._name_of(event.name)
            if name is not None:
                self._last += 1
                self._names.append((self._last, event.name, name))
