"""The Store contract, written once and run against every store in ``EVERY_STORE``."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from drivequeue import open_store
from drivequeue.errors import InvalidKey, KeyExists, NotFound, UnreadableFile
from drivequeue.store import KEY_PATTERN
from tests.conftest import EVERY_STORE
from tests.helpers import eventually

BAD_KEYS = ["../x", "%2e%2e", "", "a" * 1024, "a/b", ".", "..", "a.b", "a b", "\x00", None, 7]
BAD_NAMES = ["", "Job", "../job", "job-1", "j" * 40, None]


@pytest.fixture(params=sorted(EVERY_STORE))
def store(request, tmp_path):
    store = EVERY_STORE[request.param](request, tmp_path)
    yield store
    store.close()


def test_new_keys_are_distinct_well_formed_and_absent(store):
    keys = store.new_keys("job", 20) + store.new_keys("job", 20)
    assert len(set(keys)) == 40
    assert all(KEY_PATTERN.fullmatch(key) for key in keys)
    for key in keys[:3]:
        assert not store.exists(key)
        with pytest.raises(NotFound):
            store.read(key)


@pytest.mark.parametrize("data", [b"", b"{}", bytes(range(256)), "é✓".encode() * 1000, b"x" * (1 << 20)])
def test_create_then_read_returns_the_same_bytes(store, data):
    key, = store.new_keys("blob")
    store.create(key, "blob", data)
    assert store.read(key) == data
    assert store.exists(key)


@pytest.mark.parametrize("size", [0, 1000, 5 * 1024 * 1024 + 7])
def test_upload_returns_the_md5_of_what_the_store_kept(store, tmp_path, size):
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(size))
    key, = store.new_keys("blob")
    sent = []
    md5 = store.upload(key, "blob", source, sent.append)
    assert md5 == hashlib.md5(store.read(key)).hexdigest() == hashlib.md5(source.read_bytes()).hexdigest()
    assert sum(sent) == size


@pytest.mark.parametrize("following", [False, True])
def test_a_read_refuses_a_file_over_its_limit(store, following):
    """Every store finds out the size first (stat, Drive's metadata or a Range, a sum on the
    Redis server): a file over the limit is refused, one within it is read whole."""
    data = os.urandom(2 * 1024 * 1024 + 3)
    key, = store.new_keys("blob")
    store.create(key, "blob", data)
    if following:
        store.follow_changes(0.01)  # how the web app reads: through the changes feed on Drive
        store.list()
        time.sleep(0.02)
    with pytest.raises(UnreadableFile, match="more than the 1,000 .*a read of it takes"):
        store.read(key, limit=1000)
    assert store.read(key, limit=len(data)) == data
    assert store.read(key, limit=None) == data
    assert store.read(key) == data  # under the default limit of 8 MiB
    empty, = store.new_keys("job")
    store.create(empty, "job", b"")
    assert store.read(empty, limit=10) == b""


def test_create_on_an_existing_key_fails_and_changes_nothing(store):
    key, = store.new_keys("job")
    store.create(key, "job", b"first")
    with pytest.raises(KeyExists):
        store.create(key, "job", b"second")
    assert store.read(key) == b"first"


def race(store, count, attempt) -> list[int]:
    """Run ``attempt(i, handle)`` for ``i`` in ``range(count)`` at once, each on a handle of its
    own; the ``i`` whose attempt did not meet ``KeyExists``."""
    handles = [open_store(store.url) for _ in range(count)]
    barrier = threading.Barrier(count)
    winners = []

    def run(i, handle):
        barrier.wait()
        try:
            attempt(i, handle)
            winners.append(i)
        except KeyExists:
            pass

    threads = [threading.Thread(target=run, args=(i, h)) for i, h in enumerate(handles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for handle in handles:
        handle.close()
    return winners


def test_exactly_one_of_many_concurrent_creates_wins(store):
    key, = store.new_keys("claim")
    winners = race(store, 8, lambda i, handle: handle.create(key, "claim", f"worker {i}".encode()))
    assert len(winners) == 1
    assert store.read(key) == f"worker {winners[0]}".encode()


def test_create_pair_makes_both_files_and_the_second_only_once(store):
    output, claim = store.new_keys("output")[0], store.new_keys("claim")[0]
    store.create_pair((output, "output", b"lines"), (claim, "claim", b"mine"))
    assert store.read(output) == b"lines" and store.read(claim) == b"mine"
    late_output, = store.new_keys("output")
    with pytest.raises(KeyExists):
        store.create_pair((late_output, "output", b"other lines"), (claim, "claim", b"theirs"))
    assert store.read(claim) == b"mine"
    assert not store.exists(late_output)  # the loser leaves nothing behind


def test_exactly_one_of_many_concurrent_pairs_wins_and_losers_leave_nothing(store):
    claim, = store.new_keys("claim")
    outputs = store.new_keys("output", 6)
    winners = race(store, 6, lambda i, handle: handle.create_pair((outputs[i], "output", b"o"),
                                                                  (claim, "claim", f"worker {i}".encode())))
    assert len(winners) == 1
    assert store.read(claim) == f"worker {winners[0]}".encode()
    assert [store.exists(key) for key in outputs] == [i in winners for i in range(6)]


def test_read_many_gives_what_read_gives_for_each_key(store):
    made, other, absent = store.new_keys("output", 3)
    store.create(made, "output", b"one")
    store.create(other, "output", b"")
    assert store.read_many([made, absent, other]) == {made: b"one", absent: None, other: b""}
    assert store.read_many([]) == {}


def test_created_since_tells_new_files_after_a_first_full_answer_or_nothing_at_all(store):
    old, = store.new_keys("job")
    store.create(old, "job", b"j")
    told = store.created_since(None)
    if told is None:  # this store can only list; it says so every time
        assert store.created_since(object()) is None
        return
    everything, cursor = told
    assert {(entry.key, entry.name) for entry in everything} == {(old, "job")}
    assert store.created_since(cursor) == ([], cursor)
    output, claim, job = store.new_keys("output")[0], store.new_keys("claim")[0], store.new_keys("job")[0]
    store.create_pair((output, "output", b"o"), (claim, "claim", b"c"))
    store.create(job, "job", b"j")
    store.write(old, b"rewritten")  # a rewrite is not a create
    store.delete(output)  # removed since: it may be reported, and a reader finds it gone
    new, cursor = store.created_since(cursor)
    assert [(entry.key, entry.name) for entry in new if entry.key != output] == [(claim, "claim"), (job, "job")]
    assert store.created_since(cursor) == ([], cursor)


def test_write_replaces_the_whole_file(store):
    key, = store.new_keys("output")
    store.create(key, "output", b"a long first version")
    store.write(key, b"short")
    assert store.read(key) == b"short"


@pytest.mark.parametrize("data", ["text", 5, None])
def test_data_that_is_not_bytes_is_refused_and_writes_nothing(store, data):
    key, = store.new_keys("output")
    with pytest.raises(TypeError):
        store.create(key, "output", data)
    assert not store.exists(key)
    store.create(key, "output", b"kept")
    with pytest.raises(TypeError):
        store.write(key, data)
    assert store.read(key) == b"kept"


def test_write_to_a_missing_key_is_not_found(store):
    key, = store.new_keys("output")
    with pytest.raises(NotFound):
        store.write(key, b"x")
    assert not store.exists(key)


def test_delete_removes_and_is_idempotent(store):
    key, = store.new_keys("job")
    store.create(key, "job", b"x")
    store.delete(key)
    store.delete(key)
    with pytest.raises(NotFound):
        store.read(key)
    assert key not in {entry.key for entry in store.list()}


def test_modified_is_when_a_file_was_last_written_by_the_store_clock(store):
    key, missing = store.new_keys("blob", 2)
    store.create(key, "blob", b"x")
    made = store.modified(key)
    assert abs(made - time.time()) < 60  # the same machine's clock, give or take a filesystem's rounding
    store.write(key, b"y")
    assert store.modified(key) >= made
    with pytest.raises(NotFound):
        store.modified(missing)


def test_now_is_the_clock_that_modified_answers_by(store):
    """An age is ``store.now() - store.modified(key)``: both by the store's clock, so no machine's
    own clock (which may be hours off) takes part."""
    key, = store.new_keys("blob")
    before = store.now()
    store.create(key, "blob", b"x")
    store.list()  # on Drive, the changes feed then tells the time of change without a call
    after = store.now()
    assert before - 1.0 <= store.modified(key) <= after + 1.0  # Drive's Date is in whole seconds
    time.sleep(1.1)
    store.write(key, b"y")
    store.list()
    assert store.modified(key) >= before and store.now() - store.modified(key) < 30


def test_list_shows_files_with_their_names_and_filters_by_name(store):
    jobs = store.new_keys("job", 3)
    claim, = store.new_keys("claim")
    for key in jobs:
        store.create(key, "job", b"j")
    store.create(claim, "claim", b"c")
    reserved_only, = store.new_keys("job")
    everything = {(entry.key, entry.name) for entry in store.list()}
    assert everything == {(key, "job") for key in jobs} | {(claim, "claim")}
    assert {entry.key for entry in store.list("job")} == set(jobs)
    assert [entry.key for entry in store.list("claim")] == [claim]
    assert store.list("worker") == []
    assert reserved_only not in {key for key, _ in everything}


def test_a_second_handle_sees_the_same_files(store):
    key, = store.new_keys("job")
    store.create(key, "job", b"one")
    other = open_store(store.url)
    try:
        assert other.read(key) == b"one"
        other.write(key, b"two")
        assert store.read(key) == b"two"
        with pytest.raises(KeyExists):
            other.create(key, "job", b"three")
    finally:
        other.close()


@pytest.mark.parametrize("key", BAD_KEYS)
def test_malformed_keys_are_rejected_by_every_operation(store, key):
    for call in (
        lambda: store.read(key),
        lambda: store.write(key, b"x"),
        lambda: store.create(key, "job", b"x"),
        lambda: store.delete(key),
        lambda: store.exists(key),
        lambda: store.modified(key),
    ):
        with pytest.raises(InvalidKey):
            call()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_malformed_names_are_rejected(store, name):
    key, = store.new_keys("job")
    with pytest.raises(InvalidKey):
        store.new_keys(name)
    with pytest.raises(InvalidKey):
        store.create(key, name, b"x")
    if name is not None:  # list(None) lists everything
        with pytest.raises(InvalidKey):
            store.list(name)
    assert not store.exists(key)


def test_wait_with_nothing_changed_returns_false_once_its_time_is_up(store):
    eventually(lambda: store.wait(0) is False)  # watching, and whatever came before is read
    started = time.monotonic()
    assert store.wait(0.2) is False
    assert time.monotonic() - started >= 0.15  # it did wait (a waiting loop must not spin)


#: the stores whose ``wait`` sees changes (Drive's only sleeps: its changes feed is read on demand)
WATCHING = sorted(set(EVERY_STORE) - {"drive"})


@pytest.mark.parametrize("store", WATCHING, indirect=True)
def test_wait_wakes_for_a_change_made_through_another_handle_and_misses_none(store):
    other = open_store(store.url)
    try:
        eventually(lambda: store.wait(0) is False)
        key, = other.new_keys("job")
        change = threading.Timer(0.1, other.create, (key, "job", b"x"))
        change.start()
        assert store.wait(60) is True  # woken by the change (the bound only keeps a broken store from hanging)
        change.join()
        other.write(key, b"y")  # made while nobody waits: the next wait still sees it
        assert store.wait(60) is True
    finally:
        other.close()


def test_url_reopens_the_store(store):
    assert open_store(store.url).url == store.url
