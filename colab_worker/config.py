"""The worker's settings, read once from the environment; ``colab-worker run`` flags override them.

* ``COLAB_WORKER_MODEL``: what jobs asking for ``default`` get, a model name or a
  ``.pt`` path (default: ``default``, the shipped model);
* ``COLAB_WORKER_DEVICE``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (``auto``);
* ``COLAB_WORKER_MAX_BATCH``: stories decoded together (32);
* ``COLAB_WORKER_CHUNK``: tokens decoded per story per batched step (32);
* ``COLAB_WORKER_THREADS``: CPU threads for torch (torch's choice; 1 is much faster
  on a small CPU shared with other processes);
* ``COLAB_WORKER_DRAIN``: seconds a warm stop may spend finishing current lines (30);
* ``COLAB_WORKER_CHECKPOINT``: seconds between two uploads of a train job's
  checkpoint to the queue (60);
* ``COLAB_WORKER_CACHE``: where models and corpora fetched from the queue are kept
  (``~/.cache/colab-worker``).

The queue itself (``DRIVEQUEUE_URL``) and its timings (lease, heartbeat, poll,
backoff) are ``drivequeue``'s settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drivequeue import ConfigError  # one family of setting errors for every package
from drivequeue.env import Env


DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class WorkerConfig:
    model: str = "default"
    device: str = "auto"
    max_batch: int = 32
    chunk: int = 32
    threads: int | None = None
    drain_seconds: float = 30.0
    checkpoint_seconds: float = 60.0
    cache_dir: Path = Path("~/.cache/colab-worker").expanduser()

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("the model name is empty")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        if not 1 <= self.max_batch <= 1024:
            raise ConfigError(f"max batch must be 1..1024, not {self.max_batch}")
        if not 1 <= self.chunk <= 4096:
            raise ConfigError(f"chunk must be 1..4096, not {self.chunk}")
        if self.threads is not None and not 1 <= self.threads <= 1024:
            raise ConfigError(f"threads must be 1..1024, not {self.threads}")
        if not 0 <= self.drain_seconds <= 3600:
            raise ConfigError(f"drain time must be 0..3600 seconds, not {self.drain_seconds}")
        if not 0 <= self.checkpoint_seconds <= 24 * 3600:
            raise ConfigError(f"checkpoint interval must be 0..86400 seconds, not {self.checkpoint_seconds}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerConfig:
        env = Env(environ)
        defaults = cls()
        return cls(
            model=env.text("COLAB_WORKER_MODEL", defaults.model),
            device=env.text("COLAB_WORKER_DEVICE", defaults.device),
            max_batch=env.number("COLAB_WORKER_MAX_BATCH", int, defaults.max_batch),
            chunk=env.number("COLAB_WORKER_CHUNK", int, defaults.chunk),
            threads=env.number("COLAB_WORKER_THREADS", int, defaults.threads),
            drain_seconds=env.number("COLAB_WORKER_DRAIN", float, defaults.drain_seconds),
            checkpoint_seconds=env.number("COLAB_WORKER_CHECKPOINT", float, defaults.checkpoint_seconds),
            cache_dir=env.path("COLAB_WORKER_CACHE", defaults.cache_dir),
        )
