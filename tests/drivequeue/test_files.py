"""Pushing and pulling named files, on every store, and big resumable transfers on Drive."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from drivequeue import files
from drivequeue.errors import ChecksumMismatch, InvalidKey, NotFound
from drivequeue.urls import open_store


@pytest.fixture
def store(store_factory):
    return store_factory()


@pytest.fixture
def work(tmp_path):
    """A folder for the local side of transfers."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_push_then_pull_returns_the_same_bytes(store, work):
    source = work / "corpus.txt"
    source.write_bytes("Es war einmal ✓\n".encode() * 1000)
    pushed = files.push(store, source, "corpora/grimm.txt")
    assert pushed.md5 == hashlib.md5(source.read_bytes()).hexdigest()
    assert pushed.size == source.stat().st_size
    out = work / "out"
    out.mkdir()
    stored, target = files.pull(store, "corpora/grimm.txt", out)
    assert target == out / "grimm.txt"
    assert target.read_bytes() == source.read_bytes()
    assert stored == pushed
    assert [p for p in out.iterdir()] == [target]  # no partial file left behind


def test_a_second_push_replaces_the_first_and_removes_it(store, work):
    source = work / "model.pt"
    source.write_bytes(b"version 1")
    first = files.push(store, source)
    source.write_bytes(b"version 2")
    second = files.push(store, source)
    assert [f.name for f in files.stored_files(store)] == ["model.pt"]
    _, target = files.pull(store, "model.pt", work / "pulled.pt")
    assert target.read_bytes() == b"version 2"
    assert not store.exists(first.blob) and not store.exists(first.key)
    assert store.exists(second.blob)


def test_a_damaged_download_is_refused_and_nothing_is_written(store, work):
    source = work / "data.bin"
    source.write_bytes(os.urandom(5000))
    pushed = files.push(store, source)
    store.write(pushed.blob, b"damaged")
    with pytest.raises(ChecksumMismatch):
        files.pull(store, "data.bin", work / "copy.bin")
    assert not (work / "copy.bin").exists()
    assert [p.name for p in work.iterdir()] == ["data.bin"]


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/../b", "/abs", "a//b", "x" * 201, "sp ace", "a/./b"])
def test_bad_names_are_refused_before_anything_is_stored(store, work, name):
    source = work / "f"
    source.write_bytes(b"x")
    with pytest.raises(InvalidKey):
        files.push(store, source, name)
    with pytest.raises(InvalidKey):
        files.pull(store, name, work / "out")
    assert store.list() == []


def test_pulling_a_name_never_pushed_is_not_found(store, work):
    with pytest.raises(NotFound, match="no pushed file named 'nothing.txt'"):
        files.pull(store, "nothing.txt", work / "x")


def test_command_line_push_list_pull(store, work):
    source = work / "notes.txt"
    source.write_text("hello drive\n")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "drivequeue", *args, "--queue", store.url],
        capture_output=True, text=True, cwd=work, timeout=60)
    pushed = run("push", str(source), "docs/notes.txt")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed docs/notes.txt (12 bytes" in pushed.stdout
    listed = run("files")
    assert listed.stdout.split()[-1] == "docs/notes.txt"
    pulled = run("pull", "docs/notes.txt")
    assert pulled.returncode == 0, pulled.stderr
    assert (work / "notes.txt").read_text() == "hello drive\n"
    missing = run("pull", "nope.txt")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "drivequeue: error: no pushed file named 'nope.txt'"
    bad = run("push", str(source), "../x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    no_file = run("push", str(work / "absent.txt"))
    assert no_file.returncode == 1
    assert no_file.stderr.strip().endswith(f"No such file or directory: {work / 'absent.txt'}")
    no_folder = run("pull", "docs/notes.txt", str(work / "absent" / "notes.txt"))
    assert no_folder.returncode == 1 and "Traceback" not in no_folder.stderr
    assert not list((work).glob("**/.notes.txt.part-*"))


def test_a_50_mb_push_resumes_after_an_interrupted_chunk_and_pulls_intact(drive_env, work):
    store = open_store(f"drive://id:{drive_env.create_folder('big')}")
    source = work / "big.bin"
    with open(source, "wb") as f:
        for _ in range(50):
            f.write(os.urandom(1_000_000))
    store.new_keys("blob")  # fill the key pool, so the requests below are the upload's
    # requests: start, chunk 1, chunk 2 cut off halfway, httplib2's resend of it cut off too
    drive_env.faults.script = [None, None, "drop-before", "drop-before"]
    sent = []
    pushed = files.push(store, source, "big.bin", sent.append)
    assert sum(sent) == 50_000_000
    # resumed where Drive said it stood: one status query, then the rest (2 chunks of 16 MiB)
    # instead of starting again from byte 0
    assert drive_env.requests["upload.chunk"] == 6
    received = []
    stored, target = files.pull(store, "big.bin", work / "copy.bin", received.append)
    assert sum(received) == 50_000_000
    assert files.md5_of(target) == files.md5_of(source) == stored.md5 == pushed.md5
