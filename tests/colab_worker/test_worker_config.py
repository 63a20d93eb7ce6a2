"""The worker's settings from the environment, with clear errors for bad values."""

from pathlib import Path

import pytest

from colab_worker.config import ConfigError, WorkerConfig


def test_defaults_without_environment():
    config = WorkerConfig.from_env({})
    assert config.model == "default"
    assert config.device == "auto"
    assert config.max_batch == 32


def test_values_from_environment():
    config = WorkerConfig.from_env(
        {
            "COLAB_WORKER_MODEL": "grimm",
            "COLAB_WORKER_DEVICE": "cuda:1",
            "COLAB_WORKER_MAX_BATCH": "8",
            "COLAB_WORKER_THREADS": "1",
            "COLAB_WORKER_DRAIN": "2.5",
            "COLAB_WORKER_CACHE": "/tmp/models",
        }
    )
    assert (config.model, config.device) == ("grimm", "cuda:1")
    assert (config.max_batch, config.threads, config.drain_seconds) == (8, 1, 2.5)
    assert config.cache_dir == Path("/tmp/models")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"COLAB_WORKER_MAX_BATCH": "many"}, "COLAB_WORKER_MAX_BATCH must be a number"),
        ({"COLAB_WORKER_MAX_BATCH": "0"}, "max batch"),
        ({"COLAB_WORKER_DEVICE": "tpu"}, "device"),
        ({"COLAB_WORKER_DRAIN": "-1"}, "drain"),
        ({"COLAB_WORKER_THREADS": "0"}, "threads"),
    ],
)
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(ConfigError, match=message):
        WorkerConfig.from_env(env)
