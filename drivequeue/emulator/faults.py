"""Fault injection: the errors, delays and dropped connections the real Drive API produces."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from .model import ApiError

_ERRORS = {
    403: ("userRateLimitExceeded", "User Rate Limit Exceeded. Rate of requests for user exceed configured project quota."),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Internal Error"),
    503: ("backendError", "The service is currently unavailable."),
}


@dataclass
class Faults:
    """What goes wrong, per API request (the OAuth endpoints are spared).

    ``fail_rate`` of requests are answered with one of ``statuses`` before any
    work is done; ``drop_rate`` of requests lose their connection, half of them
    before the work is done and half after it (the client cannot tell which);
    every request waits ``latency_s`` first. Attributes may be changed while
    the server runs. ``script`` lists faults for the next requests, in order,
    before any random ones: a status (403, 429, 500, 503), ``"drop-before"``,
    ``"drop-after"`` or None (no fault).
    """

    fail_rate: float = 0.0
    statuses: tuple[int, ...] = (403, 429, 500, 503)
    drop_rate: float = 0.0
    latency_s: float = 0.0
    seed: int | None = None
    script: list[int | str | None] = field(default_factory=list)
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        unknown = set(self.statuses) - set(_ERRORS)
        if unknown:
            raise ValueError(f"cannot inject status {sorted(unknown)}; choose from {sorted(_ERRORS)}")

    def draw(self) -> tuple[ApiError | None, str | None]:
        """For one request: (error to answer, or None; 'before'/'after' to drop, or None)."""
        with self._lock:
            if self.script:
                return self._scripted(self.script.pop(0))
            roll = self._random.random()
            if roll < self.fail_rate:
                status = self._random.choice(self.statuses)
                return ApiError(status, *_ERRORS[status]), None
            if roll < self.fail_rate + self.drop_rate:
                return None, self._random.choice(("before", "after"))
            return None, None

    @staticmethod
    def _scripted(fault: int | str | None) -> tuple[ApiError | None, str | None]:
        if fault in _ERRORS:
            return ApiError(fault, *_ERRORS[fault]), None
        if fault in ("drop-before", "drop-after"):
            return None, fault.removeprefix("drop-")
        if fault is None:
            return None, None
        raise ValueError(f"unknown scripted fault {fault!r}")
