"""Truncated exponential backoff with jitter, for waiting out store outages.

One class for both uses: the Drive client asks for the delay of a numbered
retry within a time budget (``delay``), a serve loop counts its own failures
(``next_delay`` and ``reset``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of ``first``, 2x, 4x ... seconds, capped at ``cap``, each scaled by a random 0.5-1.

    ``budget``: the total time a caller retrying one call should spend (seconds).
    """

    first: float = 0.5
    cap: float = 16.0
    budget: float = 60.0
    failures: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self.cap = max(self.cap, self.first)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The delay before retry number ``attempt`` (0 for the first retry)."""
        return min(self.cap, self.first * 2**attempt) * (rng or random).uniform(0.5, 1.0)

    def next_delay(self) -> float:
        """The delay after one more failure in a row."""
        delay = self.delay(self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
