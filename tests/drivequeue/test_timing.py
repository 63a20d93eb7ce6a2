"""One timing configuration, from the environment, checked."""

from __future__ import annotations

import pytest

from drivequeue.errors import ConfigError
from drivequeue.timing import DEFAULTS, Timing


def test_defaults_depend_on_the_store():
    assert Timing.from_env("local", {}) == DEFAULTS["local"]
    drive = Timing.from_env("drive", {})
    assert drive.flush > 0 and drive.lease > DEFAULTS["local"].lease


def test_the_environment_overrides_each_field():
    timing = Timing.from_env("local", {
        "DRIVEQUEUE_LEASE": "30", "DRIVEQUEUE_HEARTBEAT": "5", "DRIVEQUEUE_MAX_ATTEMPTS": "7",
        "DRIVEQUEUE_RETENTION": "60", "DRIVEQUEUE_MAX_QUEUE_WAIT": "120", "DRIVEQUEUE_FLUSH": " ",
        "DRIVEQUEUE_GC_INTERVAL": "0",
    })
    assert (timing.lease, timing.heartbeat, timing.max_attempts) == (30.0, 5.0, 7)
    assert (timing.retention, timing.max_queue_wait, timing.gc_interval) == (60.0, 120.0, 0.0)
    assert timing.flush == DEFAULTS["local"].flush


@pytest.mark.parametrize("env", [
    {"DRIVEQUEUE_LEASE": "soon"},
    {"DRIVEQUEUE_LEASE": "-1"},
    {"DRIVEQUEUE_MAX_ATTEMPTS": "1.5"},
    {"DRIVEQUEUE_MAX_ATTEMPTS": "0"},
    {"DRIVEQUEUE_HEARTBEAT": "9"},  # a holder would fence itself between two beats
])
def test_bad_settings_are_named_in_the_error(env):
    with pytest.raises(ConfigError, match="DRIVEQUEUE_|max_attempts|heartbeat|non-negative"):
        Timing.from_env("local", env)


def test_unknown_store_kind():
    with pytest.raises(ConfigError):
        Timing.from_env("s3", {})


def test_fence_is_inside_the_lease():
    timing = Timing(lease=1.0, heartbeat=0.1)
    assert timing.heartbeat * 2 < timing.fence < timing.lease
