"""The Drive emulator speaks Drive's HTTP protocol and reproduces the behaviour the store relies on."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from drivequeue.emulator import Emulator, Faults


class Client:
    """Raw HTTP to the emulator, with a valid access token."""

    def __init__(self, emulator: Emulator):
        self.netloc = urlsplit(emulator.url).netloc
        client_id = emulator.client_config()["installed"]["client_id"]
        self.token = emulator.oauth.grant(client_id)[1]

    def request(self, method, path, body=b"", headers=None, auth=True):
        conn = http.client.HTTPConnection(self.netloc, timeout=10)
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, dict):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method, path, body=b"", headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None

    def new_id(self):
        return self.json("GET", "/drive/v3/files/generateIds?count=1")[1]["ids"][0]


@pytest.fixture
def emulator():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emulator):
    return Client(emulator)


def test_second_create_with_the_same_id_gets_409_even_after_delete(client):
    file_id = client.new_id()
    body = {"id": file_id, "name": "claim"}
    assert client.json("POST", "/drive/v3/files", body)[0] == 200
    status, error = client.json("POST", "/drive/v3/files", body)
    assert status == 409
    assert error["error"]["errors"][0]["reason"] == "duplicate"
    assert client.request("DELETE", f"/drive/v3/files/{file_id}")[0] == 204
    assert client.json("POST", "/drive/v3/files", body)[0] == 409


def test_create_refuses_an_id_it_did_not_issue(client):
    status, error = client.json("POST", "/drive/v3/files", {"id": "1" + "a" * 32, "name": "job"})
    assert status == 400
    assert "not usable" in error["error"]["message"]


def test_names_need_not_be_unique(client):
    for _ in range(2):
        assert client.json("POST", "/drive/v3/files", {"name": "job"})[0] == 200
    status, page = client.json("GET", "/drive/v3/files?q=name%20%3D%20'job'")
    assert status == 200 and len(page["files"]) == 2


def test_updates_are_unconditional_the_last_writer_wins(client):
    status, file = client.json("POST", "/drive/v3/files", {"name": "output"})
    for content in (b"first", b"second"):
        headers = {"If-Match": "stale-etag"}
        assert client.request("PATCH", f"/upload/drive/v3/files/{file['id']}?uploadType=media", content, headers)[0] == 200
    assert client.request("GET", f"/drive/v3/files/{file['id']}?alt=media")[2] == b"second"


def test_multipart_create_stores_metadata_and_media(client):
    file_id = client.new_id()
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps({"id": file_id, "name": "job", "appProperties": {"tag": "x"}})
        + f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"\x00\r\n\n payload" + f"\r\n--{boundary}--".encode()
    headers = {"Content-Type": f'multipart/related; boundary="{boundary}"'}
    status, file = client.json("POST", "/upload/drive/v3/files?uploadType=multipart&fields=id,md5Checksum,appProperties", body, headers)
    assert status == 200
    assert file == {"id": file_id, "md5Checksum": hashlib.md5(b"\x00\r\n\n payload").hexdigest(), "appProperties": {"tag": "x"}}
    assert client.request("GET", f"/drive/v3/files/{file_id}?alt=media")[2] == b"\x00\r\n\n payload"


def test_fields_masks_keep_responses_small(client):
    client.json("POST", "/drive/v3/files", {"name": "job"})
    status, page = client.json("GET", "/drive/v3/files?fields=files(id)")
    assert status == 200
    assert list(page) == ["files"] and list(page["files"][0]) == ["id"]


def test_name_listings_lag_but_reads_by_id_and_the_changes_feed_do_not():
    with Emulator(list_lag_s=3) as emulator:
        client = Client(emulator)
        token = client.json("GET", "/drive/v3/changes/startPageToken")[1]["startPageToken"]
        file = client.json("POST", "/drive/v3/files", {"name": "job"})[1]
        assert client.json("GET", "/drive/v3/files")[1]["files"] == []
        assert client.json("GET", f"/drive/v3/files/{file['id']}")[0] == 200
        changes = client.json("GET", f"/drive/v3/changes?pageToken={token}")[1]
        assert [c["fileId"] for c in changes["changes"]] == [file["id"]]
        assert changes["newStartPageToken"] != token
        deadline = time.monotonic() + 20
        while not client.json("GET", "/drive/v3/files")[1]["files"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [f["id"] for f in client.json("GET", "/drive/v3/files")[1]["files"]] == [file["id"]]
        client.request("DELETE", f"/drive/v3/files/{file['id']}")
        assert [f["id"] for f in client.json("GET", "/drive/v3/files")[1]["files"]] == [file["id"]]
        removed = client.json("GET", f"/drive/v3/changes?pageToken={changes['newStartPageToken']}")[1]
        assert removed["changes"][0]["removed"] is True


def test_changes_feed_pages(client):
    token = client.json("GET", "/drive/v3/changes/startPageToken")[1]["startPageToken"]
    ids = [client.json("POST", "/drive/v3/files", {"name": "job"})[1]["id"] for _ in range(5)]
    seen, page = [], {"nextPageToken": token}
    while "nextPageToken" in page:
        page = client.json("GET", f"/drive/v3/changes?pageSize=2&pageToken={page['nextPageToken']}")[1]
        seen += [c["fileId"] for c in page["changes"]]
    assert seen == ids and "newStartPageToken" in page


def test_resumable_upload_reports_what_arrived_and_resumes_from_there(client):
    data = os.urandom(1000)
    status, headers, _ = client.request(
        "POST", "/upload/drive/v3/files?uploadType=resumable&fields=id,md5Checksum,size",
        json.dumps({"name": "blob"}).encode(),
        {"Content-Type": "application/json", "X-Upload-Content-Length": "1000"})
    assert status == 200
    session = urlsplit(headers["Location"])
    path = f"{session.path}?{session.query}"
    status, headers, _ = client.request("PUT", path, data[:400], {"Content-Range": "bytes 0-399/1000"})
    assert status == 308 and headers["Range"] == "bytes=0-399"
    status, headers, _ = client.request("PUT", path, b"", {"Content-Range": "bytes */1000"})
    assert status == 308 and headers["Range"] == "bytes=0-399"
    # a resent chunk that overlaps what already arrived is fine
    status, _, body = client.request("PUT", path, data[300:], {"Content-Range": "bytes 300-999/1000"})
    assert status == 200
    file = json.loads(body)
    assert file["md5Checksum"] == hashlib.md5(data).hexdigest() and file["size"] == "1000"


def test_media_download_honours_ranges(client):
    file = client.json("POST", "/upload/drive/v3/files?uploadType=media", b"0123456789")[1]
    status, headers, body = client.request("GET", f"/drive/v3/files/{file['id']}?alt=media", headers={"Range": "bytes=2-5"})
    assert (status, body, headers["Content-Range"]) == (206, b"2345", "bytes 2-5/10")
    status, headers, _ = client.request("GET", f"/drive/v3/files/{file['id']}?alt=media", headers={"Range": "bytes=10-20"})
    assert (status, headers["Content-Range"]) == (416, "bytes */10")


def test_requests_without_a_live_access_token_get_401(emulator, client):
    assert client.request("GET", "/drive/v3/files", auth=False)[0] == 401
    emulator.oauth.expire_access_tokens()
    status, error = client.json("GET", "/drive/v3/files")
    assert status == 401 and error["error"]["status"] == "UNAUTHENTICATED"


def test_unsupported_queries_are_refused(client):
    status, error = client.json("GET", "/drive/v3/files?q=fullText%20contains%20'x'")
    assert status == 400 and "unsupported query" in error["error"]["message"]


@pytest.mark.parametrize("status, reason", [(403, "userRateLimitExceeded"), (429, "rateLimitExceeded"),
                                            (500, "backendError"), (503, "backendError")])
def test_injected_errors_look_like_drive_errors(emulator, client, status, reason):
    emulator.faults.fail_rate, emulator.faults.statuses = 1.0, (status,)
    answered, error = client.json("GET", "/drive/v3/files")
    assert answered == status and error["error"]["errors"][0]["reason"] == reason


def test_injected_drops_close_the_connection_without_an_answer(emulator, client):
    emulator.faults.script = ["drop-after"]
    with pytest.raises(http.client.RemoteDisconnected):
        client.request("POST", "/drive/v3/files", {"name": "job"})
    # the work was done although no answer came back
    assert len(client.json("GET", "/drive/v3/files")[1]["files"]) == 1


def test_fault_rate_is_roughly_the_configured_fraction():
    faults = Faults(fail_rate=0.2, drop_rate=0.1, seed=7)
    draws = [faults.draw() for _ in range(2000)]
    errors = sum(1 for error, _ in draws if error is not None)
    drops = sum(1 for _, drop in draws if drop is not None)
    assert 300 < errors < 500 and 130 < drops < 270


def test_command_line_prints_the_environment_and_serves(tmp_path):
    token_file = tmp_path / "token.json"
    # started with SIGINT ignored, as a shell starts a background job: Ctrl-C still stops it
    process = subprocess.Popen(
        [sys.executable, "-m", "drivequeue.emulator", "--port", "0", "--token-file", str(token_file),
         "--folder", "queue", "--latency-ms", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(3))
        endpoint = lines["DRIVEQUEUE_DRIVE_ENDPOINT"]
        assert lines["DRIVEQUEUE_TOKEN_FILE"] == str(token_file)
        assert lines["DRIVEQUEUE_URL"].startswith("drive://id:")
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = json.loads(token_file.read_text())
        conn = http.client.HTTPConnection(urlsplit(endpoint).netloc, timeout=10)
        conn.request("GET", "/drive/v3/files", headers={"Authorization": f"Bearer {token['token']}"})
        assert conn.getresponse().status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_command_line_runs_a_command_against_the_emulator():
    result = subprocess.run(
        [sys.executable, "-m", "drivequeue.emulator", "--port", "0", "--folder", "stories", "--list-lag-s", "2",
         "--", sys.executable, "-m", "drivequeue", "selfcheck"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "DRIVEQUEUE_URL=drive://id:" in result.stdout
    assert "all steps passed" in result.stdout
