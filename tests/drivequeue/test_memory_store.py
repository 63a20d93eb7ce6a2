"""``memory://NAME``: a folder in this process's memory, shared by the handles opened on its name
(the store contract runs on it too, in test_store_contract.py)."""

from __future__ import annotations

import gc

import pytest

from drivequeue import BadStoreURL, InvalidKey, MemoryStore, open_store


def test_handles_on_one_name_share_the_files_and_other_names_do_not():
    first, again, other = MemoryStore("q1"), open_store("memory://q1"), open_store("memory://q2")
    key, = first.new_keys("job")
    first.create(key, "job", b"x")
    assert again.read(key) == b"x" and again.url == first.url == "memory://q1"
    assert other.list() == [] and MemoryStore().list() == []
    assert MemoryStore().url != MemoryStore().url  # a store opened without a name is a new folder


def test_the_folder_lives_as_long_as_a_handle_on_it():
    store = open_store("memory://short-lived")
    store.create(store.new_keys("job")[0], "job", b"x")
    del store
    gc.collect()
    assert open_store("memory://short-lived").list() == []


@pytest.mark.parametrize("url", ["memory://", "memory://a/b", "memory://a?x=1", "memory://a b", "memory://a.b"])
def test_a_malformed_memory_url_is_refused_with_its_form(url):
    with pytest.raises(BadStoreURL, match="memory://"):
        open_store(url)


def test_a_key_must_have_been_reserved_for_that_name_as_on_a_folder_and_on_redis():
    store = MemoryStore()
    key, = store.new_keys("job")
    for wrong_key, name in ((key, "claim"), ("nodash", "job"), ("job-", "job")):
        with pytest.raises(InvalidKey, match="reserved"):
            store.create(wrong_key, name, b"x")
    assert store.list() == []
