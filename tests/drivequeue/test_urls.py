"""Choosing a store by URL."""

from __future__ import annotations

import sys
import types

import pytest

from drivequeue import open_store
from drivequeue.errors import BadStoreURL
from drivequeue.local import LocalStore


def test_a_file_url_opens_that_folder(tmp_path):
    store = open_store((tmp_path / "q").as_uri())
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "q"
    assert (tmp_path / "q").is_dir()
    assert open_store(store.url).root == store.root


def test_a_file_url_is_percent_decoded(tmp_path):
    store = open_store("file://" + str(tmp_path) + "/my%20queue")
    assert store.root == tmp_path / "my queue"


def test_a_plain_path_opens_that_folder(tmp_path):
    assert open_store(str(tmp_path / "plain")).root == tmp_path / "plain"


def test_the_environment_names_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("DRIVEQUEUE_URL", str(tmp_path / "from-env"))
    assert open_store().root == tmp_path / "from-env"


def test_without_url_or_environment_no_folder_is_made_up(tmp_path, monkeypatch):
    monkeypatch.delenv("DRIVEQUEUE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadStoreURL, match="^no queue is named: pass --queue URL, or set DRIVEQUEUE_URL"):
        open_store()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", [
    "", "  ", "http://example.com/q", "s3://bucket", "file://host/q", "file:relative/q",
])
def test_urls_that_name_no_store_are_rejected(url):
    with pytest.raises(BadStoreURL):
        open_store(url)


def test_a_file_is_not_a_queue_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(BadStoreURL):
        open_store(str(tmp_path / "f"))


def test_drive_urls_are_handed_to_the_drive_module(monkeypatch):
    opened = []
    drive = types.ModuleType("drivequeue.drive")
    drive.open_drive_store = lambda url: opened.append(url) or "a drive store"
    monkeypatch.setitem(sys.modules, "drivequeue.drive", drive)
    assert open_store("drive://id:abc") == "a drive store"
    assert opened == ["drive://id:abc"]


def test_drive_urls_fail_clearly_without_drive_support(monkeypatch):
    monkeypatch.setitem(sys.modules, "drivequeue.drive", None)
    with pytest.raises(BadStoreURL, match="Google Drive support is not available"):
        open_store("drive://id:abc")
