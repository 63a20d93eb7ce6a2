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

The store's parts live beside it: its settings (``drive_settings``), its URL
(``drive_url``), the folder it opens (``drive_folders``), the index of the folder and the
read cache that follow the changes feed (``drive_changes``), and the API client with its
retries (``drive_client``).
"""

from __future__ import annotations

import os
import secrets
import threading
from email.utils import parsedate_to_datetime
from typing import Callable

from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, MediaInMemoryUpload, MediaIoBaseDownload

from .drive_changes import GOOGLE_APPS_MIME, RECONCILE_S, FolderIndex, not_a_file, rfc3339
from .drive_client import DriveAPI, error_reason, refused
from .drive_folders import check_folder, find_folder
from .drive_settings import DriveSettings
from .drive_url import parse_drive_url
from .errors import InvalidKey, KeyExists, NotFound, StoreUnavailable, UnreadableFile
from .store import MAX_READ_BYTES, Entry, Store, as_bytes, check_key, check_name
from .timing import Timing

OCTET = "application/octet-stream"
#: appProperties key of the tag that tells a create's own file from someone else's
CREATE_TAG = "dq_create"
KEY_BATCH = 50
CHUNK_SIZE = 16 * 1024 * 1024  # resumable transfers; a multiple of 256 KiB
#: times an upload begins again after Drive forgot its session
MAX_RESTARTS = 3
#: Drive's reasons for refusing to download one file (the others mean it is down)
NOT_DOWNLOADABLE = ("fileNotDownloadable", "cannotDownloadAbusiveFile")

Progress = Callable[[int], None]


def open_drive_store(url: str, settings: DriveSettings | None = None, patience: float | None = None) -> DriveStore:
    """Open the store a ``drive://`` URL names; a folder is looked up, never created.

    ``patience``: answer every call within about that many seconds (``DriveSettings.within``)."""
    kind, value = parse_drive_url(url)
    settings = settings or DriveSettings.from_env()
    api = (settings.within(patience) if patience is not None else settings).api()
    folder_id = value if kind == "id" else find_folder(api, value)
    check_folder(api, folder_id)
    return DriveStore(api, folder_id)


class DriveStore(Store):
    """The queue folder ``folder_id`` on Google Drive."""

    #: every call counts against a per-user quota and changes take a moment to show,
    #: so everything is slower and output is coalesced
    default_timing = Timing(lease=60.0, heartbeat=15.0, poll=4.0, check=5.0, flush=1.0, backoff_max=60.0,
                            read=1.0)
    lists_cheaply = True

    def __init__(self, api: DriveAPI, folder_id: str, chunk_size: int = CHUNK_SIZE,
                 reconcile_s: float = RECONCILE_S):
        self.api = api
        self.folder_id = folder_id
        self.url = f"drive://id:{folder_id}"
        self.chunk_size = chunk_size
        self.index = FolderIndex(api, folder_id, self.bad, reconcile_s)
        self._keys: list[str] = []
        self._keys_lock = threading.Lock()

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
        media = MediaInMemoryUpload(as_bytes(data), mimetype=OCTET)
        body = self._create_body(key, name, tag)
        try:
            self.api.execute("files.create", lambda: self.api.files().create(body=body, media_body=media, fields="id"))
        except HttpError as e:
            self._create_failed(e, key, tag)
        self.index.added(key, name, len(data))
        self.index.changed(key)

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
        raise refused("files.create", error)

    def read(self, key: str, limit: int | None = MAX_READ_BYTES) -> bytes:
        check_key(key)
        if self.index.following:
            return self.index.read(key, lambda: self._fetch(key, limit), limit)
        return self._fetch(key, limit)

    def _fetch(self, key: str, limit: int | None) -> bytes:
        """The content of ``key``: no more than ``limit`` bytes and one are ever sent (a Range)."""
        self._check_in_folder(key)

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
        media = MediaInMemoryUpload(as_bytes(data), mimetype=OCTET)
        self._call("files.update", lambda: self.api.files().update(fileId=key, media_body=media, fields="id"), key)
        self.index.changed(key, len(data))

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self._check_in_folder(key)
            self._call("files.delete", lambda: self.api.files().delete(fileId=key), key)
        except NotFound:
            pass
        except UnreadableFile:
            return  # not a file (a folder, a Google file): not the queue's to remove
        self.index.removed(key)

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self._check_in_folder(key, fresh=True)
        except NotFound:
            return False
        except UnreadableFile:
            return True  # something is there, if not a file (a folder, a Google file)
        return True

    def modified(self, key: str) -> float:
        """Drive's time of the last change of ``key``: what the changes feed last reported (free),
        else one ``files.get``."""
        check_key(key)
        known = self.index.modified(key)
        if known is not None:
            return known
        self._check_in_folder(key)
        meta = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="modifiedTime"), key)
        try:
            return rfc3339(meta["modifiedTime"])
        except (KeyError, TypeError, ValueError):
            raise UnreadableFile("Drive gives no time of change for it") from None

    def now(self) -> float:
        """Google's clock now: the ``Date`` of its answer to one small call (whole seconds, so an
        age is never overstated)."""
        def request():
            call = self.api.changes().getStartPageToken()
            call.postproc = lambda response, content: response.get("date", "")
            return call

        try:
            return parsedate_to_datetime(self._call("changes.getStartPageToken", request)).timestamp()
        except (TypeError, ValueError):
            raise StoreUnavailable("Google Drive's answer carried no date") from None

    def _check_in_folder(self, key: str, fresh: bool = False) -> None:
        """``NotFound`` unless ``key`` is a file in this folder (asked once per key unless ``fresh``);
        ``UnreadableFile`` if it is a folder or a Google Docs file there."""
        if key in self.index.known and not fresh:
            return
        meta = self._call("files.get", lambda: self.api.files().get(fileId=key, fields="parents,trashed,mimeType"),
                          key)
        if self.folder_id not in meta.get("parents", []) or meta.get("trashed"):
            raise NotFound(f"no file {key} in this queue")
        if str(meta.get("mimeType", "")).startswith(GOOGLE_APPS_MIME):
            raise UnreadableFile(not_a_file(meta["mimeType"]))
        self.index.known.add(key)

    def _call(self, method: str, make_request, key: str | None = None):
        """Execute with retries; failures become what ``_refused`` says."""
        try:
            return self.api.execute(method, make_request)
        except HttpError as e:
            raise self._refused(method, e, key) from None

    def _refused(self, method: str, error: HttpError, key: str | None) -> Exception:
        """404 for ``key`` is ``NotFound``, a file Drive will not download is ``UnreadableFile``
        (that file only), anything else ``StoreUnavailable``."""
        if key is not None and error.resp.status == 404:
            self.index.known.discard(key)
            return NotFound(f"no file {key} in this queue")
        if key is not None and error.resp.status == 403 and error_reason(error) in NOT_DOWNLOADABLE:
            return UnreadableFile("Drive cannot download it (a folder, a Google Docs file...)")
        return refused(method, error)

    # -- listing, and reads that follow the changes feed ----------------------------------

    def list(self, name: str | None = None) -> list[Entry]:
        if name is not None:
            check_name(name)
        return self.index.entries(name)

    def follow_changes(self, period: float) -> None:
        """Serve reads from memory while the changes feed shows the file unchanged
        (``FolderIndex.follow``): for observers that may lag ``period`` seconds."""
        self.index.follow(period)

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
        self.index.added(key, name, media.size())
        self.index.changed(key)
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
                        self.index.known.discard(key)
                        raise NotFound(f"no file {key} in this queue") from None
                    raise refused("files.get_media", e) from None
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


