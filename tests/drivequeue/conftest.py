"""A local queue with small timings, and a second observer on the same folder."""

from __future__ import annotations

import pytest

from drivequeue import LocalStore, Queue, open_store


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "queue")
    yield store
    store.close()


@pytest.fixture
def queue(store, fast_timing):
    return Queue(store, fast_timing)


@pytest.fixture
def other_queue(store, fast_timing):
    """Another process's view: its own store handle, caches and lease clock."""
    handle = open_store(store.url)
    yield Queue(handle, fast_timing)
    handle.close()
