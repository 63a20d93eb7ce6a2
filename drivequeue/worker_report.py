"""What a worker tells observers about itself through its heartbeat, beyond who it is.

Nothing connects to a worker, so what only it knows travels in its heartbeat
file as ``report`` (docs/protocol.md, "Heartbeat report"): its device's name
and memory, how fast it trains (model FLOPs a second, for the estimate a train job gets
before it is submitted), and per job kind the jobs it ended and the lines it wrote, with
the rate of the last minute::

    {"device": {"name": "Tesla T4", "memory_used": 1288699904, "memory_free": 14548992000,
                "train_flops": 412000000000},
     "kinds": {"story": {"lines": 120, "lines_per_minute": 31.5, "done": 3, "failed": 0,
                         "crashed": 0, "released": 0, "cancelled": 0}}}

Counts start at 0 when the worker starts. A heartbeat without a report (an
older worker) reads as ``{}``; parts of one that cannot be read are left out,
and the heartbeat stays valid.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: how a claim can end, each counted per kind (``Claim`` endings)
ENDINGS = ("done", "failed", "crashed", "released", "cancelled")
#: the window of ``lines_per_minute``, in seconds
RATE_WINDOW = 60.0
MAX_KINDS = 50
MAX_COUNT = 2**53
MAX_NAME = 200
MAX_KIND_NAME = 40

#: ``() -> {"name": ..., "memory_used": bytes, "memory_free": bytes, "train_flops": per second}``
#: (any of them may be left out)
DeviceProbe = Callable[[], dict[str, Any]]


class WorkerReport:
    """The counts one worker session keeps, and the report its next heartbeat carries.

    ``probe``: asked at every heartbeat for the device's name and memory (the worker's
    application knows its device; ``None``: nothing to say). Safe to use from the
    worker's threads and its heartbeat thread at once.
    """

    def __init__(self, probe: DeviceProbe | None = None, clock: Callable[[], float] = time.monotonic):
        self.probe = probe
        self.clock = clock
        self.started = clock()
        self._lines: dict[str, int] = {}
        self._ended: dict[str, dict[str, int]] = {}
        self._recent: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def wrote(self, kind: str, lines: int) -> None:
        """A claim of ``kind`` added ``lines`` output lines."""
        if lines <= 0:
            return
        now = self.clock()
        with self._lock:
            self._lines[kind] = self._lines.get(kind, 0) + lines
            self._recent.setdefault(kind, deque()).append((now, lines))
            self._ended.setdefault(kind, dict.fromkeys(ENDINGS, 0))

    def ended(self, kind: str, state: str) -> None:
        """A claim of ``kind`` ended as ``state`` (one of ``ENDINGS``)."""
        with self._lock:
            counts = self._ended.setdefault(kind, dict.fromkeys(ENDINGS, 0))
            counts[state] = counts.get(state, 0) + 1

    def as_json(self) -> dict[str, Any]:
        """The report for the next heartbeat."""
        report: dict[str, Any] = {}
        device = self._device()
        if device:
            report["device"] = device
        now = self.clock()
        span = min(RATE_WINDOW, max(now - self.started, 1.0))
        kinds = {}
        with self._lock:
            for kind, counts in self._ended.items():
                recent = self._recent.get(kind, deque())
                while recent and now - recent[0][0] > RATE_WINDOW:
                    recent.popleft()
                kinds[kind] = {"lines": self._lines.get(kind, 0),
                               "lines_per_minute": round(sum(n for _, n in recent) * 60.0 / span, 2),
                               **counts}
        if kinds:
            report["kinds"] = kinds
        return report

    def _device(self) -> dict[str, Any]:
        if self.probe is None:
            return {}
        try:
            return self.probe()
        except Exception as exc:  # a driver hiccup must not stop the heartbeat that renews the claims
            log.warning("the device probe failed: %s: %s", type(exc).__name__, exc)
            return {}


def parse_report(raw: object) -> dict[str, Any]:
    """The readable part of a heartbeat's ``report``: bounded names and counts, nothing else."""
    if not isinstance(raw, dict):
        return {}
    report: dict[str, Any] = {}
    device = raw.get("device")
    if isinstance(device, dict):
        clean = {}
        if isinstance(device.get("name"), str) and len(device["name"]) <= MAX_NAME:
            clean["name"] = device["name"]
        for name in ("memory_used", "memory_free", "train_flops"):
            if _number(device.get(name)):
                clean[name] = device[name]
        if clean:
            report["device"] = clean
    kinds = raw.get("kinds")
    if isinstance(kinds, dict):
        clean_kinds = {}
        for kind, counts in list(kinds.items())[:MAX_KINDS]:
            if len(kind) <= MAX_KIND_NAME and kind.isprintable() and isinstance(counts, dict):
                clean_kinds[kind] = {name: value for name, value in counts.items()
                                     if name in ("lines", "lines_per_minute", *ENDINGS) and _number(value)}
        if clean_kinds:
            report["kinds"] = clean_kinds
    return report


def _number(value: object) -> bool:
    """A count or rate a report may hold: 0 to 2^53, not a bool, not NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT
