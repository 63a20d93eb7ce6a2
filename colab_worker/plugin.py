"""The story server's handlers for a generic worker:
``drivequeue worker --plugin colab_worker.plugin --kinds story,train``.

Importing it loads nothing heavy. Torch and the default model are loaded only when a
worker asks for the handlers, which ``drivequeue worker`` does only when ``--kinds``
names ``story`` or ``train`` (they are served on request: ``JobKind.serve_by_default``).
The settings are ``colab-worker run``'s, from the environment (``COLAB_WORKER_MODEL``,
``COLAB_WORKER_MAX_BATCH``, ``COLAB_WORKER_THREADS``...); the device is the worker's ``--device``.
"""

from __future__ import annotations

from drivequeue.plugins import PluginError
from stories.plugin import KINDS

__all__ = ["KINDS", "handlers"]


def handlers(context) -> dict:
    from .config import WorkerConfig
    from .devices import pick_device
    from .model_shelf import ModelShelf, ModelUnavailable
    from .serving import StoryServerHandlers

    import torch

    config = WorkerConfig.from_env()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(context.device)
    shelf = ModelShelf(context.store, config.cache_dir, device, default=config.model)
    try:
        shelf.get("default")  # a bad model is reported now, not by the first job
    except ModelUnavailable as exc:
        raise PluginError(f"colab_worker.plugin cannot serve stories: {exc}") from None
    return StoryServerHandlers(shelf, config, device).handlers(context)
