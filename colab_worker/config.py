"""The worker's settings, read once from the environment; ``colab-worker run`` flags override them.

=========================  ==========================================  =====================
variable                   meaning                                     default
=========================  ==========================================  =====================
``DRIVEQUEUE_URL``         the queue (folder path, ``file://``,        ``var/queue``
                           ``drive://id:FOLDER_ID``)
``COLAB_WORKER_MODEL``     model served when a job names none          ``default``
``COLAB_WORKER_DEVICE``    ``auto``, ``cpu``, ``cuda`` or ``cuda:N``   ``auto``
``COLAB_WORKER_MAX_BATCH`` stories decoded together                    ``32``
``COLAB_WORKER_CHUNK``     characters decoded per batched step         ``32``
``COLAB_WORKER_DRAIN``     seconds a warm stop may spend finishing     ``30``
                           the current lines
``COLAB_WORKER_CACHE``     where models fetched from the store are     ``~/.cache/colab-worker``
                           kept
=========================  ==========================================  =====================

Queue timings (lease, heartbeat, poll, backoff) belong to ``drivequeue.timing``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting from the environment or the command line is out of range."""


DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class WorkerConfig:
    queue_url: str = "var/queue"
    model: str = "default"
    device: str = "auto"
    max_batch: int = 32
    chunk: int = 32
    drain_seconds: float = 30.0
    cache_dir: Path = Path("~/.cache/colab-worker").expanduser()

    def __post_init__(self) -> None:
        if not self.queue_url:
            raise ConfigError("the queue URL is empty")
        if not self.model:
            raise ConfigError("the model name is empty")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        if not 1 <= self.max_batch <= 1024:
            raise ConfigError(f"max batch must be 1..1024, not {self.max_batch}")
        if not 1 <= self.chunk <= 4096:
            raise ConfigError(f"chunk must be 1..4096, not {self.chunk}")
        if not 0 <= self.drain_seconds <= 3600:
            raise ConfigError(f"drain time must be 0..3600 seconds, not {self.drain_seconds}")

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> WorkerConfig:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            queue_url=env.get("DRIVEQUEUE_URL", defaults.queue_url),
            model=env.get("COLAB_WORKER_MODEL", defaults.model),
            device=env.get("COLAB_WORKER_DEVICE", defaults.device),
            max_batch=_number(env, "COLAB_WORKER_MAX_BATCH", int, defaults.max_batch),
            chunk=_number(env, "COLAB_WORKER_CHUNK", int, defaults.chunk),
            drain_seconds=_number(env, "COLAB_WORKER_DRAIN", float, defaults.drain_seconds),
            cache_dir=Path(env["COLAB_WORKER_CACHE"]).expanduser()
            if env.get("COLAB_WORKER_CACHE")
            else defaults.cache_dir,
        )


def _number(env, name: str, kind: type, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
