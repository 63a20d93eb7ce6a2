"""Choose a store by URL, from a registry of URL schemes.

================================  ===========================================================
``/a/path``, ``file:///a/path``   a local folder (``LocalStore``)
``drive://id:FOLDER_ID``          a Google Drive folder (``drivequeue.drive``)
``redis://...``, ``rediss://...``  a Redis database (``drivequeue.redis_store``)
``memory://NAME``                 a folder in this process's memory (``drivequeue.memory``)
================================  ===========================================================

Without a URL, ``DRIVEQUEUE_URL`` from the environment is used, else
``REDIS_URL`` (the variable Heroku's Key-Value Store add-on sets); with neither,
``BadStoreURL`` says so: no tool picks a folder of its own. Each backend's module is imported only when a URL
asks for it, so a local queue needs neither the Google libraries nor redis-py.
Each store class says its own default timings (``default_timing``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .env import Env
from .errors import BadStoreURL
from .local import LocalStore
from .store import Store

#: what a tool says when no queue is named
NO_QUEUE = ("no queue is named: pass --queue URL, or set DRIVEQUEUE_URL to a folder (var/queue, "
            "file:///path), drive://id:FOLDER_ID or redis://...")


@dataclass(frozen=True)
class Backend:
    """How the stores of one URL scheme are opened."""

    #: ``module:function`` taking the URL and returning a store
    opener: str
    #: what the backend is, for errors ("Google Drive", "Redis")
    label: str
    #: other machines can reach it: a web app on Heroku and remote workers can share it
    shared: bool
    #: the modules whose absence means the backend's libraries are not installed
    needs: tuple[str, ...] = ()
    #: its opener takes ``patience`` (see ``open_store``); others answer within their own timeouts
    patient: bool = False


BACKENDS: dict[str, Backend] = {
    "file": Backend("drivequeue.urls:open_folder", "a local folder", shared=False),
    "drive": Backend("drivequeue.drive:open_drive_store", "Google Drive", shared=True,
                     needs=("googleapiclient", "google"), patient=True),
    "redis": Backend("drivequeue.redis_store:open_redis_store", "Redis", shared=True, needs=("redis",)),
    "rediss": Backend("drivequeue.redis_store:open_redis_store", "Redis", shared=True, needs=("redis",)),
    "memory": Backend("drivequeue.memory:open_memory_store", "memory", shared=False),
}


def default_url(environ: Mapping[str, str] | None = None) -> str:
    """The queue URL the environment names: ``DRIVEQUEUE_URL``, else ``REDIS_URL``; ``BadStoreURL``
    if neither is set."""
    env = Env(environ)
    url = env.text("DRIVEQUEUE_URL") or env.text("REDIS_URL")
    if not url:
        raise BadStoreURL(NO_QUEUE)
    return url


def scheme_of(url: str) -> str:
    """The registry scheme of ``url`` ("file" for a plain path); ``BadStoreURL`` if none fits."""
    if "://" not in url and not url.startswith("file:"):
        return "file"
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise BadStoreURL(f"unknown queue URL scheme {scheme!r}: use a folder path or one of {known}")
    return scheme


def is_shared(url: str) -> bool:
    """Whether the store ``url`` names can be reached from other machines."""
    return BACKENDS[scheme_of(url)].shared


def open_store(url: str | None = None, patience: float | None = None) -> Store:
    """Open the store that ``url`` names (see the module docstring).

    ``patience``: the most seconds one store call may spend on an unreachable
    service, retries and a hung request included, before ``StoreUnavailable``
    (None: the store's own default, meant for workers; a web app wants an answer
    in time for its router).
    """
    url = default_url() if url is None else url.strip()
    if not url:
        raise BadStoreURL("the queue URL is empty")
    backend = BACKENDS[scheme_of(url)]
    module_name, _, function = backend.opener.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name != module_name and exc.name not in backend.needs:
            raise
        raise BadStoreURL(
            f"cannot open {url.split('://')[0]}://...: {backend.label} support is not available here ({exc.msg})"
        ) from None
    opener = getattr(module, function)
    return opener(url) if patience is None or not backend.patient else opener(url, patience=patience)


def open_existing_store(url: str | None = None) -> Store:
    """``open_store(url)`` for a person's command: a queue folder that does not exist is a
    ``BadStoreURL`` naming it (a typo, or a command run in another folder, must not create a new,
    empty queue)."""
    url = default_url() if url is None else url.strip()
    if url and scheme_of(url) == "file":
        path = _file_url_path(url) if "://" in url or url.startswith("file:") else url
        if not os.path.exists(path):
            raise BadStoreURL(f"there is no queue folder {os.path.abspath(path)}: check the path (a queue folder "
                              "is created by the web app or a worker started on it, or by mkdir)")
    return open_store(url)


def open_folder(url: str) -> LocalStore:
    """A ``LocalStore`` on the folder a path or ``file:///`` URL names."""
    path = _file_url_path(url) if "://" in url or url.startswith("file:") else url
    if os.path.exists(path) and not os.path.isdir(path):
        raise BadStoreURL(f"{path} is a file, not a queue folder")
    return LocalStore(path)


def redact(url: str) -> str:
    """``url`` without its password, for logs: in its user part, or as a ``password`` query
    parameter (redis-py reads one there too)."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        user = f"{parts.username}:" if parts.username else ":"
        parts = parts._replace(netloc=f"{user}***@{host}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in params):
        query = urlencode([(name, "***" if name == "password" else value) for name, value in params], safe="*")
        parts = parts._replace(query=query)
    return parts.geturl()


def _file_url_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise BadStoreURL("a file:// queue URL names a local folder: file:///absolute/path")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise BadStoreURL("a file:// queue URL needs an absolute path: file:///absolute/path")
    return path
