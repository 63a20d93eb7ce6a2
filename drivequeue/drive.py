"""``DriveStore``: the queue in a Google Drive folder, through the Drive v3 API.

How the ``Store`` operations map onto what Drive really offers:

* keys are Drive file ids from ``files.generateIds`` (fetched in batches);
  ``create`` passes the id to ``files.create`` and Drive answers 409 to any
  second create with it. Each create also carries a random tag in
  ``appProperties``, so a create that is retried after a lost response and meets
  its own earlier success can tell that the file is its own;
* reads, writes and deletes go by id (consistent at once, unlike name
  listings); a key is first checked to lie in this folder, once per process;
* ``list`` is served from an index of the folder kept up to date by the changes
  feed (one ``changes.list`` call per listing, with a stored page token),
  seeded and periodically reconciled by a listing by parent (which may lag);
* uploads and downloads of big files are resumable and chunked.

Settings (read once, in ``DriveSettings.from_env``):

==================================  ============================================================
``DRIVEQUEUE_TOKEN``                the token JSON from ``drivequeue auth`` (or the variables in
``DRIVEQUEUE_TOKEN_FILE``           ``drivequeue.auth``)
``DRIVEQUEUE_DRIVE_ENDPOINT``       an origin such as ``http://127.0.0.1:8765`` to use the
                                    emulator instead of Google (``/drive/v3/`` is added here)
``DRIVEQUEUE_DRIVE_RETRY_BUDGET``   seconds one call may spend retrying before the caller gets
                                    ``StoreUnavailable`` (default 60)
``DRIVEQUEUE_DRIVE_RETRY_FIRST``    the first backoff delay in seconds (default 0.5); it doubles
                                    per retry up to 16 s, with jitter
(``open_store(url, patience=S)``)   a caller that must answer in time (the web app) caps both the
                                    retries and one request's timeout at S / 2
==================================  ============================================================
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable
from urllib.parse import urlsplit

from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, MediaInMemoryUpload, MediaIoBaseDownload

from .auth import load_credentials
from .drive_client import HTTP_TIMEOUT_S, DriveAPI, describe, error_reason
from .errors import BadStoreURL, ConfigError, InvalidKey, KeyExists, NotFound, StoreUnavailable, UnreadableFile
from .store import KEY_PATTERN, MAX_READ_BYTES, NAME_PATTERN, Entry, Store, check_key, check_name, check_size
from .timing import Timing

FOLDER_MIME = "application/vnd.google-apps.folder"
#: folders, Google Docs, shortcuts...: nothing that can be downloaded as bytes
GOOGLE_APPS_MIME = "application/vnd.google-apps."
#: Drive's reasons for refusing to download one file (the others are up)
NOT_DOWNLOADABLE = ("fileNotDownloadable", "cannotDownloadAbusiveFile")
OCTET = "application/octet-stream"
#: appProperties key of the tag that tells a create's own file from someone else's
CREATE_TAG = "dq_create"
KEY_BATCH = 50
CHUNK_SIZE = 16 * 1024 * 1024  # resumable transfers; a multiple of 256 KiB
#: how often the changes-fed index is reconciled with a full listing by parent
RECONCILE_S = 120.0
#: the first reconciliation comes sooner: name listings lag by seconds, so creates made
#: just before the feed began show up in a listing by then
FIRST_RECONCILE_S = 10.0
#: times an upload begins again after Drive forgot its session
MAX_RESTARTS = 3
_CHANGE_FIELDS = ("nextPageToken,newStartPageToken,"
                  "changes(fileId,removed,file(name,parents,trashed,mimeType,size))")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DriveSettings:
    """What the Drive store reads from the environment."""

    token: str | None = None
    token_file: str | None = None
    endpoint: str | None = None
    retry_budget: float = 60.0
    retry_first: float = 0.5
    http_timeout: float = HTTP_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
                raise ConfigError(
                    "DRIVEQUEUE_DRIVE_ENDPOINT holds an origin only, like http://127.0.0.1:8765 "
                    f"(got {self.endpoint!r})"
                )
        if not self.retry_budget > 0 or not self.retry_first > 0:
            raise ConfigError("DRIVEQUEUE_DRIVE_RETRY_BUDGET and _FIRST must be positive numbers of seconds")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DriveSettings:
        env = os.environ if environ is None else environ
        return cls(
            token=env.get("DRIVEQUEUE_TOKEN") or None,
            token_file=env.get("DRIVEQUEUE_TOKEN_FILE") or None,
            endpoint=env.get("DRIVEQUEUE_DRIVE_ENDPOINT", "").strip() or None,
            retry_budget=_seconds(env, "DRIVEQUEUE_DRIVE_RETRY_BUDGET", cls.retry_budget),
            retry_first=_seconds(env, "DRIVEQUEUE_DRIVE_RETRY_FIRST", cls.retry_first),
        )

    def within(self, seconds: float) -> DriveSettings:
        """These settings, with every call answered within about ``seconds``: retries stop
        at half of it, and one request that hangs is given up after the other half."""
        return replace(self, retry_budget=min(self.retry_budget, seconds / 2),
                       http_timeout=min(self.http_timeout, seconds / 2))

    def api(self) -> DriveAPI:
        """A Drive client with these credentials, endpoint, retry budget and request timeout."""
        credentials = load_credentials(self.token, self.token_file)
        return DriveAPI(credentials, endpoint=self.endpoint, retry_first=self.retry_first,
                        retry_budget=self.retry_budget, timeout=self.http_timeout)


def _seconds(env, name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None


def parse_drive_url(url: str) -> tuple[str, str]:
    """``("id", FOLDER_ID)`` for ``drive://id:FOLDER_ID``, ``("name", NAME)`` for ``drive://NAME``."""
    if not url.startswith("drive://"):
        raise BadStoreURL(f"not a drive:// URL: {url!r}")
    rest = url[len("drive://") :].strip().rstrip("/")
    if rest.startswith("id:"):
        folder_id = rest[3:]
        if not KEY_PATTERN.fullmatch(folder_id):
            raise BadStoreURL("drive://id:FOLDER_ID needs a Drive folder id (letters, digits, - and _)")
        return "id", folder_id
    if not rest or "/" in rest or any(ord(c) < 32 for c in rest):
        raise BadStoreURL("use drive://id:FOLDER_ID, or drive://NAME for a folder this app created")
    return "name", rest


def _execute(api: DriveAPI, method: str, make_request, what: str):
    """Run a call outside a store; Drive's refusals become ``StoreUnavailable`` saying ``what`` failed."""
    try:
        return api.execute(method, make_request)
    except HttpError as e:
        raise StoreUnavailable(f"cannot {what} ({describe(e)})") from None


def open_drive_store(url: str, settings: DriveSettings | None = None, patience: float | None = None) -> DriveStore:
    """Open the store a ``drive://`` URL names; a folder is looked up, never created.

    ``patience``: answer every call within about that many seconds (``DriveSettings.within``)."""
    kind, value = parse_drive_url(url)
    settings = settings or DriveSettings.from_env()
    api = (settings.within(patience) if patience is not None else settings).api()
    folder_id = value if kind == "id" else find_folder(api, value)
    try:
        folder = api.execute("files.get", lambda: api.files().get(fileId=folder_id, fields="mimeType,trashed"))
    except HttpError as e:
        if e.resp.status == 404:
            raise BadStoreURL(
                f"no Drive folder {folder_id} that this app can see (with the drive.file scope it sees only "
                "folders it created: create one with `drivequeue folder NAME`)"
            ) from None
        raise StoreUnavailable(f"cannot open the Drive folder ({describe(e)})") from None
    if folder.get("mimeType") != FOLDER_MIME or folder.get("trashed"):
        raise BadStoreURL(f"Drive file {folder_id} is not a folder (or it is in the trash)")
    return DriveStore(api, folder_id)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_folder(api: DriveAPI, name: str) -> str:
    """The id of the one folder called ``name`` that this app created; never creates one."""
    found = _folders_named(api, name)
    if not found:
        raise BadStoreURL(
            f"no Drive folder named {name!r} that this app created; create it once with "
            f"`drivequeue folder {name}` and use the drive://id:... URL it prints"
        )
    if len(found) > 1:
        urls = ", ".join(f"drive://id:{i}" for i in found)
        raise BadStoreURL(f"several Drive folders are named {name!r}; pick one: {urls}")
    return found[0]


def _folders_named(api: DriveAPI, name: str) -> list[str]:
    query = f"name = {_quote(name)} and mimeType = '{FOLDER_MIME}' and trashed = false"
    page = _execute(api, "files.list", lambda: api.files().list(q=query, fields="files(id)", pageSize=10),
                    "look up the Drive folder")
    return [f["id"] for f in page.get("files", [])]


def create_folder(api: DriveAPI, name: str) -> tuple[str, bool]:
    """Create the queue folder ``name`` in My Drive: (its id, whether it was created now).

    An existing folder of that name is returned instead of making a second one.
    """
    existing = _folders_named(api, name)
    if existing:
        return existing[0], False
    folder_id = _execute(api, "files.generateIds", lambda: api.files().generateIds(count=1, space="drive"),
                         "create the Drive folder")["ids"][0]
    body = {"id": folder_id, "name": name, "mimeType": FOLDER_MIME}
    try:
        api.execute("files.create", lambda: api.files().create(body=body, fields="id"))
    except HttpError as e:
        if e.resp.status != 409:  # 409: our own create, retried after a lost answer
            raise StoreUnavailable(f"cannot create the Drive folder ({describe(e)})") from None
    return folder_id, True


class DriveStore(Store):
    """The queue folder ``folder_id`` on Google Drive."""

    #: every call counts against a per-user quota and changes take a moment to show,
    #: so everything is slower and output is coalesced
    default_timing = Timing(lease=60.0, heartbeat=15.0, poll=4.0, check=5.0, flush=1.0, backoff_max=60.0,
                            read=1.0)

    def __init__(self, api: DriveAPI, folder_id: str, chunk_size: int = CHUNK_SIZE,
                 reconcile_s: float = RECONCILE_S):
        self.api = api
        self.folder_id = folder_id
        self.url = f"drive://id:{folder_id}"
        self.chunk_size = chunk_size
        self.reconcile_s = reconcile_s
        self._keys: list[str] = []
        self._keys_lock = threading.Lock()
        self._known: set[str] = set()  # keys seen to lie in this folder
        self._index: dict[str, str] = {}  # key -> name, fed by the changes feed
        self._sizes: dict[str, int] = {}  # key -> size in bytes, as the feed last reported it
        self._removed: dict[str, float] = {}  # key -> when it was seen removed
        self._page_token: str | None = None
        self._reconcile_at = 0.0
        self._index_lock = threading.RLock()
        # reads served from memory while the changes feed shows the file unchanged (follow_changes)
        self._feed_period: float | None = None
        self._feed_at = float("-inf")
        self._feed_syncs = 0  # changes.list calls so far; a read that spans one is not kept
        self._contents: dict[str, bytes] = {}
        self._absent: set[str] = set()

    def __repr__(self) -> str:
        return f"DriveStore({self.folder_id!r})"

    @property
    def calls(self):
        """API calls made so far, by method (a ``Counter``); retries count as calls."""
        return self.api.calls

    # -- keys and single files ----------------------------------------------------------

    def new_keys(self, name: str, n: int = 1) -> list[str]:
        check_name(name)
        if n < 0:
            raise ValueError("n must not be negative")
        with self._keys_lock:
            while len(self._keys) < n:
                count = min(1000, max(KEY_BATCH, n - len(self._keys)))
                response = self._call("files.generateIds", lambda: self.api.files().generateIds(count=count, space="drive"))
                self._keys.extend(response["ids"])
            keys, self._keys = self._keys[:n], self._keys[n:]
        return keys

    def create(self, key: str, name: str, data: bytes) -> None:
        check_key(key)
        check_name(name)
        tag = secrets.token_hex(8)
        media = MediaInMemoryUpload(bytes(data), mimetype=OCTET)
        body = self._create_body(key, name, tag)
        try:
            self.api.execute("files.create", lambda: self.api.files().create(body=body, media_body=media, fields="id"))
        except HttpError as e:
            self._create_failed(e, key, tag)
        self._added(key, name, len(data))
        self._forget_content(key)

    def _create_body(self, key: str, name: str, tag: str) -> dict:
        return {"id": key, "name": name, "parents": [self.folder_id], "mimeType": OCTET,
                "appProperties": {CREATE_TAG: tag}}

    def _create_failed(self, error: HttpError, key: str, tag: str) -> None:
        """Raise what a failed create means, or return if the file is this create's own."""
        if error.resp.status == 409:
            try:
                existing = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="appProperties"), key)
            except NotFound:
                raise KeyExists(key) from None
            if existing.get("appProperties", {}).get(CREATE_TAG) == tag:
                return  # an earlier try of this very create succeeded
            raise KeyExists(key) from None
        if error.resp.status == 400:
            raise InvalidKey("key was not handed out by new_keys on this Drive") from None
        raise self._unavailable("files.create", error)

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        check_key(key)
        if self._feed_period is not None:
            return self._read_through_feed(key, limit)
        self._check_in_folder(key)
        return self._media(key, limit)

    def _media(self, key: str, limit: int | None) -> bytes:
        """The content of ``key``: no more than ``limit`` bytes and one are ever sent (a Range)."""
        def request():
            media = self.api.files().get_media(fileId=key)
            if limit is not None:
                media.headers["Range"] = f"bytes=0-{limit}"
            return media

        try:
            data = self.api.execute("files.get_media", request)
        except HttpError as e:
            if e.resp.status == 416:
                return b""  # an empty file has no first byte to send
            raise self._refused("files.get_media", e, key) from None
        if limit is not None and len(data) > limit:
            raise UnreadableFile(f"it holds more than the {limit:,} bytes a read of it takes")
        return data

    def write(self, key: str, data: bytes) -> None:
        check_key(key)
        self._check_in_folder(key)
        media = MediaInMemoryUpload(bytes(data), mimetype=OCTET)
        self._call("files.update", lambda: self.api.files().update(fileId=key, media_body=media, fields="id"), key)
        self._forget_content(key)
        with self._index_lock:
            if key in self._sizes:
                self._sizes[key] = len(data)

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self._check_in_folder(key)
            self._call("files.delete", lambda: self.api.files().delete(fileId=key), key)
        except (NotFound, UnreadableFile):
            pass  # gone, or not a file (a folder, a Google file): not the queue's to remove
        self._removed_now(key)

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self._check_in_folder(key, fresh=True)
        except NotFound:
            return False
        return True

    def modified(self, key: str) -> float:
        check_key(key)
        self._check_in_folder(key)
        meta = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="modifiedTime"), key)
        return datetime.fromisoformat(meta["modifiedTime"].replace("Z", "+00:00")).timestamp()

    def _check_in_folder(self, key: str, fresh: bool = False) -> None:
        """``NotFound`` unless ``key`` is a file in this folder (asked once per key unless ``fresh``);
        ``UnreadableFile`` if it is a folder or a Google Docs file there."""
        if key in self._known and not fresh:
            return
        meta = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="parents,trashed,mimeType"),
                          key)
        if self.folder_id not in meta.get("parents", []) or meta.get("trashed"):
            raise NotFound(f"no file {key} in this queue")
        if str(meta.get("mimeType", "")).startswith(GOOGLE_APPS_MIME):
            raise UnreadableFile(_not_a_file(meta["mimeType"]))
        self._known.add(key)

    def _call(self, method: str, make_request, key: str | None = None):
        """Execute with retries; failures become what ``_refused`` says."""
        try:
            return self.api.execute(method, make_request)
        except HttpError as e:
            raise self._refused(method, e, key) from None

    def _refused(self, method: str, error: HttpError, key: str | None) -> Exception:
        """What a refusal means: 404 for ``key`` is ``NotFound``, a file that cannot be downloaded
        is ``UnreadableFile`` (that file only), anything else ``StoreUnavailable``."""
        if key is not None and error.resp.status == 404:
            self._known.discard(key)
            return NotFound(f"no file {key} in this queue")
        if key is not None and error.resp.status == 403 and error_reason(error) in NOT_DOWNLOADABLE:
            return UnreadableFile("Drive cannot download it (a folder, a Google Docs file...)")
        return self._unavailable(method, error)

    @staticmethod
    def _unavailable(method: str, error: HttpError) -> StoreUnavailable:
        if error.resp.status == 403 and error_reason(error) == "storageQuotaExceeded":
            return StoreUnavailable("the Google Drive storage quota is used up; free space in Drive")
        return StoreUnavailable(f"Google Drive refused {method} ({describe(error)})")

    # -- reads that follow the changes feed ---------------------------------------------

    def follow_changes(self, period: float) -> None:
        """Serve reads from memory while the changes feed shows the file unchanged.

        The feed is followed at most once per ``period`` seconds (one
        ``changes.list`` call for the whole folder), so a read may be up to that
        old; a file is fetched again only after the feed reports it created,
        rewritten or removed. Meant for observers such as the web app; a worker
        must see its claims at once and does not call this.
        """
        if not period > 0:
            raise ValueError("period must be positive")
        with self._index_lock:
            self._feed_period = period

    def _read_through_feed(self, key: str, limit: int | None) -> bytes:
        with self._index_lock:
            if time.monotonic() - self._feed_at >= self._feed_period:
                self._sync_index()
                self._feed_at = time.monotonic()
            if key in self._contents:
                data = self._contents[key]
                check_size(len(data), limit)
                return data
            if key in self._absent:
                raise NotFound(f"no file {key} in this queue")
            check_size(self._sizes.get(key, 0), limit)  # the feed said how big it is: refused unread
            syncs = self._feed_syncs
        try:
            self._check_in_folder(key)
            data = self._media(key, limit)
        except NotFound:
            with self._index_lock:
                if syncs == self._feed_syncs:
                    self._absent.add(key)
            raise
        with self._index_lock:
            if syncs == self._feed_syncs:  # else the feed may have reported a change this read missed
                self._contents[key] = data
        return data

    def _forget_content(self, key: str) -> None:
        with self._index_lock:
            self._contents.pop(key, None)
            self._absent.discard(key)

    # -- listing ------------------------------------------------------------------------

    def list(self, name: str | None = None) -> list[Entry]:
        if name is not None:
            check_name(name)
        with self._index_lock:
            self._sync_index()
            return [Entry(k, n) for k, n in self._index.items() if name is None or n == name]

    def _sync_index(self) -> None:
        """Bring the index (and the read cache) up to date with one ``changes.list`` call."""
        if self._page_token is not None and not self._follow_changes():
            self._page_token = None  # the stored token is no longer valid: start over
            self._index.clear()
            self._contents.clear()
            self._absent.clear()
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
                raise self._unavailable("changes.list", e) from None
            for change in page.get("changes", []):
                file = change.get("file") or {}
                key = change.get("fileId", "")
                self._contents.pop(key, None)
                self._absent.discard(key)
                if change.get("removed") or file.get("trashed"):
                    self._removed_now(key)
                elif self.folder_id in file.get("parents", []):
                    self._seen(key, file)
                elif key in self._index:  # moved out of this folder
                    self._removed_now(key)
            if "newStartPageToken" in page:
                self._page_token = page["newStartPageToken"]
                return True
            token = page["nextPageToken"]

    def _reconcile(self, next_in: float) -> None:
        """Add what a listing by parent shows and the index lacks (creates made before the feed began)."""
        query = f"{_quote(self.folder_id)} in parents and trashed = false"
        page_token = None
        now = time.monotonic()
        self._removed = {k: t for k, t in self._removed.items() if now - t < 2 * self.reconcile_s}
        while True:
            page = self._call("files.list", lambda: self.api.files().list(
                q=query, pageSize=1000, pageToken=page_token, fields="nextPageToken,files(id,name,mimeType,size)"))
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
        mime = str(file.get("mimeType", OCTET))
        if mime.startswith(GOOGLE_APPS_MIME):
            with self._index_lock:
                self._index.pop(key, None)
            self.bad.note(key, "skipped", _not_a_file(mime))
            return
        size = file.get("size")
        self._added(key, file["name"], int(size) if isinstance(size, str) and size.isdigit() else None)

    def _added(self, key: str, name: str, size: int | None = None) -> None:
        self._known.add(key)
        with self._index_lock:
            self._index[key] = name
            if size is None:
                self._sizes.pop(key, None)
            else:
                self._sizes[key] = size

    def _removed_now(self, key: str) -> None:
        self._known.discard(key)
        self.bad.forget(key)
        with self._index_lock:
            self._index.pop(key, None)
            self._sizes.pop(key, None)
            self._removed[key] = time.monotonic()
            self._contents.pop(key, None)

    # -- big files ----------------------------------------------------------------------

    def upload(self, key: str, name: str, path: str | os.PathLike, progress: Progress | None = None) -> str:
        """Create ``key`` from a local file with a chunked, resumable upload; returns Drive's MD5."""
        check_key(key)
        check_name(name)
        tag = secrets.token_hex(8)
        media = _ChunkedFileUpload(str(path), mimetype=OCTET, chunksize=self.chunk_size, resumable=True)
        request = self.api.files().create(body=self._create_body(key, name, tag), media_body=media,
                                          fields="id,md5Checksum")
        sent, response, restarts = 0, None, 0
        while response is None:
            try:
                _, response = self.api.retrying("files.create", lambda: request.next_chunk(http=self.api.http()))
            except HttpError as e:
                if e.resp.status == 404 and request.resumable_uri is not None and restarts < MAX_RESTARTS:
                    request.resumable_uri, request.resumable_progress = None, 0  # session expired: begin again
                    restarts += 1
                    continue
                self._create_failed(e, key, tag)
                response = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="md5Checksum"), key)
            done = media.size() if response is not None else request.resumable_progress
            if progress is not None and done > sent:
                progress(done - sent)
            sent = max(sent, done)
        self._added(key, name, media.size())
        self._forget_content(key)
        return response.get("md5Checksum")

    def download(self, key: str, path: str | os.PathLike, progress: Progress | None = None) -> None:
        """Write the content of ``key`` to ``path`` in resumable chunks."""
        check_key(key)
        self._check_in_folder(key)
        request = self.api.files().get_media(fileId=key)
        with open(path, "wb") as out:
            downloader = MediaIoBaseDownload(out, request, chunksize=self.chunk_size)
            done, received = False, 0
            while not done:
                request.http = self.api.http()
                try:
                    status, done = self.api.retrying("files.get_media", downloader.next_chunk)
                except HttpError as e:
                    if e.resp.status == 404:
                        self._known.discard(key)
                        raise NotFound(f"no file {key} in this queue") from None
                    raise self._unavailable("files.get_media", e) from None
                if progress is not None and status.resumable_progress > received:
                    progress(status.resumable_progress - received)
                received = status.resumable_progress


class _ChunkedFileUpload(MediaFileUpload):
    """A file upload whose chunks go out as bytes rather than as a slice of the open file.

    httplib2 resends a request once by itself when the connection drops; a file
    slice would already be read to its end then, and the resend would carry no
    body. Bytes can be sent again. One chunk is held in memory at a time.
    """

    def has_stream(self) -> bool:
        return False


def _not_a_file(mime: str) -> str:
    what = "a folder" if mime == FOLDER_MIME else f"a Google file ({mime[len(GOOGLE_APPS_MIME):][:40]})"
    return f"it is {what} on Drive, not a file that can be downloaded"


def _valid_entry(key: str, name: str | None) -> bool:
    return bool(name) and KEY_PATTERN.fullmatch(key) is not None and NAME_PATTERN.fullmatch(name) is not None
