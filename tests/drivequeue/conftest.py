"""A local queue with small timings and the tests' own job kinds (``lines_plugin``), a
second observer on the same folder, and the stores fast enough for hundreds of jobs."""

from __future__ import annotations

import pytest

from drivequeue import LocalStore, Queue, open_store

from tests.conftest import STORE_FACTORIES

from .lines_plugin import BY_NAME


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "queue")
    yield store
    store.close()


@pytest.fixture
def queue(store, fast_timing):
    return Queue(store, fast_timing, kinds=BY_NAME)


@pytest.fixture
def other_queue(store, fast_timing):
    """Another process's view: its own store handle, caches and lease clock."""
    handle = open_store(store.url)
    yield Queue(handle, fast_timing, kinds=BY_NAME)
    handle.close()


@pytest.fixture(params=["local", "redis"])
def busy_store(request, tmp_path):
    """A local folder and a real redis-server: the stores that signal changes, fast enough for
    hundreds of jobs (Drive's emulator is not)."""
    store = STORE_FACTORIES[request.param](request, tmp_path / "queue")
    yield store
    store.close()
