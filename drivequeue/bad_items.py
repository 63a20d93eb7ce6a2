"""The items of a store that cannot be used, as one process has met them.

Whoever can write the store can leave anything in it; one such item harms
only itself. Each reader that meets one skips it and notes it here: the note
is logged once per process, in one line that names the item, and
``drivequeue bad`` shows them all, each as it was first met. Notes are kept for the most recent
``MAX_NOTES`` items, so a store full of junk cannot grow a process without bound.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger("drivequeue")

MAX_NOTES = 10_000


@dataclass(frozen=True)
class BadItem:
    """``key``: the item's key (or, for an index entry that is no key, how it looks);
    ``what``: what it was read as; ``problem``: why it cannot be used."""

    key: str
    what: str
    problem: str


class BadItems:
    """The bad items one process has met in one store, newest last."""

    def __init__(self) -> None:
        self._notes: OrderedDict[str, BadItem] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, key: str, what: str, problem: str) -> None:
        """Record that ``key`` (read as ``what``) cannot be used; logged the first time (a later
        reader's words for the same item are not logged again)."""
        with self._lock:
            if key in self._notes:
                self._notes.move_to_end(key)
                return
            self._notes[key] = BadItem(key, what, problem)
            while len(self._notes) > MAX_NOTES:
                self._notes.popitem(last=False)
        log.warning("skipping %s %s: %s", what, key, problem)

    def forget(self, key: str) -> None:
        """``key`` is gone (or was replaced): a new problem with it will be logged again."""
        with self._lock:
            self._notes.pop(key, None)

    def keys(self) -> set[str]:
        with self._lock:
            return set(self._notes)

    def items(self) -> list[BadItem]:
        with self._lock:
            return list(self._notes.values())
