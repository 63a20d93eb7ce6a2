"""The per-process cache that keeps polling from multiplying store reads."""

import threading

import pytest

from drivequeue.errors import NotFound
from webapp.read_cache import ReadThroughCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_value_is_fetched_again_only_after_max_age():
    clock = Clock()
    cache = ReadThroughCache(max_age=1.0, clock=clock)
    fetches = []

    def fetch():
        fetches.append(clock.now)
        return len(fetches)

    assert [cache.get("a", fetch) for _ in range(5)] == [1] * 5
    clock.now += 0.99
    assert cache.get("a", fetch) == 1
    clock.now += 0.02
    assert cache.get("a", fetch) == 2
    assert len(fetches) == 2


def test_concurrent_readers_of_a_stale_key_share_one_fetch():
    cache = ReadThroughCache(max_age=60.0)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_fetch():
        calls.append(1)
        started.set()
        release.wait(5)
        return "story"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("s", slow_fetch))) for _ in range(20)]
    for thread in threads:
        thread.start()
    started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["story"] * 20
    assert len(calls) == 1


def test_errors_of_the_queue_are_cached_like_values():
    clock = Clock()
    cache = ReadThroughCache(max_age=1.0, clock=clock)
    calls = []

    def missing():
        calls.append(1)
        raise NotFound("no such job")

    for _ in range(3):
        with pytest.raises(NotFound):
            cache.get("x", missing)
    assert len(calls) == 1


def test_forget_makes_the_next_read_fetch():
    cache = ReadThroughCache(max_age=60.0)
    values = iter([1, 2])
    assert cache.get("k", lambda: next(values)) == 1
    cache.forget("k")
    assert cache.get("k", lambda: next(values)) == 2


def test_the_least_recently_read_entries_are_dropped_beyond_the_bound():
    cache = ReadThroughCache(max_age=60.0, max_entries=3)
    fetched = []

    def fetch_of(key):
        return lambda: fetched.append(key) or key

    for key in [0, 1, 2, 0, 3]:  # 1 is now the least recently read
        cache.get(key, fetch_of(key))
    cache.get(0, fetch_of(0))
    cache.get(1, fetch_of(1))
    assert fetched == [0, 1, 2, 3, 1]
