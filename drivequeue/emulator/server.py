"""The HTTP side of the emulator: Drive v3 and OAuth URLs mapped onto the model.

Paths are the real ones (``/drive/v3/...``, ``/upload/drive/v3/...``) so that the
unmodified google-api-python-client talks to it. Requests to the API need a
live ``Bearer`` access token, as on Google's servers.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .. import bounded_json
from .faults import Faults
from .model import ApiError, Drive, File, Upload
from .oauth import OAuth, OAuthError
from .query import apply_fields, parse_fields, parse_query

logger = logging.getLogger(__name__)

_ID = r"(?P<id>[A-Za-z0-9_-]+)"
ROUTES = [
    ("GET", re.compile(r"/drive/v3/files/generateIds"), "files.generateIds"),
    ("GET", re.compile(r"/drive/v3/files"), "files.list"),
    ("POST", re.compile(r"/drive/v3/files"), "files.create"),
    ("GET", re.compile(r"/drive/v3/files/" + _ID), "files.get"),
    ("PATCH", re.compile(r"/drive/v3/files/" + _ID), "files.update"),
    ("DELETE", re.compile(r"/drive/v3/files/" + _ID), "files.delete"),
    ("POST", re.compile(r"/upload/drive/v3/files"), "files.create"),
    ("PATCH", re.compile(r"/upload/drive/v3/files/" + _ID), "files.update"),
    ("PUT", re.compile(r"/upload/drive/v3/files(?:/" + _ID + ")?"), "upload.chunk"),
    ("GET", re.compile(r"/drive/v3/changes/startPageToken"), "changes.getStartPageToken"),
    ("GET", re.compile(r"/drive/v3/changes"), "changes.list"),
]
_DEFAULT_FILE = {"kind": {}, "id": {}, "name": {}, "mimeType": {}}
_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
MAX_BODY = 64 * 1024 * 1024


class Response:
    def __init__(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def json_response(status: int, payload: dict, headers: dict | None = None) -> Response:
    headers = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
    return Response(status, json.dumps(payload).encode(), headers)


class EmulatorServer(ThreadingHTTPServer):
    """A threaded loopback server holding one emulated Drive, its OAuth state and its faults."""

    daemon_threads = True

    def __init__(self, port: int, drive: Drive, oauth: OAuth, faults: Faults):
        super().__init__(("127.0.0.1", port), Handler)
        self.drive, self.oauth, self.faults = drive, oauth, faults
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def count(self, route: str) -> None:
        with self._count_lock:
            self.requests[route] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and a small body leave in one packet
    server: EmulatorServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        logger.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if self.headers.get("Transfer-Encoding"):
            return self._send(json_response(411, ApiError(411, "required", "Length Required").body()))
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(json_response(413, ApiError(413, "uploadTooLarge", "Request too large").body()))
        body = self.rfile.read(length)
        if url.path in ("/token", "/auth"):
            self.server.count("oauth" + url.path.replace("/", "."))
            return self._send(self._oauth(url.path, params, body))
        route, match = self._route(url.path)
        if route is None:
            return self._send(json_response(404, ApiError(404, "notFound", "Not Found").body()))
        self.server.count(route)
        faults = self.server.faults
        if faults.latency_s:
            time.sleep(faults.latency_s)
        error, drop = faults.draw()
        if drop == "before":
            if route == "upload.chunk":  # the connection died halfway through the chunk
                self._call(route, match.groupdict(), params, body[: len(body) // 2], url)
            return self._drop()
        if error is not None:
            return self._send(json_response(error.status, error.body()))
        if not self.server.oauth.valid(self.headers.get("Authorization")):
            return self._send(json_response(401, _unauthenticated()))
        response = self._call(route, match.groupdict(), params, body, url)
        if drop == "after":
            return self._drop()
        self._send(response)

    def _route(self, path: str):
        for method, pattern, name in ROUTES:
            if method == self.command and (match := pattern.fullmatch(path)):
                return name, match
        return None, None

    def _call(self, route: str, ids: dict, params: dict, body: bytes, url) -> Response:
        try:
            handler = getattr(self, "_" + route.replace(".", "_"))
            return handler(ids.get("id"), params, body, url)
        except ApiError as e:
            return json_response(e.status, e.body())
        except ValueError:  # a number parameter that is not a number
            return json_response(400, ApiError(400, "invalid", "Invalid Value").body())

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _drop(self) -> None:
        self.close_connection = True

    def _oauth(self, path: str, params: dict, body: bytes) -> Response:
        oauth = self.server.oauth
        try:
            if path == "/auth" and self.command == "GET":
                return Response(302, headers={"Location": oauth.authorize(params)})
            if path == "/token" and self.command == "POST":
                form = dict(parse_qsl(body.decode()))
                return json_response(200, oauth.token(form, self.headers.get("Authorization")))
        except OAuthError as e:
            return json_response(e.status, e.body())
        return json_response(405, {"error": "invalid_request", "error_description": "Method not allowed"})

    # --- Drive v3 methods -------------------------------------------------------------

    def _file(self, file: File, params: dict) -> Response:
        return json_response(200, apply_fields(file.resource(), _mask(params, _DEFAULT_FILE)))

    def _files_generateIds(self, _id, params, body, url) -> Response:
        ids = self.server.drive.generate_ids(int(params.get("count", 10)))
        return json_response(200, {"kind": "drive#generatedIds", "space": "drive", "ids": ids})

    def _files_list(self, _id, params, body, url) -> Response:
        matches = parse_query(params.get("q"))
        found = [f for f in self.server.drive.listing() if matches(f)]
        start = int(params.get("pageToken") or 0)
        size = min(int(params.get("pageSize") or 100), 1000)
        page = {"kind": "drive#fileList", "incompleteSearch": False, "files": found[start : start + size]}
        if start + size < len(found):
            page["nextPageToken"] = str(start + size)
        return json_response(200, apply_fields(page, _mask(params, {"kind": {}, "incompleteSearch": {}, "nextPageToken": {}, "files": _DEFAULT_FILE})))

    def _files_get(self, file_id, params, body, url) -> Response:
        file = self.server.drive.get(file_id)
        if params.get("alt") != "media":
            return self._file(file, params)
        if not file.downloadable:
            raise ApiError(403, "fileNotDownloadable", "Only files with binary content can be downloaded.")
        return _media(file.content, self.headers.get("Range"))

    def _files_create(self, _id, params, body, url) -> Response:
        upload_type = params.get("uploadType")
        if upload_type == "resumable":
            return self._begin_upload(None, params, body, url)
        metadata, content = self._metadata_and_media(upload_type, body)
        return self._file(self.server.drive.create(metadata, content), params)

    def _files_update(self, file_id, params, body, url) -> Response:
        upload_type = params.get("uploadType")
        if upload_type == "resumable":
            return self._begin_upload(file_id, params, body, url)
        metadata, content = self._metadata_and_media(upload_type, body)
        return self._file(self.server.drive.update(file_id, metadata, content), params)

    def _files_delete(self, file_id, params, body, url) -> Response:
        self.server.drive.delete(file_id)
        return Response(204)

    def _metadata_and_media(self, upload_type: str | None, body: bytes) -> tuple[dict, bytes | None]:
        if upload_type is None:
            return _json_body(body), None
        if upload_type == "media":
            return {}, body
        if upload_type == "multipart":
            return _multipart(self.headers.get("Content-Type", ""), body)
        raise ApiError(400, "invalid", f"Invalid Value: uploadType={upload_type}")

    def _begin_upload(self, file_id, params, body, url) -> Response:
        total = self.headers.get("X-Upload-Content-Length")
        session = self.server.drive.begin_upload(file_id, _json_body(body), int(total) if total else None)
        location = f"http://{self.headers['Host']}{url.path}?{url.query}&upload_id={session}"
        return Response(200, headers={"Location": location})

    def _upload_chunk(self, _id, params, body, url) -> Response:
        header = self.headers.get("Content-Range")
        if header is None:  # the whole (possibly empty) content in one request
            start, total = 0, len(body)
        else:
            match = _CONTENT_RANGE.fullmatch(header.strip())
            if match is None:
                raise ApiError(400, "invalid", "Invalid Content-Range header")
            first, last, size = match.groups()
            start = int(first) if first is not None else None
            total = int(size) if size != "*" else None
            if first is not None and int(last) - int(first) + 1 != len(body):
                raise ApiError(400, "invalid", "Content-Range does not match the body length")
        upload: Upload = self.server.drive.upload_chunk(params.get("upload_id", ""), start, body, total)
        if upload.result is not None:
            return self._file(upload.result, params)
        headers = {"Range": f"bytes=0-{len(upload.received) - 1}"} if upload.received else {}
        return Response(308, headers=headers)

    def _changes_getStartPageToken(self, _id, params, body, url) -> Response:
        return json_response(200, {"kind": "drive#startPageToken", "startPageToken": self.server.drive.start_page_token()})

    def _changes_list(self, _id, params, body, url) -> Response:
        if "pageToken" not in params:
            raise ApiError(400, "required", "Required parameter: pageToken")
        size = min(int(params.get("pageSize") or 100), 1000)
        changes, next_token, new_start = self.server.drive.changes(params["pageToken"], size)
        if params.get("includeRemoved") == "false":
            changes = [c for c in changes if not c["removed"]]
        page = {"kind": "drive#changeList", "changes": changes}
        if next_token:
            page["nextPageToken"] = next_token
        if new_start:
            page["newStartPageToken"] = new_start
        default = {"kind": {}, "nextPageToken": {}, "newStartPageToken": {},
                   "changes": {"kind": {}, "changeType": {}, "fileId": {}, "removed": {}, "time": {}, "file": _DEFAULT_FILE}}
        return json_response(200, apply_fields(page, _mask(params, default)))


def _mask(params: dict, default: dict) -> dict | None:
    return parse_fields(params["fields"]) if "fields" in params else default


def _unauthenticated() -> dict:
    message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
    body = ApiError(401, "authError", message).body()
    body["error"]["status"] = "UNAUTHENTICATED"
    return body


def _json_body(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        value = bounded_json.loads(body)
    except bounded_json.JsonRefused:
        raise ApiError(400, "parseError", "Parse Error") from None
    if not isinstance(value, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return value


def _multipart(content_type: str, body: bytes) -> tuple[dict, bytes]:
    """Split a ``multipart/related`` body into its JSON metadata and its media."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/related") or match is None:
        raise ApiError(400, "badContent", "Expected a multipart/related body")
    delimiter = b"--" + match.group(1).encode()
    parts = body.split(delimiter)[1:-1]
    if len(parts) != 2:
        raise ApiError(400, "badContent", "Expected two parts: metadata and media")
    metadata, media = (_part_content(part) for part in parts)
    return _json_body(metadata), media


def _part_content(part: bytes) -> bytes:
    ends = [i for i in (part.find(b"\r\n\r\n"), part.find(b"\n\n")) if i >= 0]
    if not ends:
        raise ApiError(400, "badContent", "Malformed multipart part")
    head = min(ends)
    content = part[head + (4 if part[head : head + 4] == b"\r\n\r\n" else 2) :]
    for newline in (b"\r\n", b"\n"):
        if content.endswith(newline):
            return content[: -len(newline)]
    return content


def _media(content: bytes, range_header: str | None) -> Response:
    headers = {"Content-Type": "application/octet-stream"}
    if range_header is None:
        return Response(200, content, headers)
    match = _RANGE.fullmatch(range_header.strip())
    if match is None:
        return Response(200, content, headers)
    first = int(match.group(1))
    last = min(int(match.group(2)) if match.group(2) else len(content) - 1, len(content) - 1)
    if first >= len(content):
        return Response(416, headers={"Content-Range": f"bytes */{len(content)}"})
    headers["Content-Range"] = f"bytes {first}-{last}/{len(content)}"
    return Response(206, content[first : last + 1], headers)
