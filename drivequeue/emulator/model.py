"""The state of an emulated Drive: files, issued ids, the changes feed and upload sessions.

Behaviour copied from the real Drive v3 API where the queue depends on it:

* only ids handed out by ``generateIds`` may be passed to ``create``; a second
  create with one gets 409, also after the file was deleted (ids are not reused);
* names are not unique, updates are unconditional (no ETags: the last writer wins);
* ``files.list`` is served from a lagging index: a new file shows up ``list_lag_s``
  after its creation and a deleted one keeps showing for as long; ``files.get``
  and the changes feed are up to date;
* an upload replaces a file's content whole, so readers never see half of it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

FOLDER_MIME = "application/vnd.google-apps.folder"
GOOGLE_APPS_MIME = "application/vnd.google-apps."
_EDITABLE = ("name", "mimeType", "appProperties", "trashed")


class ApiError(Exception):
    """An error the emulator answers in Drive's JSON error format."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    def body(self) -> dict:
        domain = "usageLimits" if self.reason.endswith("LimitExceeded") else "global"
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"domain": domain, "reason": self.reason, "message": self.message}],
            }
        }


def not_found(file_id: str) -> ApiError:
    return ApiError(404, "notFound", f"File not found: {file_id}.")


def _now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class File:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    content: bytes = b""
    app_properties: dict = field(default_factory=dict)
    trashed: bool = False
    version: int = 1
    created: str = field(default_factory=_now_rfc3339)
    modified: str = ""
    md5: str = ""
    listed_from: float = 0.0  # monotonic time from which files.list shows it

    def set_content(self, content: bytes) -> None:
        self.content = content
        self.md5 = hashlib.md5(content).hexdigest()
        self.modified = _now_rfc3339()

    def resource(self) -> dict:
        """The full file resource; the server masks it with ``fields``."""
        resource = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": list(self.parents),
            "trashed": self.trashed,
            "version": str(self.version),
            "createdTime": self.created,
            "modifiedTime": self.modified or self.created,
            "appProperties": dict(self.app_properties),
        }
        if self.mime_type != FOLDER_MIME:
            resource["size"] = str(len(self.content))
        if self.downloadable:
            resource["md5Checksum"] = self.md5
        return resource

    @property
    def downloadable(self) -> bool:
        """Folders, Google Docs and other Google files hold no bytes to download."""
        return not self.mime_type.startswith(GOOGLE_APPS_MIME)


@dataclass
class Upload:
    """A resumable upload session: the bytes received so far and what to do with them."""

    file_id: str | None  # the file to update, or None for a create
    metadata: dict
    total: int | None
    received: bytearray = field(default_factory=bytearray)
    result: File | None = None


class Drive:
    """One user's Drive, as far as an app with the ``drive.file`` scope sees it."""

    def __init__(self, list_lag_s: float = 0.0):
        self.list_lag_s = list_lag_s
        self._lock = threading.RLock()
        self._files: dict[str, File] = {}
        self._issued: set[str] = set()
        self._used: set[str] = set()
        self._tombstones: dict[str, tuple[File, float]] = {}
        self._change_seq = 1
        self._changed_at: dict[str, int] = {}
        self._uploads: dict[str, Upload] = {}
        self.root_id = self._new_id()
        self._files[self.root_id] = File(self.root_id, "My Drive", FOLDER_MIME, [])

    @staticmethod
    def _new_id() -> str:
        return "1" + secrets.token_urlsafe(24)[:32]

    def generate_ids(self, count: int) -> list[str]:
        if not 1 <= count <= 1000:
            raise ApiError(400, "invalid", "count must be between 1 and 1000")
        with self._lock:
            ids = [self._new_id() for _ in range(count)]
            self._issued.update(ids)
        return ids

    def create(self, metadata: dict, content: bytes | None) -> File:
        with self._lock:
            file_id = self._claim_id(metadata.get("id"))
            parents = [self._resolve(p) for p in metadata.get("parents") or [self.root_id]]
            for parent in parents:
                if parent not in self._files or self._files[parent].mime_type != FOLDER_MIME:
                    raise not_found(parent)
            file = File(
                id=file_id,
                name=metadata.get("name") or "Untitled",
                mime_type=metadata.get("mimeType") or "application/octet-stream",
                parents=parents,
                app_properties=dict(metadata.get("appProperties") or {}),
                listed_from=time.monotonic() + self.list_lag_s,
            )
            file.set_content(content or b"")
            self._files[file_id] = file
            self._used.add(file_id)
            self._record_change(file_id)
            return file

    def check_create(self, metadata: dict) -> None:
        """Refuse a resumable create up front the way ``create`` would at the end."""
        file_id = metadata.get("id")
        with self._lock:
            if file_id is not None and file_id in self._used:
                raise self._duplicate()
            if file_id is not None and file_id not in self._issued:
                raise self._unusable()

    def _claim_id(self, file_id: str | None) -> str:
        if file_id is None:
            return self._new_id()
        if file_id in self._used:
            raise self._duplicate()
        if file_id not in self._issued:
            raise self._unusable()
        self._issued.discard(file_id)
        return file_id

    @staticmethod
    def _duplicate() -> ApiError:
        return ApiError(409, "duplicate", "A file already exists with the provided ID.")

    @staticmethod
    def _unusable() -> ApiError:
        return ApiError(400, "invalid", "The provided file ID is not usable.")

    def _resolve(self, file_id: str) -> str:
        return self.root_id if file_id == "root" else file_id

    def get(self, file_id: str) -> File:
        with self._lock:
            file = self._files.get(self._resolve(file_id))
            if file is None:
                raise not_found(file_id)
            return file

    def update(self, file_id: str, metadata: dict | None, content: bytes | None) -> File:
        with self._lock:
            file = self._files.get(file_id)
            if file is None:
                raise not_found(file_id)
            for key in metadata or {}:
                if key not in _EDITABLE:
                    raise ApiError(403, "fieldNotWritable", f"The resource body includes a value for {key} which cannot be changed.")
            metadata = metadata or {}
            file.name = metadata.get("name", file.name)
            file.mime_type = metadata.get("mimeType", file.mime_type)
            file.trashed = bool(metadata.get("trashed", file.trashed))
            file.app_properties.update(metadata.get("appProperties") or {})
            if content is not None:
                file.set_content(content)
            file.version += 1
            self._record_change(file_id)
            return file

    def delete(self, file_id: str) -> None:
        with self._lock:
            file = self._files.pop(file_id, None)
            if file is None:
                raise not_found(file_id)
            self._tombstones[file_id] = (file, time.monotonic() + self.list_lag_s)
            self._record_change(file_id)
            for child in [f for f in self._files.values() if file_id in f.parents]:
                self._files.pop(child.id)
                self._record_change(child.id)

    def listing(self) -> list[dict]:
        """Resources the lagging search index holds now, oldest first."""
        now = time.monotonic()
        with self._lock:
            self._tombstones = {k: v for k, v in self._tombstones.items() if v[1] > now}
            visible = [f for f in self._files.values() if f.listed_from <= now and f.id != self.root_id]
            visible += [f for f, _ in self._tombstones.values() if f.listed_from <= now]
            return [f.resource() for f in sorted(visible, key=lambda f: f.created)]

    def _record_change(self, file_id: str) -> None:
        self._changed_at[file_id] = self._change_seq
        self._change_seq += 1

    def start_page_token(self) -> str:
        with self._lock:
            return str(self._change_seq)

    def changes(self, token: str, page_size: int) -> tuple[list[dict], str | None, str | None]:
        """Changes from ``token`` on: (changes, nextPageToken, newStartPageToken)."""
        try:
            start = int(token)
        except ValueError:
            raise ApiError(400, "invalid", "Invalid Value: pageToken") from None
        with self._lock:
            if not 1 <= start <= self._change_seq:
                raise ApiError(400, "invalid", "Invalid Value: pageToken")
            pending = sorted((seq, fid) for fid, seq in self._changed_at.items() if seq >= start)
            page = pending[:page_size]
            changes = [self._change(fid) for _, fid in page]
            if len(pending) > page_size:
                return changes, str(page[-1][0] + 1), None
            return changes, None, str(self._change_seq)

    def _change(self, file_id: str) -> dict:
        file = self._files.get(file_id)
        change = {"kind": "drive#change", "changeType": "file", "fileId": file_id,
                  "removed": file is None, "time": _now_rfc3339()}
        if file is not None:
            change["file"] = file.resource()
        return change

    def begin_upload(self, file_id: str | None, metadata: dict, total: int | None) -> str:
        if file_id is None:
            self.check_create(metadata)
        else:
            self.get(file_id)
        session = secrets.token_urlsafe(16)
        with self._lock:
            self._uploads[session] = Upload(file_id, metadata, total)
        return session

    def upload_chunk(self, session: str, start: int | None, data: bytes, total: int | None) -> Upload:
        """Add bytes at offset ``start`` (None: a status query); finish when all arrived."""
        with self._lock:
            upload = self._uploads.get(session)
            if upload is None:
                raise ApiError(404, "notFound", "Upload session not found or expired.")
            if upload.result is not None:
                return upload
            if total is not None:
                upload.total = total
            if start is not None and start <= len(upload.received):
                upload.received += data[len(upload.received) - start:]
            if upload.total is None or len(upload.received) < upload.total:
                return upload
            content = bytes(upload.received[: upload.total])
            if upload.file_id is None:
                upload.result = self.create(upload.metadata, content)
            else:
                upload.result = self.update(upload.file_id, upload.metadata or None, content)
            upload.received = bytearray()
            return upload
