"""Pushing and pulling named files, on every store, and big resumable transfers on Drive."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from drivequeue import files
from drivequeue.cli import main
from drivequeue.errors import ChecksumMismatch, InvalidKey, NotFound
from drivequeue.urls import open_store
from tests.helpers import eventually


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


def test_a_file_that_grows_while_it_is_pushed_is_not_kept(store, work):
    source = work / "growing.log"
    source.write_bytes(b"first lines\n" * 1000)

    def grow(sent: int) -> None:  # called as each piece goes out
        with open(source, "ab") as f:
            f.write(b"one more line\n")

    with pytest.raises(ChecksumMismatch, match="changed while it was being pushed"):
        files.push(store, source, "growing.log", progress=grow)
    assert files.stored_files(store) == [] and store.list() == []


def test_a_push_compares_the_md5_of_what_the_store_kept(store, work):
    """A change that keeps the file's size and time of change is still caught: each store reports
    the MD5 of what it kept (a local folder: of what it wrote), and it differs."""
    piece = 4 * 1024 * 1024
    if hasattr(store, "chunk_size"):
        store.chunk_size = piece  # Drive: the first piece goes out before the rest is read
    source = work / "data.bin"
    source.write_bytes(b"a" * (piece + 1000))
    times = source.stat()

    def change_the_tail(sent: int) -> None:
        with open(source, "r+b") as f:
            f.seek(piece)
            f.write(b"b" * 1000)
        os.utime(source, ns=(times.st_atime_ns, times.st_mtime_ns))

    with pytest.raises(ChecksumMismatch, match="changed or was damaged on the way"):
        files.push(store, source, "data.bin", progress=change_the_tail)
    assert files.stored_files(store) == [] and store.list() == []


def test_command_line_push_of_a_file_being_written_fails_and_keeps_nothing(store, work, capsys):
    source = work / "train.log"
    source.write_bytes(os.urandom(4 * 1024 * 1024))
    writer = subprocess.Popen([sys.executable, "-c", APPENDER, str(source)])
    try:
        eventually(lambda: source.stat().st_size > 4 * 1024 * 1024)
        code = main(["push", str(source), "--queue", store.url])
    finally:
        writer.kill()
        writer.wait()
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().endswith("changed while it was being pushed; push it again once it is complete")
    assert "Traceback" not in err
    assert files.stored_files(store) == [] and store.list() == []


#: a process that appends a line to a file every millisecond until it is killed
APPENDER = """
import sys, time
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(b"a line of a log being written\\n")
        time.sleep(0.001)
"""


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


def test_command_line_push_list_pull(store, work, capsys, monkeypatch):
    source = work / "notes.txt"
    source.write_text("hello drive\n")
    monkeypatch.chdir(work)

    def run(*args):
        code = main([*args, "--queue", store.url])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

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
