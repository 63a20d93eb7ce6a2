"""Choose a store by URL: ``file:///abs/path``, a plain path, or ``drive://...``.

Without a URL, ``DRIVEQUEUE_URL`` from the environment is used, else the
folder ``./var/queue``. Google Drive stores are opened by
``drivequeue.drive.open_drive_store(url)``, imported only when asked for, so a
local queue needs none of the Google libraries.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from .errors import BadStoreURL
from .local import LocalStore
from .store import Store

DEFAULT_URL = "./var/queue"


def default_url() -> str:
    return os.environ.get("DRIVEQUEUE_URL", "").strip() or DEFAULT_URL


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
    if url.startswith("drive://"):
        return _open_drive(url, patience)
    path = _file_url_path(url) if "://" in url or url.startswith("file:") else url
    if os.path.exists(path) and not os.path.isdir(path):
        raise BadStoreURL(f"{path} is a file, not a queue folder")
    return LocalStore(path)


def store_kind(store: Store) -> str:
    """"drive" or "local": which timing defaults suit ``store``."""
    return "drive" if store.url.startswith("drive://") else "local"


def _file_url_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise BadStoreURL(f"unknown queue URL scheme {parts.scheme!r}: use file:///path or drive://...")
    if parts.netloc not in ("", "localhost"):
        raise BadStoreURL("a file:// queue URL names a local folder: file:///absolute/path")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise BadStoreURL("a file:// queue URL needs an absolute path: file:///absolute/path")
    return path


def _open_drive(url: str, patience: float | None) -> Store:
    try:
        from .drive import open_drive_store
    except ImportError as exc:
        if exc.name not in ("drivequeue.drive", "googleapiclient", "google"):
            raise
        raise BadStoreURL(
            f"cannot open {url}: Google Drive support is not available here ({exc.msg})"
        ) from None
    return open_drive_store(url) if patience is None else open_drive_store(url, patience=patience)
