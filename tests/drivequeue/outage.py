"""A real local store with an outage the test switches on for chosen calls."""

from __future__ import annotations

import json
from collections.abc import Callable

from drivequeue import LocalStore, StoreUnavailable

#: (method, key, data or None) -> whether this call meets the outage
Outage = Callable[[str, str, bytes | None], bool]


class OutageStore(LocalStore):
    """``LocalStore`` whose ``create``, ``write`` and ``delete`` raise ``StoreUnavailable``
    while ``outage`` (set by the test) says so for that call; ``refused`` counts them."""

    def __init__(self, root):
        super().__init__(root)
        self.outage: Outage | None = None
        self.refused = 0

    def _meets_outage(self, method: str, key: str, data: bytes | None = None) -> None:
        if self.outage is not None and self.outage(method, key, data):
            self.refused += 1
            raise StoreUnavailable(f"injected outage: {method} {key}")

    def create(self, key, name, data):
        self._meets_outage("create", key, data)
        super().create(key, name, data)

    def create_pair(self, first, second):
        self._meets_outage("create", first[0], first[2])
        self._meets_outage("create", second[0], second[2])
        super().create_pair(first, second)

    def write(self, key, data):
        self._meets_outage("write", key, data)
        super().write(key, data)

    def delete(self, key):
        self._meets_outage("delete", key)
        super().delete(key)


def output_state(data: bytes | None) -> str | None:
    """The ``state`` an output file being written would have (None for other files)."""
    try:
        record = json.loads(data or b"")
    except ValueError:
        return None
    return record.get("state") if isinstance(record, dict) and record.get("type") == "output" else None
