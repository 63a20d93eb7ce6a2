"""The models a worker serves: ``default`` plus every model published in the queue's store.

A train job publishes its model as the pushed file ``models/<name>.pt``. A worker
lists those files now and then, announces their names in its heartbeat (so it
claims story jobs that ask for them), and downloads a model the first time a job
needs it, into a local cache keyed by the file's MD5: a re-published model is
fetched again, an unchanged one never.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from pathlib import Path

from drivequeue import NotFound
from drivequeue import files as pushed_files
from drivequeue.store import Store

from .checkpoint import CheckpointError, LoadedModel, load_model

log = logging.getLogger(__name__)

DEFAULT = "default"
PUBLISHED = re.compile(r"models/([a-z0-9][a-z0-9_-]{0,39})\.pt")
#: seconds between two listings of the published models
REFRESH_SECONDS = 30.0


class ModelUnavailable(Exception):
    """A model that cannot be served: never published, or its file does not load."""


def published_name(model: str) -> str:
    """The pushed-file name a model is published under."""
    return f"models/{model}.pt"


class ModelShelf:
    """Loads models on first use and keeps them; safe to share with the training thread."""

    def __init__(self, store: Store, cache_dir: Path, device, default: str = DEFAULT,
                 refresh_seconds: float = REFRESH_SECONDS):
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.default = default
        self.refresh_seconds = refresh_seconds
        self._published: dict[str, pushed_files.StoredFile] = {}
        self._loaded: dict[str, tuple[str, LoadedModel]] = {}  # name -> (version, model)
        self._lock = threading.Lock()
        self._next_refresh = 0.0

    def names(self) -> list[str]:
        with self._lock:
            return [DEFAULT, *sorted(self._published)]

    def refresh(self, force: bool = False) -> None:
        """List the published models (at most every ``refresh_seconds``)."""
        now = time.monotonic()
        if force or now >= self._next_refresh:
            self._next_refresh = now + self.refresh_seconds
            found = {}
            for stored in pushed_files.stored_files(self.store):
                match = PUBLISHED.fullmatch(stored.name)
                if match and match.group(1) != DEFAULT:
                    found[match.group(1)] = stored
            with self._lock:
                new = sorted(set(found) - set(self._published))
                self._published = found
            if new:
                log.info("models published in the queue: %s", ", ".join(new))

    def get(self, name: str) -> LoadedModel:
        """The model ``name``, loaded on this worker's device; ``ModelUnavailable`` if it cannot be."""
        if name == DEFAULT:
            return self._load(DEFAULT, self.default, lambda: self.default)
        with self._lock:
            stored = self._published.get(name)
        if stored is None:
            self.refresh(force=True)
            with self._lock:
                stored = self._published.get(name)
        if stored is None:
            raise ModelUnavailable(f"no model named {name!r} has been published in this queue")
        return self._load(name, stored.md5, lambda: self._download(name, stored))

    def publish(self, name: str, path: Path) -> None:
        """Push the model file ``path`` as ``name``; other workers see it at their next refresh."""
        stored = pushed_files.push(self.store, path, published_name(name))
        cached = self._cache_path(name, stored)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + ".part")
        shutil.copyfile(path, partial)  # this worker need not download what it just uploaded
        partial.replace(cached)
        with self._lock:
            self._published[name] = stored
        log.info("model %s published (%d bytes)", name, stored.size)

    # -- helpers -------------------------------------------------------------------------------

    def _load(self, name: str, version: str, source) -> LoadedModel:
        with self._lock:
            held = self._loaded.get(name)
        if held is not None and held[0] == version:
            return held[1]
        try:
            loaded = load_model(source(), self.device)
        except CheckpointError as exc:
            raise ModelUnavailable(f"model {name!r} cannot be loaded: {exc}") from None
        with self._lock:
            self._loaded[name] = (version, loaded)
        log.info("model %s loaded on %s", name, self.device)
        return loaded

    def _cache_path(self, name: str, stored: pushed_files.StoredFile) -> Path:
        return self.cache_dir / "models" / f"{name}-{stored.md5}.pt"

    def _download(self, name: str, stored: pushed_files.StoredFile) -> Path:
        target = self._cache_path(name, stored)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                pushed_files.pull(self.store, stored.name, target)
            except NotFound:
                raise ModelUnavailable(f"model {name!r} was removed from the queue") from None
            log.info("model %s downloaded (%d bytes)", name, stored.size)
        return target
