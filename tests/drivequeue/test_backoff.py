"""``Backoff``: the one way the queue rides out a store outage (budget, stop, backoff, what it logs)."""

from __future__ import annotations

import logging
import random
import threading
import time

import pytest

from drivequeue.backoff import Backoff
from drivequeue.errors import NotFound, StoreUnavailable
from drivequeue.shutdown import Shutdown


class Flaky:
    """An action that meets an outage ``failures`` times, then answers."""

    def __init__(self, failures: int, error: Exception | None = None):
        self.left, self.calls = failures, 0
        self.error = error or StoreUnavailable("the folder is gone")

    def __call__(self) -> str:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise self.error
        return "written"


def test_delays_double_up_to_the_cap_each_scaled_by_a_random_half_to_whole():
    backoff = Backoff(cap=8.0, first=1.0, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jitter: workers that failed together part ways


def test_call_waits_out_an_outage_logging_each_wait_and_starts_again_after_a_success(caplog):
    backoff = Backoff(cap=0.04, first=0.01, what="queue store unavailable")
    flaky = Flaky(3)
    with caplog.at_level(logging.WARNING, logger="drivequeue.backoff"):
        started = time.monotonic()
        assert backoff.call(flaky) == "written"
    waited = time.monotonic() - started
    assert flaky.calls == 4 and backoff.failures == 0  # the next outage starts from the first delay
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and all(r.levelno == logging.WARNING for r in caplog.records)
    assert all(line.startswith("queue store unavailable (the folder is gone); retrying in ") for line in lines)
    assert 0.005 + 0.01 + 0.02 <= waited  # the three halved-at-worst delays were slept


def test_only_an_outage_is_retried():
    backoff = Backoff(first=0.01)
    missing = Flaky(1, NotFound("no such job"))
    with pytest.raises(NotFound):
        backoff.call(missing)
    assert missing.calls == 1
    other = Flaky(2, TimeoutError("slow"))
    assert backoff.call(other, on=TimeoutError) == "written" and other.calls == 3


def test_it_gives_up_once_the_budget_is_spent_raising_the_last_outage(caplog):
    backoff = Backoff(cap=0.05, first=0.02, budget=0.25, logger=logging.getLogger("drive"), level=logging.INFO,
                      what="Drive files.get failed")
    always = Flaky(10**6)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="drive"), pytest.raises(StoreUnavailable, match="folder is gone"):
        backoff.call(always)
    spent = time.monotonic() - started
    assert 0.25 <= spent < 1.0  # waits are cut to what is left of the budget, then it stops
    assert always.calls >= 4 and caplog.records[0].levelno == logging.INFO
    assert caplog.records[0].getMessage().startswith("Drive files.get failed (the folder is gone)")


def test_a_stop_ends_the_waiting_at_once_and_the_caller_gives_up():
    stop = Shutdown()
    backoff = Backoff(cap=30.0, first=30.0, stop=stop)
    threading.Timer(0.2, stop.request, args=("test over",)).start()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        backoff.call(Flaky(10**6))
    assert time.monotonic() - started < 5.0  # not the 15-30 s the delay asked for
    assert backoff.wait(StoreUnavailable("again")) is False  # stopped: no more waiting at all


def test_a_loop_counts_its_own_failures_in_a_row_and_resets_on_success():
    backoff = Backoff(first=0.01)
    for _ in range(3):
        assert backoff.wait(StoreUnavailable("down")) is True
    assert backoff.failures == 3
    backoff.reset()
    assert backoff.failures == 0
