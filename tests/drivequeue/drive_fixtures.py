"""Fixtures that run the Drive store on an in-process emulator, through the real client library.

``drive_env`` sets the environment that ``open_store("drive://id:...")`` reads, so
that a second handle, also one opened in a child process, reaches the same
emulated Drive. Backoff delays are shrunk so that injected faults cost
milliseconds, not seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivequeue.emulator import Emulator
from drivequeue.store import Store
from drivequeue.urls import open_store


@pytest.fixture
def drive_emulator():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def drive_env(drive_emulator, monkeypatch):
    """The emulator, with the environment pointing the Drive store at it."""
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_ENDPOINT", drive_emulator.url)
    monkeypatch.setenv("DRIVEQUEUE_TOKEN", json.dumps(drive_emulator.token_info()))
    monkeypatch.delenv("DRIVEQUEUE_TOKEN_FILE", raising=False)
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_RETRY_FIRST", "0.01")
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_RETRY_BUDGET", "30")
    return drive_emulator


def drive_store(request: pytest.FixtureRequest, folder: Path) -> Store:
    """A ``STORE_FACTORIES`` entry: a new, empty queue folder on the emulated Drive."""
    emulator = request.getfixturevalue("drive_env")
    return open_store(f"drive://id:{emulator.create_folder(folder.name)}")
