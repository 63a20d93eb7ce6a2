"""Fixtures shared by every test package.

``store_factory`` makes fresh, empty stores of one kind and runs each test
that uses it once per kind in ``STORE_FACTORIES``: the stores that other
processes can open too (the store-contract suite adds the in-memory one,
``EVERY_STORE``). To run them against another store, add a function
``(request, folder) -> Store`` to ``STORE_FACTORIES`` (for example from a
fixture module that starts an emulator); ``folder`` is an empty per-store
scratch folder. A second handle on the same store must be reachable through
``drivequeue.open_store(store.url)``, also from a child process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from drivequeue.local import LocalStore
from drivequeue.memory import MemoryStore
from drivequeue.store import Store
from drivequeue.timing import Timing
from tests.drivequeue.drive_fixtures import drive_emulator, drive_env, drive_store  # noqa: F401 (fixtures)
from tests.drivequeue.redis_fixtures import redis_server, redis_store  # noqa: F401 (fixtures)

# One torch thread in the test processes and every process they start: the suite runs a test per
# core, and a second thread only spins waiting for a core (it made a 3 s test take 80 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (minutes long) start first, so that none is left running alone on
    one worker at the end of the run while the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _local_store(request: pytest.FixtureRequest, folder: Path) -> Store:
    return LocalStore(folder)


STORE_FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "local": _local_store,
    "drive": drive_store,
    "redis": redis_store,
}
#: and the store that serves the protocol tests, reachable from this process only
EVERY_STORE = {**STORE_FACTORIES, "memory": lambda request, folder: MemoryStore()}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store_factory(request, tmp_path):
    """A function returning a new empty store of the kind under test."""
    made: list[Store] = []

    def make() -> Store:
        folder = tmp_path / f"store{len(made)}"
        folder.mkdir()
        store = STORE_FACTORIES[request.param](request, folder)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def fast_timing() -> Timing:
    """Intervals small enough that leases expire within a test, large enough for a busy 2-core box."""
    return Timing(lease=1.0, heartbeat=0.1, poll=0.05, check=0.02, max_attempts=3)
