"""``FolderIndex``: what one Drive folder holds, kept up to date by Drive's changes feed.

Drive's listings by parent lag by seconds, but its changes feed does not: the index
(key -> name) is seeded and periodically reconciled by a listing by parent, and
brought up to date by one ``changes.list`` call per listing, from a stored page token.
An observer that may lag (``follow``) also has its reads served from memory while the
feed shows the file unchanged, so files that did not change cost no calls.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from googleapiclient.errors import HttpError

from .drive_client import DriveAPI, quoted, refused
from .bad_items import BadItems
from .errors import NotFound, UnreadableFile
from .store import KEY_PATTERN, NAME_PATTERN, Entry, check_size

#: how often the changes-fed index is reconciled with a full listing by parent
RECONCILE_S = 120.0
#: the first reconciliation comes sooner: name listings lag by seconds, so creates made
#: just before the feed began show up in a listing by then
FIRST_RECONCILE_S = 10.0
_CHANGE_FIELDS = ("nextPageToken,newStartPageToken,"
                  "changes(fileId,removed,file(name,parents,trashed,mimeType,size,modifiedTime))")
#: what the read cache holds at most: the files read most recently are kept
MAX_CACHED_BYTES = 64 * 1024 * 1024
#: folders, Google Docs, shortcuts...: nothing that can be downloaded as bytes
GOOGLE_APPS_MIME = "application/vnd.google-apps."
FOLDER_MIME = GOOGLE_APPS_MIME + "folder"


class FolderIndex:
    """The files of folder ``folder_id``, and the keys seen to lie in it (``known``). A folder or
    Google Docs file named like a file of the queue is left out and noted in ``bad``."""

    def __init__(self, api: DriveAPI, folder_id: str, bad: BadItems, reconcile_s: float = RECONCILE_S):
        self.api = api
        self.folder_id = folder_id
        self.bad = bad
        self.reconcile_s = reconcile_s
        #: keys seen to lie in this folder (by the feed, a listing, or a check of the file)
        self.known: set[str] = set()
        self._index: dict[str, str] = {}  # key -> name, fed by the changes feed
        self._sizes: dict[str, int] = {}  # key -> size in bytes, as the feed last reported it
        self._modified: dict[str, float] = {}  # key -> Drive's time of its last change, likewise
        self._removed: dict[str, float] = {}  # key -> when it was seen removed
        self._skipped: dict[str, str] = {}  # key -> why: a folder or Google file named like a record
        self._page_token: str | None = None
        self._reconcile_at = 0.0
        self._lock = threading.RLock()
        # reads served from memory while the changes feed shows the file unchanged (follow)
        self._feed_period: float | None = None
        self._feed_at = float("-inf")
        self._feed_syncs = 0  # changes.list calls so far; a read that spans one is not kept
        self._contents: OrderedDict[str, bytes] = OrderedDict()  # least recently read first
        self._cached_bytes = 0

    @property
    def following(self) -> bool:
        """Whether reads go through ``read`` (an observer called ``follow``)."""
        return self._feed_period is not None

    def follow(self, period: float) -> None:
        """Serve reads from memory while the changes feed shows the file unchanged.

        The feed is followed at most once per ``period`` seconds (one
        ``changes.list`` call for the whole folder), so a read may be up to that
        old; a file is fetched again only after the feed reports it created,
        rewritten or removed, and a key the feed does not know is answered
        ``NotFound`` without a call (random ids cost nothing). Meant for observers
        such as the web app; a worker must see its claims at once and does not call this.
        """
        if not period > 0:
            raise ValueError("period must be positive")
        with self._lock:
            self._feed_period = period

    def read(self, key: str, fetch: Callable[[], bytes], limit: int | None) -> bytes:
        """The content of ``key``: from memory if the feed shows it unchanged, else ``fetch()``;
        ``UnreadableFile`` unread if the feed said it holds more than ``limit`` bytes."""
        with self._lock:
            if time.monotonic() - self._feed_at >= self._feed_period:
                self._sync()
                self._feed_at = time.monotonic()
            if key in self._contents:
                self._contents.move_to_end(key)
                check_size(len(self._contents[key]), limit)
                return self._contents[key]
            if key in self._skipped:
                raise UnreadableFile(self._skipped[key])
            if key not in self._index:  # what the feed has not shown is not there (as of its last look)
                raise NotFound(f"no file {key} in this queue")
            check_size(self._sizes.get(key, 0), limit)
            syncs = self._feed_syncs
        data = fetch()
        with self._lock:
            if syncs == self._feed_syncs:  # else the feed may have reported a change this read missed
                self._keep(key, data)
        return data

    def _keep(self, key: str, data: bytes) -> None:
        """Cache ``data`` as ``key``'s content, dropping the least recently read past the bound."""
        self._drop(key)
        self._contents[key] = data
        self._cached_bytes += len(data)
        while self._cached_bytes > MAX_CACHED_BYTES:
            _, dropped = self._contents.popitem(last=False)
            self._cached_bytes -= len(dropped)

    def _drop(self, key: str) -> None:
        dropped = self._contents.pop(key, None)
        if dropped is not None:
            self._cached_bytes -= len(dropped)

    def changed(self, key: str, size: int | None = None) -> None:
        """This process rewrote ``key`` (with ``size`` bytes): its content must be read again, and
        its time of change asked until the feed reports it."""
        with self._lock:
            self._drop(key)
            self._modified.pop(key, None)
            if size is not None and key in self._index:
                self._sizes[key] = size

    def entries(self, name: str | None = None) -> list[Entry]:
        """The files now in the folder (of ``name``), after one look at the feed."""
        with self._lock:
            self._sync()
            return [Entry(k, n) for k, n in self._index.items() if name is None or n == name]

    def modified(self, key: str) -> float | None:
        """Drive's time of the last change of ``key``, as the feed or a listing last reported it."""
        with self._lock:
            return self._modified.get(key)

    def added(self, key: str, name: str, size: int | None = None, modified: float | None = None) -> None:
        self.known.add(key)
        with self._lock:
            self._index[key] = name
            self._skipped.pop(key, None)
            for known, value in ((self._sizes, size), (self._modified, modified)):
                if value is None:
                    known.pop(key, None)
                else:
                    known[key] = value

    def removed(self, key: str) -> None:
        self.known.discard(key)
        self.bad.forget(key)
        with self._lock:
            self._index.pop(key, None)
            self._sizes.pop(key, None)
            self._modified.pop(key, None)
            self._removed[key] = time.monotonic()
            self._skipped.pop(key, None)
            self._drop(key)

    # -- helpers -------------------------------------------------------------------------

    def _sync(self) -> None:
        """Bring the index (and the read cache) up to date with one ``changes.list`` call."""
        if self._page_token is not None and not self._follow_changes():
            self._page_token = None  # the stored token is no longer valid: start over
            for known in (self._index, self._contents, self._sizes, self._modified, self._skipped):
                known.clear()
            self._cached_bytes = 0
        if self._page_token is None:
            self._page_token = self._call(
                "changes.getStartPageToken", lambda: self.api.changes().getStartPageToken()
            )["startPageToken"]
            self._reconcile(min(FIRST_RECONCILE_S, self.reconcile_s))
        elif time.monotonic() >= self._reconcile_at:
            self._reconcile(self.reconcile_s)

    def _follow_changes(self) -> bool:
        """Apply the changes since the stored page token; False if Drive no longer knows the token."""
        token = self._page_token
        self._feed_syncs += 1
        while True:
            try:
                page = self.api.execute("changes.list", lambda: self.api.changes().list(
                    pageToken=token, pageSize=1000, spaces="drive", includeRemoved=True, fields=_CHANGE_FIELDS))
            except HttpError as e:
                if e.resp.status in (400, 404, 410):
                    return False
                raise refused("changes.list", e) from None
            for change in page.get("changes", []):
                file = change.get("file") or {}
                key = change.get("fileId", "")
                self._drop(key)
                if change.get("removed") or file.get("trashed"):
                    self.removed(key)
                elif self.folder_id in file.get("parents", []):
                    self._seen(key, file)
                elif key in self._index:  # moved out of this folder
                    self.removed(key)
            if "newStartPageToken" in page:
                self._page_token = page["newStartPageToken"]
                return True
            token = page["nextPageToken"]

    def _reconcile(self, next_in: float) -> None:
        """Add what a listing by parent shows and the index lacks (creates made before the feed began)."""
        query = f"{quoted(self.folder_id)} in parents and trashed = false"
        page_token = None
        now = time.monotonic()
        self._removed = {k: t for k, t in self._removed.items() if now - t < 2 * self.reconcile_s}
        while True:
            page = self._call("files.list", lambda: self.api.files().list(
                q=query, pageSize=1000, pageToken=page_token, fields="nextPageToken,files(id,name,mimeType,size,modifiedTime)"))
            for file in page.get("files", []):
                if file.get("id") not in self._removed:
                    self._seen(str(file.get("id", "")), file)
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        self._reconcile_at = now + next_in

    def _seen(self, key: str, file: dict) -> None:
        """Index a file that the feed or a listing shows in this folder, if it is named like a file
        of the queue; a folder or Google Docs file named so is skipped and noted."""
        if not _valid_entry(key, file.get("name")):
            return  # not the queue's (a file of the user's own, say)
        mime = str(file.get("mimeType", ""))
        if mime.startswith(GOOGLE_APPS_MIME):
            with self._lock:
                self._index.pop(key, None)
                self._skipped[key] = not_a_file(mime)
            self.bad.note(key, "skipped", not_a_file(mime))
            return
        size = file.get("size")
        try:
            modified = rfc3339(file["modifiedTime"])
        except (KeyError, TypeError, ValueError):
            modified = None
        self.added(key, file["name"], int(size) if isinstance(size, str) and size.isdigit() else None, modified)

    def _call(self, method: str, make_request):
        try:
            return self.api.execute(method, make_request)
        except HttpError as e:
            raise refused(method, e) from None


def rfc3339(text: str) -> float:
    """A time as Drive writes it (``2026-01-02T03:04:05.678Z``) as a Unix time; ``ValueError`` if it is none."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def not_a_file(mime: str) -> str:
    """Why an item of type ``mime`` (a Google one) cannot be read as a file of the queue."""
    what = "a folder" if mime == FOLDER_MIME else f"a Google file ({mime[len(GOOGLE_APPS_MIME):][:40]})"
    return f"it is {what} on Drive, not a file that can be downloaded"


def _valid_entry(key: str, name: str | None) -> bool:
    return bool(name) and KEY_PATTERN.fullmatch(key) is not None and NAME_PATTERN.fullmatch(name) is not None
