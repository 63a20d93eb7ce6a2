"""Slow clients cannot starve the site: with every event stream a process allows open, a body
sent a byte at a time is cut off after WEBAPP_BODY_SECONDS, one address gets few places, many
addresses get few more, and /healthz and story pages keep answering (real gunicorn, as the
Procfile starts it)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .test_deploy import ROOT, free_port, procfile_command, wait_for_healthz

BODY_SECONDS = 2
STREAMS = 80  # WEBAPP_MAX_STREAMS: every thread a process lends to streams
ONE_ADDRESS = 21
MANY_ADDRESSES = 200


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PORT": str(port), "WEB_CONCURRENCY": "1", "SECRET_KEY": "k" * 40, "WEBAPP_ENV": "development",
        "DRIVEQUEUE_URL": str(tmp_path / "queue"), "WEBAPP_BODY_SECONDS": str(BODY_SECONDS),
        "WEBAPP_TRUSTED_PROXIES": "1",  # as behind Heroku's router: the address is X-Forwarded-For's
        "WEBAPP_READ_LIMIT": "100000 per minute", "WEBAPP_CREATE_LIMIT": "100000 per minute",
    }
    env.pop("DYNO", None)
    server = subprocess.Popen(["bash", "-c", "exec " + procfile_command("web")], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for_healthz(f"http://127.0.0.1:{port}/healthz", server)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def connect(port: int, head: str, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head.encode() + body)
    return sock


def slow_post(port: int, address: str) -> socket.socket:
    """A story request from ``address`` whose 40-byte body stops after its first byte."""
    head = (f"POST /api/stories HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {address}\r\n"
            "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n")
    return connect(port, head, b"{")


def status_of(sock: socket.socket) -> int | str:
    """The status the server answered on ``sock`` ("closed" if it hung up without one)."""
    try:
        line = sock.makefile("rb").readline()
    except OSError:
        return "closed"
    finally:
        sock.close()
    return int(line.split()[1]) if line.startswith(b"HTTP/") else "closed"


def get(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
        return response.status


def test_slow_bodies_are_cut_off_and_bounded_while_pages_keep_answering(gunicorn):
    port = gunicorn
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/stories", method="POST",
                                     data=json.dumps({"seed": "Once", "lines": 2}).encode(),
                                     headers={"Content-Type": "application/json"})
    story = json.loads(urllib.request.urlopen(request, timeout=20).read())["id"]
    streams = [connect(port, f"GET /api/stories/{story}/stream HTTP/1.1\r\nHost: t\r\n\r\n") for _ in range(STREAMS)]
    for stream in streams:
        assert stream.recv(12).startswith(b"HTTP/1.1 200")  # each holds a thread now
    one = [slow_post(port, "203.0.113.7") for _ in range(ONE_ADDRESS)]
    many = [slow_post(port, f"10.0.{n // 250}.{n % 250 + 1}") for n in range(MANY_ADDRESSES)]

    assert get(port, "/healthz") == 200  # while all of them are open
    assert get(port, f"/stories/{story}") == 200
    assert get(port, f"/api/stories/{story}") == 200

    one_answers = [status_of(sock) for sock in one]
    many_answers = [status_of(sock) for sock in many]
    assert one_answers.count(408) == 4  # WEBAPP_BODIES_PER_ADDRESS were read until the time was up
    assert set(one_answers) <= {408, 429, "closed"} and one_answers.count(429) + one_answers.count("closed") == 17
    assert set(many_answers) <= {408, 503, "closed"} and many_answers.count(408) <= 10  # WEBAPP_BODIES_AT_ONCE
    for stream in streams:
        stream.close()
    assert urllib.request.urlopen(request, timeout=20).status == 202  # and a whole body is taken as ever
