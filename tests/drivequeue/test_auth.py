"""Credentials: where the token comes from, refresh, refusal, the consent flow, and no secret in any output."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
import threading
import traceback
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

import pytest

from drivequeue.auth import load_credentials, run_consent, token_json
from drivequeue.drive import open_drive_store
from drivequeue.drive_settings import DriveSettings
from drivequeue.errors import CredentialsError
from drivequeue.urls import open_store

COLAB_STUB = Path(__file__).parents[1] / "colab_worker" / "colab_stub"


def secrets_of(token: dict) -> list[str]:
    return [token[k] for k in ("token", "refresh_token", "client_secret")]


def test_the_token_variable_wins_over_the_file(tmp_path):
    path = tmp_path / "token.json"
    path.write_text('{"from": "file"}')
    assert token_json('{"from": "env"}', str(path)) == ('{"from": "env"}', "DRIVEQUEUE_TOKEN")
    assert token_json(None, str(path))[0] == '{"from": "file"}'


@pytest.fixture
def in_colab(monkeypatch):
    """``google.colab`` importable, as in a notebook (the stub reads secrets from COLAB_SECRET_*)."""
    before = {name: module for name, module in sys.modules.items() if name.startswith("google.colab")}
    for name in before:
        del sys.modules[name]
    monkeypatch.syspath_prepend(str(COLAB_STUB))
    yield
    for name in [m for m in sys.modules if m.startswith("google.colab")]:
        del sys.modules[name]
    sys.modules.update(before)


def test_the_colab_secret_is_used_when_nothing_else_is_set(in_colab, monkeypatch):
    monkeypatch.setenv("COLAB_SECRET_DRIVEQUEUE_TOKEN", '{"from": "colab"}')
    assert token_json(None, None) == ('{"from": "colab"}', "the Colab secret DRIVEQUEUE_TOKEN")
    monkeypatch.delenv("COLAB_SECRET_DRIVEQUEUE_TOKEN")
    with pytest.raises(CredentialsError, match="no Google Drive credentials are configured"):
        token_json(None, None)


def test_missing_credentials_say_how_to_fix_them():
    with pytest.raises(CredentialsError) as caught:
        load_credentials(None, None)
    message = str(caught.value)
    assert "drivequeue auth CLIENT_SECRET.json" in message and "DRIVEQUEUE_TOKEN" in message


def test_an_unreadable_token_file_is_named(tmp_path):
    with pytest.raises(CredentialsError, match=f"cannot read DRIVEQUEUE_TOKEN_FILE {tmp_path}/nope.json"):
        load_credentials(None, str(tmp_path / "nope.json"))


@pytest.mark.parametrize("text, problem", [
    ('{"refresh_token": "1//SECRETVALUE", "client_id": "c"', "does not hold valid JSON"),
    ('["1//SECRETVALUE"]', "does not hold a JSON object"),
    ('{"refresh_token": "1//SECRETVALUE", "client_id": "c"}', "lacks client_secret"),
    ('{"refresh_token": "1//SECRETVALUE", "client_id": "c", "client_secret": "s", "token_uri": "https://evil.example/token"}',
     "unknown token_uri host 'evil.example'"),
])
def test_malformed_tokens_are_refused_without_showing_them(text, problem):
    with pytest.raises(CredentialsError) as caught:
        load_credentials(text, None)
    assert problem in str(caught.value)
    shown = "".join(traceback.format_exception(caught.value))
    assert "SECRETVALUE" not in shown


def test_an_expired_access_token_is_refreshed_by_the_library(drive_env):
    store = open_store(f"drive://id:{drive_env.create_folder('queue')}")
    drive_env.oauth.expire_access_tokens()
    assert store.list() == []
    assert drive_env.requests["oauth.token"] == 1


def test_a_revoked_token_gives_one_clear_error_and_no_secret_anywhere(drive_env, caplog, capfd):
    token = drive_env.token_info()
    settings = DriveSettings(token=json.dumps(token), endpoint=drive_env.url)
    store = open_drive_store(f"drive://id:{drive_env.create_folder('queue')}", settings)
    drive_env.oauth.revoke(token["refresh_token"])
    google_logger = logging.getLogger("google")
    google_logger.addHandler(caplog.handler)  # what a user who logs the Google libraries would see
    try:
        with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="google"):
            with pytest.raises(CredentialsError) as caught:
                store.list()
    finally:
        google_logger.removeHandler(caplog.handler)
    message = str(caught.value)
    assert "invalid_grant" in message and "drivequeue auth" in message and "7 days" in message
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "Making request: POST " in logged  # the refused refresh was logged at DEBUG
    output = capfd.readouterr()
    shown = "".join(traceback.format_exception(caught.value)) + logged + output.out + output.err
    for secret in secrets_of(token):
        assert secret not in shown


def test_a_revoked_token_on_the_command_line(drive_env, monkeypatch, tmp_path):
    token = drive_env.token_info()
    url = f"drive://id:{drive_env.create_folder('queue')}"
    monkeypatch.setenv("DRIVEQUEUE_TOKEN", json.dumps(token))
    drive_env.oauth.revoke(token["refresh_token"])
    result = subprocess.run([sys.executable, "-m", "drivequeue", "selfcheck", "--queue", url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "invalid_grant" in result.stderr + result.stdout
    for secret in secrets_of(token):
        assert secret not in result.stdout + result.stderr


@pytest.fixture
def client_secret(drive_emulator, tmp_path):
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(drive_emulator.client_config()))
    return path


def follow_consent(url: str) -> str:
    """What the user's browser does: open the consent URL and end on the redirect address."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=10)
    except urllib.error.HTTPError as redirect:
        return redirect.headers["Location"]
    raise AssertionError("the consent page did not redirect")


def test_consent_without_a_browser_by_pasting_the_address(drive_emulator, client_secret):
    shown = []

    def ask(prompt):
        url = next(line for line in shown[0].splitlines() if line.startswith("http"))
        return follow_consent(url)

    credentials = run_consent(client_secret, paste=True, show=shown.append, ask=ask)
    assert credentials.refresh_token and credentials.valid
    assert credentials.scopes == ["https://www.googleapis.com/auth/drive.file"]
    settings = DriveSettings(token=credentials.to_json(), endpoint=drive_emulator.url)
    assert open_drive_store(f"drive://id:{drive_emulator.create_folder('q')}", settings).list() == []


def test_a_pasted_address_with_a_stale_code_is_a_clear_error(drive_emulator, client_secret):
    shown = []

    def ask(prompt):
        url = next(line for line in shown[0].splitlines() if line.startswith("http"))
        state = url.split("state=")[1].split("&")[0]
        return f"http://localhost:1/?state={state}&code=4/stale"

    with pytest.raises(CredentialsError, match=r"Google refused the sign-in \(invalid_grant: Malformed auth code.\)"):
        run_consent(client_secret, paste=True, show=shown.append, ask=ask)


class ConsentBrowser(webbrowser.BaseBrowser):
    """A 'browser' that opens the consent page and follows its redirect to the local server."""

    def open(self, url, new=0, autoraise=True):
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read(), daemon=True).start()
        return True


def test_consent_with_a_browser_catches_the_redirect_on_a_local_port(client_secret):
    webbrowser.register("drivequeue-test", None, ConsentBrowser("drivequeue-test"))
    credentials = run_consent(client_secret, browser="drivequeue-test")
    assert credentials.refresh_token and credentials.valid


def test_auth_command_prints_the_token_and_creates_the_folder(drive_emulator, client_secret, monkeypatch):
    monkeypatch.setenv("DRIVEQUEUE_DRIVE_ENDPOINT", drive_emulator.url)
    process = subprocess.Popen(
        [sys.executable, "-m", "drivequeue", "auth", str(client_secret), "--no-browser", "--folder", "stories"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = next(line for line in iter(process.stderr.readline, "") if line.startswith("http"))
    out, err = process.communicate(follow_consent(url.strip()) + "\n", timeout=60)
    assert process.returncode == 0, err
    token_line, url_line = out.strip().splitlines()
    token = json.loads(token_line)
    assert token["token_uri"] == f"{drive_emulator.url}/token"
    assert url_line.startswith("DRIVEQUEUE_URL=drive://id:")
    settings = DriveSettings(token=token_line, endpoint=drive_emulator.url)
    assert open_drive_store("drive://stories", settings).url == url_line.split("=", 1)[1]


def auth_out(client_secret: Path, out: Path) -> subprocess.CompletedProcess:
    """``drivequeue auth --no-browser --out OUT``, with the consent given as a person would."""
    process = subprocess.Popen(
        [sys.executable, "-m", "drivequeue", "auth", str(client_secret), "--no-browser", "--out", str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = next(line for line in iter(process.stderr.readline, "") if line.startswith("http"))
    out_text, err = process.communicate(follow_consent(url.strip()) + "\n", timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out_text, err)


def test_auth_replaces_an_existing_token_file_with_a_private_one(client_secret, tmp_path):
    out = tmp_path / "token.json"
    out.write_text("the old token")
    out.chmod(0o644)
    old_inode = out.stat().st_ino
    run = auth_out(client_secret, out)
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.stat().st_ino != old_inode  # a new file renamed over the old one, not rewritten in place
    assert json.loads(out.read_text())["refresh_token"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client_secret.json", "token.json"]  # no leftovers


def test_auth_replaces_a_link_at_the_token_path_and_never_writes_through_it(client_secret, tmp_path):
    target = tmp_path / "shared.txt"
    target.write_text("not a token")
    target.chmod(0o644)
    out = tmp_path / "token.json"
    out.symlink_to(target)
    run = auth_out(client_secret, out)
    assert run.returncode == 0, run.stderr
    assert target.read_text() == "not a token" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not out.is_symlink() and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["refresh_token"]


def test_auth_that_cannot_write_its_file_prints_the_token_instead(client_secret, tmp_path):
    out = tmp_path / "a-folder"
    out.mkdir()
    run = auth_out(client_secret, out)
    assert run.returncode == 0
    assert f"cannot write {out}" in run.stderr and "Traceback" not in run.stderr
    assert json.loads(run.stdout)["refresh_token"]
    assert set(tmp_path.iterdir()) == {client_secret, out} and list(out.iterdir()) == []  # no leftovers


def test_folder_command_creates_the_folder_once_and_then_finds_it(drive_env):
    runs = [subprocess.run([sys.executable, "-m", "drivequeue", "folder", "stories"],
                           capture_output=True, text=True, timeout=60) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith("DRIVEQUEUE_URL=drive://id:")
    assert "Created queue folder 'stories'" in runs[0].stderr
    assert "Found the existing queue folder 'stories'" in runs[1].stderr
    assert open_store("drive://stories").url == runs[0].stdout.strip().split("=", 1)[1]
