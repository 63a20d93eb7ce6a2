"""The story server's worker: two handlers on ``drivequeue``'s serve loop, beside any plugin's.

Stories advance together (one ``StoryBatch`` step per model per turn of the
loop, a stepped handler) and each finished line is written at once; a train job
runs in a thread beside them (a plain-function handler). Plugins loaded with
``--plugin`` or ``DRIVEQUEUE_PLUGINS`` add their own kinds' handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from drivequeue import Queue
from drivequeue.endings import Endings
from drivequeue.plugins import Plugin, PluginError
from drivequeue.serve import Server, WorkerEnv
from drivequeue.shutdown import Shutdown

from .config import WorkerConfig
from .devices import memory_probe
from .model_shelf import ModelShelf
from .story_handler import StoryHandler
from .train_handler import TrainHandler


def package_version() -> str:
    try:
        return metadata.version("colab-story-server")
    except metadata.PackageNotFoundError:
        return "unknown"


class Worker:
    """Serves ``queue`` until ``stop`` is requested (or ``max_jobs`` jobs have ended)."""

    def __init__(self, queue: Queue, shelf: ModelShelf, config: WorkerConfig, device, device_name: str,
                 stop: Shutdown, max_jobs: int | None = None, plugins: Iterable[Plugin] = ()):
        endings = Endings()
        self.env = WorkerEnv(store=queue.store, timing=queue.timing, device=str(device), stop=stop,
                             endings=endings, cache_dir=config.cache_dir)
        handlers = {
            "story": StoryHandler(shelf, device, config.max_batch, config.chunk, endings, queue.timing.flush),
            "train": TrainHandler(shelf, device, config.checkpoint_seconds),
        }
        for plugin in plugins:
            make = getattr(plugin.module, "handlers", None)
            if make is None:
                continue
            for kind, handler in make(self.env).items():
                if kind not in queue.kinds:
                    raise PluginError(f"plugin {plugin.name!r} has a handler for {kind!r}, a kind no plugin declares")
                handlers[kind] = handler
        self.server = Server(queue, handlers, self.env, device_name=device_name, version=package_version(),
                             drain_seconds=config.drain_seconds, max_jobs=max_jobs, probe=memory_probe(device))

    def run(self) -> None:
        self.server.run()
