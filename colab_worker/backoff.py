"""Truncated exponential backoff with jitter, for waiting out store outages."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``first``, 2x, 4x ... seconds, capped at ``cap``, each scaled by a random 0.5-1."""

    def __init__(self, cap: float, first: float = 0.5):
        self.cap = max(cap, first)
        self.first = first
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * 2 ** self.failures)
        self.failures += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0
