"""The story server's worker: two handlers on ``drivequeue``'s serve loop, beside any plugin's.

Stories advance together (one ``StoryBatch`` step per model per turn of the
loop, a stepped handler) and each finished line is written at once; a train job
runs in a thread beside them (a plain-function handler). Plugins loaded with
``--plugin`` or ``DRIVEQUEUE_PLUGINS`` add their own kinds' handlers; ``kinds``
limits it to some kinds.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivequeue import Queue
from drivequeue.endings import Endings
from drivequeue.plugins import Plugin, PluginError, handlers_of
from drivequeue.serve import Server, WorkerEnv
from drivequeue.shutdown import Shutdown
from drivequeue.worker_cli import package_version

from .config import WorkerConfig
from .devices import memory_probe
from .model_shelf import ModelShelf
from .story_handler import StoryHandler
from .train_handler import TrainHandler


class Worker:
    """Serves ``queue`` until ``stop`` is requested (or ``max_jobs`` jobs have ended)."""

    def __init__(self, queue: Queue, shelf: ModelShelf, config: WorkerConfig, device, device_name: str,
                 stop: Shutdown, max_jobs: int | None = None, plugins: Iterable[Plugin] = (),
                 kinds: set[str] | None = None):
        endings = Endings()
        requested, kinds = kinds is not None, set(queue.kinds if kinds is None else kinds)
        self.env = WorkerEnv(store=queue.store, timing=queue.timing, device=str(device), stop=stop,
                             endings=endings, cache_dir=config.cache_dir, kinds=frozenset(kinds))
        handlers = {
            "story": StoryHandler(shelf, device, config.max_batch, config.chunk, endings, queue.timing.flush),
            "train": TrainHandler(shelf, device, config.checkpoint_seconds),
        }
        handlers.update(handlers_of(plugins, self.env, kinds, queue.kinds))
        missing = sorted(kinds - set(handlers))
        if requested and missing:
            raise PluginError(f"no loaded plugin has a handler for {', '.join(missing)}")
        handlers = {kind: handler for kind, handler in handlers.items() if kind in kinds}
        self.server = Server(queue, handlers, self.env, device_name=device_name, version=package_version(),
                             drain_seconds=config.drain_seconds, max_jobs=max_jobs, probe=memory_probe(device))

    def run(self) -> None:
        self.server.run()
