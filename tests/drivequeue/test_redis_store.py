"""What only the Redis store does: its URLs, change messages, big files, durability and outages.

The store contract, the race of worker processes for jobs and the chaos test run on Redis too
(``STORE_FACTORIES``); these tests use real ``redis-server`` processes, some started with
settings of their own.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import replace

import pytest

from drivequeue import Queue, open_store
from drivequeue import redis_store
from drivequeue.errors import BadStoreURL, ChecksumMismatch, ConfigError, FileTooBig, KeyExists, StoreUnavailable
from drivequeue.redis_store import RedisStore, split_redis_url
from drivequeue.urls import default_url, is_shared, redact

from .lines_plugin import BY_NAME
from .redis_fixtures import RedisServer


@pytest.fixture
def store(redis_server):
    store = open_store(redis_server.queue_url())
    yield store
    store.close()


@pytest.fixture
def crashable(tmp_path):
    """A server of this test's own, to kill and restart (durable settings)."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


# -- URLs and the environment ------------------------------------------------------------------


def test_redis_and_rediss_urls_open_a_redis_store(redis_server):
    store = open_store(redis_server.queue_url("stories"))
    assert isinstance(store, RedisStore) and store.queue == "stories"
    assert split_redis_url("rediss://:pw@host.example:6380/2?ssl_cert_reqs=none&queue=q") == (
        "rediss://:pw@host.example:6380/2?ssl_cert_reqs=none", "q")
    assert split_redis_url("redis://localhost")[1] == "main"


@pytest.mark.parametrize("url, environ", [
    ("rediss://:secret@127.0.0.1:1/0?ssl_cert_reqs=none", {}),
    ("rediss://:secret@127.0.0.1:1/0", {"DRIVEQUEUE_REDIS_SSL_CERT_REQS": "none"}),  # REDIS_URL as Heroku sets it
])
def test_herokus_self_signed_tls_form_is_accepted(url, environ):
    store = redis_store.open_redis_store(url, environ)
    kwargs = store.client.connection_pool.connection_kwargs
    assert kwargs["ssl_cert_reqs"] == "none"  # redis-py's name for "do not check the certificate"
    assert store.url == url  # reopened the same way


def test_a_bad_certificate_setting_is_named():
    with pytest.raises(ConfigError, match="DRIVEQUEUE_REDIS_SSL_CERT_REQS"):
        redis_store.open_redis_store("rediss://h:1", {"DRIVEQUEUE_REDIS_SSL_CERT_REQS": "maybe"})


@pytest.mark.parametrize("url", ["redis://", "redis://host?queue=Bad-Name", "rediss:///0"])
def test_malformed_redis_urls_are_refused(url):
    with pytest.raises(BadStoreURL):
        open_store(url)


def test_drivequeue_url_wins_over_redis_url():
    assert default_url({"REDIS_URL": "redis://h:1"}) == "redis://h:1"
    assert default_url({"REDIS_URL": "redis://h:1", "DRIVEQUEUE_URL": "drive://id:x"}) == "drive://id:x"
    with pytest.raises(BadStoreURL, match="no queue is named"):
        default_url({})
    assert is_shared("redis://h:1") and is_shared("drive://id:x") and not is_shared("var/queue")


def test_passwords_stay_out_of_logs():
    assert redact("rediss://:s3cret@host:6380/0?queue=q") == "rediss://:***@host:6380/0?queue=q"
    assert redact("redis://user:s3cret@host:6380") == "redis://user:***@host:6380"
    assert redact("drive://id:abc") == "drive://id:abc"
    assert redact("redis://host:6380/0?queue=q&password=s3cret") == "redis://host:6380/0?queue=q&password=***"
    assert redact("var/queue") == "var/queue" and redact("file:///srv/q") == "file:///srv/q"


def test_a_wrong_password_says_to_update_the_url(tmp_path):
    server = RedisServer(tmp_path / "locked", settings=("--requirepass", "right")).start()
    try:
        store = open_store(server.url.replace("redis://", "redis://:wrong@"))
        with pytest.raises(StoreUnavailable, match="REDIS_URL"):
            store.list()
    finally:
        server.kill()


# -- change messages ------------------------------------------------------------------------------


def test_wait_wakes_at_once_on_a_create_and_not_for_heartbeats(store, redis_server):
    assert store.wait(0.01) is True  # the first call subscribes: changes before it may be missed
    other = open_store(store.url)
    heartbeat, = other.new_keys("worker")
    other.create(heartbeat, "worker", b"{}")
    time.sleep(0.05)
    assert store.wait(0.05) is True  # a create of anything wakes
    other.write(heartbeat, b"{}")
    assert store.wait(0.2) is False  # a heartbeat's rewrite does not
    job, = other.new_keys("job")
    woke = []
    waiter = threading.Thread(target=lambda: woke.append((store.wait(10.0), time.monotonic())))
    waiter.start()
    time.sleep(0.2)
    sent = time.monotonic()
    other.create(job, "job", b"{}")
    waiter.join(5)
    assert woke and woke[0][0] is True
    assert woke[0][1] - sent < 1.0  # within milliseconds; a second here covers a loaded machine
    other.close()


def test_an_idle_wait_makes_no_calls(store, redis_server):
    store.wait(0.01)
    client = store.client

    def count_commands():
        return client.info("stats")["total_commands_processed"]

    before = count_commands()
    assert store.wait(1.0) is False
    assert count_commands() - before <= 1  # the INFO call itself; waiting sent nothing


# -- big files --------------------------------------------------------------------------------------


def test_upload_sends_chunks_and_download_checks_the_md5(store, tmp_path, monkeypatch):
    monkeypatch.setattr(redis_store, "CHUNK_SIZE", 1000)
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 20)  # 5120 bytes: six chunks
    key, = store.new_keys("blob")
    sent = []
    assert store.upload(key, "blob", source, progress=sent.append) == hashlib.md5(source.read_bytes()).hexdigest()
    assert sent == [1000] * 5 + [120]
    assert store.client.llen(store._data(key)) == 6
    received = []
    store.download(key, tmp_path / "back.bin", progress=received.append)
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes() and sum(received) == 5120
    assert store.read(key) == source.read_bytes()
    with pytest.raises(KeyExists):
        store.upload(key, "blob", source)
    store.client.lset(store._data(key), 2, b"x" * 1000)  # damage it in the database
    with pytest.raises(ChecksumMismatch):
        store.download(key, tmp_path / "bad.bin")


def test_an_empty_file_uploads_and_downloads(store, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    key, = store.new_keys("blob")
    assert store.upload(key, "blob", tmp_path / "empty") == hashlib.md5(b"").hexdigest()
    store.download(key, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == b""


def test_files_over_the_limit_are_refused_and_nothing_is_stored(store, tmp_path, monkeypatch):
    monkeypatch.setattr(redis_store, "MAX_FILE_BYTES", 100)
    (tmp_path / "big").write_bytes(b"x" * 101)
    key, = store.new_keys("blob")
    with pytest.raises(FileTooBig, match="Google Drive"):
        store.upload(key, "blob", tmp_path / "big")
    with pytest.raises(FileTooBig):
        store.create(key, "blob", b"x" * 101)
    assert not store.exists(key) and store.list() == []


# -- durability and outages ----------------------------------------------------------------------


def test_a_server_that_would_lose_writes_is_warned_about(tmp_path, caplog):
    lossy = RedisServer(tmp_path / "lossy", settings=("--appendonly", "no")).start()
    everysec = RedisServer(tmp_path / "everysec", settings=("--appendonly", "yes", "--appendfsync", "everysec"))
    everysec.start()
    try:
        with caplog.at_level(logging.WARNING, logger="drivequeue.redis_store"):
            open_store(lossy.queue_url())
            open_store(everysec.queue_url())
        assert "keeps no append-only file" in caplog.text
        assert "'everysec', not 'always'" in caplog.text
    finally:
        lossy.kill()
        everysec.kill()


def test_a_durable_server_gets_no_warning(crashable, caplog):
    with caplog.at_level(logging.WARNING, logger="drivequeue.redis_store"):
        store = open_store(crashable.queue_url())
    assert store.durability_warning() is None and caplog.text == ""


def test_acknowledged_jobs_and_served_lines_survive_kill_9_of_the_server(crashable, fast_timing):
    url = crashable.queue_url("durable")
    timing = replace(fast_timing, lease=10.0, heartbeat=0.5)  # the claim outlives the restart
    queue = Queue(open_store(url), timing, kinds=BY_NAME)
    jobs = [queue.submit("lines", {"text": f"job {i}", "count": 5}) for i in range(20)]  # acknowledged
    by_key = {job.split(".")[0]: job for job in jobs}
    with queue.worker(host="test", device="cpu", offers=["default"]) as session:
        claim = session.claim_next({"lines"})
        claim.append(["first line", "second line"])  # returned: the worker was told they are written
        served = queue.status(by_key[claim.job_key])["lines"]  # what the web API would show
        crashable.kill()
        with pytest.raises(StoreUnavailable):
            queue.status(jobs[0])
        crashable.start()
        after = Queue(open_store(url), timing, kinds=BY_NAME)  # a fresh process: nothing from caches
        statuses = {key: after.status(job) for key, job in by_key.items()}
        assert all(status["status"] in ("queued", "running") for status in statuses.values())
        assert statuses[claim.job_key]["lines"] == served == ["first line", "second line"]
        assert sum(status["line_count"] for status in statuses.values()) == 2
        claim.append(["third line"])  # the worker carries on once the server is back
        assert after.status(by_key[claim.job_key])["lines"][-1] == "third line"


def test_calls_during_an_outage_raise_store_unavailable(crashable):
    store = open_store(crashable.queue_url())
    key, = store.new_keys("job")
    store.create(key, "job", b"x")
    store.wait(0.01)
    crashable.kill()
    for call in (lambda: store.read(key), lambda: store.write(key, b"y"), lambda: store.list(),
                 lambda: store.create(store.new_keys("job")[0], "job", b"z"), lambda: store.wait(0.1)):
        with pytest.raises(StoreUnavailable, match="cannot reach Redis"):
            call()
    crashable.start()
    assert store.read(key) == b"x"
    assert store.wait(0.01) is True  # subscribed again; what changed meanwhile may have been missed


def test_a_create_counter_that_holds_something_else_makes_readers_list_instead(store):
    job, = store.new_keys("job")
    store.create(job, "job", b"{}")
    entries, cursor = store.created_since(None)
    assert [entry.key for entry in entries] == [job]
    store.client.delete(store._sequence)
    store.client.hset(store._sequence, "junk", "1")  # a hash where the counter was
    assert store.created_since(None) is None  # the reader lists the files instead
    assert [entry.key for entry in store.list("job")] == [job]
    assert [item.key for item in store.bad.items()] == [store._sequence]
