"""One timing configuration, from the environment, checked."""

from __future__ import annotations

import pytest

from drivequeue import LocalStore, Queue
from drivequeue.drive import DriveStore
from drivequeue.errors import ConfigError
from drivequeue.redis_store import RedisStore
from drivequeue.timing import Timing

LOCAL = LocalStore.default_timing


def test_each_store_owns_its_defaults():
    assert Timing.from_env(LOCAL, {}) == LOCAL
    drive = Timing.from_env(DriveStore.default_timing, {})
    assert drive.flush > 0 and drive.lease > LOCAL.lease
    redis = RedisStore.default_timing
    assert redis.lease < LOCAL.lease and redis.check < LOCAL.check  # calls are cheap and changes pushed
    assert redis.poll > LOCAL.poll  # an idle worker is woken by messages, not by looking


def test_a_queue_takes_its_stores_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("DRIVEQUEUE_LEASE", raising=False)
    assert Queue(LocalStore(tmp_path / "q")).timing == LOCAL


def test_the_environment_overrides_each_field():
    timing = Timing.from_env(LOCAL, {
        "DRIVEQUEUE_LEASE": "30", "DRIVEQUEUE_HEARTBEAT": "5", "DRIVEQUEUE_MAX_ATTEMPTS": "7",
        "DRIVEQUEUE_RETENTION": "60", "DRIVEQUEUE_MAX_QUEUE_WAIT": "120", "DRIVEQUEUE_FLUSH": " ",
        "DRIVEQUEUE_GC_INTERVAL": "0",
    })
    assert (timing.lease, timing.heartbeat, timing.max_attempts) == (30.0, 5.0, 7)
    assert (timing.retention, timing.max_queue_wait, timing.gc_interval) == (60.0, 120.0, 0.0)
    assert timing.flush == LOCAL.flush


@pytest.mark.parametrize("env", [
    {"DRIVEQUEUE_LEASE": "soon"},
    {"DRIVEQUEUE_LEASE": "-1"},
    {"DRIVEQUEUE_MAX_ATTEMPTS": "1.5"},
    {"DRIVEQUEUE_MAX_ATTEMPTS": "0"},
    {"DRIVEQUEUE_HEARTBEAT": "9"},  # a holder would fence itself between two beats
])
def test_bad_settings_are_named_in_the_error(env):
    with pytest.raises(ConfigError, match="DRIVEQUEUE_|max_attempts|heartbeat|non-negative"):
        Timing.from_env(LOCAL, env)


def test_a_store_without_defaults_needs_a_timing(tmp_path):
    class Bare(LocalStore):
        default_timing = None

    with pytest.raises(ConfigError, match="default_timing"):
        Queue(Bare(tmp_path / "q"))


def test_fence_is_inside_the_lease():
    timing = Timing(lease=1.0, heartbeat=0.1)
    assert timing.heartbeat * 2 < timing.fence < timing.lease
