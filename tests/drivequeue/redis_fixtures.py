"""A real ``redis-server`` for the tests, started on a free port (Debian's ``redis-server`` package,
which ``make test`` installs).

The server logs every write before it answers (``appendonly yes``, ``appendfsync always``),
the settings under which nothing acknowledged is lost; ``RedisServer.kill`` and ``start`` let
a test crash it and bring it back on the same port and files. Each store gets a queue name of
its own, so tests never see each other's files.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from drivequeue.store import Store
from drivequeue.urls import open_store

DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, its files in ``folder``."""

    def __init__(self, folder: Path, settings: tuple[str, ...] = DURABLE):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (apt-get install redis-server)")
        self.binary = binary
        self.folder = folder
        self.settings = settings
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.folder), "--protected-mode", "no", *self.settings],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
                break  # up, and asking for a password
            except redis.exceptions.BusyLoadingError:
                pass  # replaying its append-only file
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
            time.sleep(0.02)
        client.close()
        return self

    def kill(self) -> None:
        """``kill -9``: no shutdown, no final save."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def queue_url(self, name: str | None = None) -> str:
        return f"{self.url}?queue={name or 't' + secrets.token_hex(8)}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.kill()


def redis_store(request: pytest.FixtureRequest, folder: Path) -> Store:
    """A ``STORE_FACTORIES`` entry: a new, empty queue on the shared test server."""
    server = request.getfixturevalue("redis_server")
    return open_store(server.queue_url())
