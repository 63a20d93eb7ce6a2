"""DriveStore on the emulator, through the real google-api-python-client: what is special to Drive."""

from __future__ import annotations

import json
import threading
import time

import pytest

from drivequeue.drive import DriveStore, open_drive_store
from drivequeue.drive_settings import DriveSettings
from drivequeue.drive_url import parse_drive_url
from drivequeue.emulator import Emulator
from drivequeue.errors import BadStoreURL, ConfigError, KeyExists, NotFound, StoreUnavailable, UnreadableFile
from drivequeue.urls import open_store


@pytest.fixture
def folder(drive_env):
    return drive_env.create_folder("queue")


@pytest.fixture
def store(folder):
    return open_store(f"drive://id:{folder}")


def test_keys_are_drive_ids_fetched_in_batches(store, drive_env):
    keys = store.new_keys("job", 30) + store.new_keys("claim", 10)
    assert len(set(keys)) == 40
    assert store.calls["files.generateIds"] == 1
    assert drive_env.requests["files.generateIds"] == 1


def test_a_create_whose_answer_was_lost_still_succeeds_once(store, drive_env):
    key, = store.new_keys("claim")
    drive_env.faults.script = ["drop-after", "drop-after"]  # both httplib2's resend and ours lose the answer
    store.create(key, "claim", b"mine")
    assert store.read(key) == b"mine"
    assert drive_env.requests["files.create"] == 3
    assert [e.key for e in store.list("claim")] == [key]


def test_a_lost_answer_does_not_hide_that_someone_else_won(store, folder, drive_env):
    key, = store.new_keys("claim")
    open_store(f"drive://id:{folder}").create(key, "claim", b"theirs")
    drive_env.faults.script = ["drop-before", "drop-before"]
    with pytest.raises(KeyExists):
        store.create(key, "claim", b"mine")
    assert store.read(key) == b"theirs"


@pytest.mark.parametrize("fault", [403, 429, 500, 503, "drop-before"])
def test_transient_failures_are_retried(store, drive_env, fault):
    key, = store.new_keys("job")
    store.create(key, "job", b"x")
    before = store.calls["files.get_media"]
    drive_env.faults.script = [fault] * 3
    assert store.read(key) == b"x"
    # a dropped connection is resent once by httplib2 itself before the store retries
    assert store.calls["files.get_media"] - before == (2 if fault == "drop-before" else 4)


def test_retries_stop_after_the_budget_with_a_clear_error(folder, drive_env, monkeypatch):
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_RETRY_BUDGET", "0.3")
    store = open_store(f"drive://id:{folder}")
    drive_env.faults.fail_rate, drive_env.faults.statuses = 1.0, (503,)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"kept failing on changes.getStartPageToken \(HTTP 503 backendError\)"):
        store.list()
    assert time.monotonic() - started < 2.0
    assert store.calls["changes.getStartPageToken"] >= 3


def test_a_listing_sees_other_handles_creates_at_once_despite_lagging_name_listings(monkeypatch):
    with Emulator(list_lag_s=30) as emulator:
        folder = emulator.create_folder("queue")
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        reader, writer = (open_drive_store(f"drive://id:{folder}", settings) for _ in range(2))
        assert reader.list() == []
        key, = writer.new_keys("job")
        writer.create(key, "job", b"{}")
        assert [e.key for e in reader.list("job")] == [key]
        writer.delete(key)
        assert reader.list() == []


def test_a_handle_lists_its_own_creates_even_before_its_first_listing():
    with Emulator(list_lag_s=30) as emulator:
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        store = open_drive_store(f"drive://id:{emulator.create_folder('queue')}", settings)
        key, = store.new_keys("job")
        store.create(key, "job", b"{}")
        assert [e.key for e in store.list("job")] == [key]


def test_files_created_before_the_feed_began_are_found_by_reconciling():
    with Emulator(list_lag_s=3) as emulator:
        folder = emulator.create_folder("queue")
        settings = DriveSettings(token=json.dumps(emulator.token_info()), endpoint=emulator.url)
        writer = open_drive_store(f"drive://id:{folder}", settings)
        reader = DriveStore(settings.api(), folder, reconcile_s=0.5)
        key, = writer.new_keys("job")
        writer.create(key, "job", b"{}")
        assert reader.list() == []  # the seeding listing lags, and the change came before the feed began
        deadline = time.monotonic() + 20
        while not reader.list() and time.monotonic() < deadline:  # a later reconciling listing finds it
            time.sleep(0.2)
        assert [e.key for e in reader.list()] == [key]


def test_steady_state_listing_and_reading_cost_one_call_each(store):
    key, = store.new_keys("output")
    store.create(key, "output", b"line 1")
    store.list()
    store.read(key)
    before = store.calls.copy()
    for _ in range(10):
        store.list()
        store.read(key)
    spent = store.calls - before
    assert spent == {"changes.list": 10, "files.get_media": 10}


def test_keys_outside_the_folder_are_not_found(store, drive_env):
    other = open_store(f"drive://id:{drive_env.create_folder('other')}")
    key, = other.new_keys("job")
    other.create(key, "job", b"elsewhere")
    assert not store.exists(key)
    for operation in (lambda: store.read(key), lambda: store.write(key, b"x")):
        with pytest.raises(NotFound):
            operation()
    store.delete(key)
    assert other.read(key) == b"elsewhere"


def test_a_folder_is_found_by_name_but_never_created(drive_env):
    folder = drive_env.create_folder("stories")
    assert open_store("drive://stories").url == f"drive://id:{folder}"
    with pytest.raises(BadStoreURL, match="drivequeue folder missing"):
        open_store("drive://missing")
    assert drive_env.requests["files.create"] == 0
    second = drive_env.create_folder("stories")
    with pytest.raises(BadStoreURL, match=f"drive://id:{second}"):
        open_store("drive://stories")


def test_an_unknown_folder_id_is_a_clear_error(drive_env):
    with pytest.raises(BadStoreURL, match="no Drive folder 1nope that this app can see"):
        open_store("drive://id:1nope")


@pytest.mark.parametrize("url", ["drive://", "drive://id:", "drive://id:a/b", "drive://a/b"])
def test_malformed_drive_urls(url):
    with pytest.raises(BadStoreURL):
        parse_drive_url(url)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:8765", "http://127.0.0.1:8765/drive/v3/", "ftp://x"])
def test_the_endpoint_must_be_an_origin(endpoint):
    with pytest.raises(ConfigError, match="origin only"):
        DriveSettings.from_env({"DRIVEQUEUE_DRIVE_ENDPOINT": endpoint})


def test_one_client_serves_many_threads(store):
    keys = store.new_keys("job", 40)
    errors = []

    def work(chunk):
        try:
            for key in chunk:
                store.create(key, "job", key.encode())
                assert store.read(key) == key.encode()
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(keys[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {e.key for e in store.list("job")} == set(keys)


@pytest.mark.parametrize("mime", ["application/vnd.google-apps.folder", "application/vnd.google-apps.document"])
@pytest.mark.parametrize("following", [False, True])
def test_a_folder_or_google_file_at_a_key_is_that_item_only_never_an_outage(store, drive_env, mime, following):
    key, good = store.new_keys("claim", 2)
    drive_env.drive.create({"id": key, "name": "claim", "mimeType": mime, "parents": [store.folder_id]}, b"")
    store.create(good, "claim", b"{}")
    if following:
        store.follow_changes(0.01)
    assert [entry.key for entry in store.list("claim")] == [good]  # skipped by listings
    with pytest.raises(UnreadableFile, match="on Drive"):
        store.read(key)
    assert store.exists(key) and store.read(good) == b"{}"
    store.delete(key)  # not the queue's to remove: left alone, and no error
    assert drive_env.drive.get(key).mime_type == mime
    assert [item.key for item in store.bad.items()] == [key]
