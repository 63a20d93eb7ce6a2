"""How ``colab-worker run`` serves a queue: drivequeue's serve loop with the story server's
handlers and any loaded plugin's, all gathered the same way (``handlers(context)``).

Stories advance together (one ``StoryBatch`` step per model per turn of the
loop, a stepped handler) and each finished line is written at once; a train job
runs in a thread beside them (a plain-function handler). Plugins loaded with
``--plugin`` or ``DRIVEQUEUE_PLUGINS`` add their own kinds' handlers (a plugin's
handler for ``story`` or ``train`` would replace the story server's).
"""

from __future__ import annotations

from collections.abc import Iterable

from drivequeue import Queue
from drivequeue.endings import Endings
from drivequeue.plugins import Plugin, PluginError, handlers_of
from drivequeue.serve import HandlerContext, Server
from drivequeue.shutdown import Shutdown
from drivequeue.worker_cli import package_version
from stories.plugin import KINDS

from .config import WorkerConfig
from .devices import memory_probe
from .model_shelf import ModelShelf
from .story_handler import StoryHandler
from .train_handler import TrainHandler
from .train_speed import TrainingSpeed

#: the module that offers these handlers to a generic worker (``drivequeue worker``)
GENERIC_PLUGIN = "colab_worker.plugin"


class StoryServerHandlers:
    """The story server's handlers, offered as a plugin offers its own (docs/plugins.md):
    the kinds of ``stories.plugin`` and ``handlers(context)``, with this worker's models
    (``shelf``) and settings."""

    KINDS = KINDS

    def __init__(self, shelf: ModelShelf, config: WorkerConfig, device):
        self.shelf = shelf
        self.config = config
        self.device = device
        #: how fast this worker trains (``colab-worker run`` reports it in its heartbeat)
        self.speed = TrainingSpeed(device)

    def handlers(self, context: HandlerContext) -> dict:
        return {
            "story": StoryHandler(self.shelf, self.device, self.config.max_batch, self.config.chunk,
                                  context.endings, context.timing.flush),
            "train": TrainHandler(self.shelf, self.device, self.config.checkpoint_seconds, self.speed),
        }


def serve_queue(queue: Queue, shelf: ModelShelf, config: WorkerConfig, device, device_name: str,
                stop: Shutdown, max_jobs: int | None = None, plugins: Iterable[Plugin] = (),
                kinds: set[str] | None = None) -> None:
    """Serve ``queue`` until ``stop`` is requested (or ``max_jobs`` jobs have ended); ``kinds``:
    only these (each must have a handler), else every kind that has one."""
    context = HandlerContext(store=queue.store, timing=queue.timing, device=str(device), stop=stop,
                             endings=Endings(), cache_dir=config.cache_dir,
                             kinds=None if kinds is None else frozenset(kinds))
    story_server = StoryServerHandlers(shelf, config, device)
    own = Plugin.of("colab_worker", story_server)
    others = [plugin for plugin in plugins if plugin.name != GENERIC_PLUGIN]  # it would load a second shelf
    handlers = handlers_of([own, *others], context, queue.kinds, None if kinds is None else set(kinds))
    missing = sorted(set(kinds or ()) - set(handlers))
    if missing:
        raise PluginError(f"no loaded plugin has a handler for {', '.join(missing)}")
    speed = story_server.speed
    if "train" in handlers:
        speed.measure()
    memory = memory_probe(device)

    def probe() -> dict:  # the heartbeat's device report: memory on a GPU, training speed once measured
        return {**(memory() if memory is not None else {}), **speed.report()}

    Server(queue, handlers, context, device_name=device_name, version=package_version(),
           drain_seconds=config.drain_seconds, max_jobs=max_jobs, probe=probe).run()
