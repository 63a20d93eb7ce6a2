"""Notebook secrets: Colab's ``userdata`` and Kaggle's ``UserSecretsClient`` (stubs of both modules
that read ``COLAB_SECRET_*`` and ``KAGGLE_SECRET_*`` variables), for the token and the notebook's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivequeue import notebook_secrets
from drivequeue.auth import token_json
from drivequeue.errors import CredentialsError

STUBS = Path(__file__).parents[1] / "colab_worker"
REPO = Path(__file__).parents[2]


@pytest.fixture
def on_platform(monkeypatch):
    """``on_platform("colab_stub")`` or ``("kaggle_stub")``: that platform's module importable."""
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name.startswith("google.colab") or name == "kaggle_secrets"}

    def enter(stub: str) -> None:
        monkeypatch.syspath_prepend(str(STUBS / stub))

    yield enter
    for name in [m for m in sys.modules if m.startswith("google.colab") or m == "kaggle_secrets"]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_off_any_notebook_nothing_is_found(on_platform):
    assert notebook_secrets.notebook_secret("DRIVEQUEUE_TOKEN") is None


def test_the_kaggle_secret_is_found_and_a_missing_one_is_none(on_platform, monkeypatch):
    on_platform("kaggle_stub")
    monkeypatch.setenv("KAGGLE_SECRET_DRIVEQUEUE_TOKEN", '{"from": "kaggle"}')
    assert token_json(None, None) == ('{"from": "kaggle"}', "the Kaggle secret DRIVEQUEUE_TOKEN")
    assert notebook_secrets.notebook_secret("DRIVEQUEUE_URL") is None


def test_a_colab_secret_the_notebook_may_not_read_says_how_to_allow_it(on_platform, monkeypatch):
    on_platform("colab_stub")
    from google.colab import userdata

    def refuse(name):
        raise userdata.NotebookAccessError(name)

    monkeypatch.setattr(userdata, "get", refuse)
    with pytest.raises(CredentialsError, match="Notebook access"):
        token_json(None, None)


def test_export_copies_set_secrets_and_keeps_what_the_environment_has(on_platform, monkeypatch):
    on_platform("kaggle_stub")
    monkeypatch.setenv("KAGGLE_SECRET_DRIVEQUEUE_URL", "redis://kaggle:6379")
    monkeypatch.setenv("KAGGLE_SECRET_DRIVEQUEUE_TOKEN", "{}")
    environ = {"DRIVEQUEUE_TOKEN": "already here"}
    copied = notebook_secrets.export(["DRIVEQUEUE_URL", "DRIVEQUEUE_TOKEN", "DRIVEQUEUE_POLL"], environ)
    assert copied == {"DRIVEQUEUE_URL": "the Kaggle secret DRIVEQUEUE_URL"}
    assert environ == {"DRIVEQUEUE_URL": "redis://kaggle:6379", "DRIVEQUEUE_TOKEN": "already here"}


@pytest.mark.parametrize("stub, variable", [("colab_stub", "COLAB_SECRET_DRIVEQUEUE_TOKEN"),
                                            ("kaggle_stub", "KAGGLE_SECRET_DRIVEQUEUE_TOKEN")])
def test_a_drivequeue_command_in_a_notebook_cell_finds_the_token(drive_env, stub, variable):
    """``!drivequeue selfcheck`` runs as a child process of the notebook: with the token only as a
    secret of the platform, it still reaches the (emulated) Drive folder."""
    env = dict(os.environ)
    env[variable] = env.pop("DRIVEQUEUE_TOKEN")
    env["PYTHONPATH"] = os.pathsep.join([str(STUBS / stub), env.get("PYTHONPATH", "")])
    url = f"drive://id:{drive_env.create_folder('cells')}"
    done = subprocess.run([sys.executable, "-m", "drivequeue", "selfcheck", "--queue", url], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all steps passed" in done.stdout
