"""``colab-worker run`` refuses bad settings with one clear line, before touching the queue.

Asking for CUDA runs the command in a process of its own, started without a visible GPU; the
other settings are checked by the command's ``main`` in this process."""

import subprocess
import sys

import pytest

from colab_worker.cli import main
from tests.colab_worker.worker_support import REPO, queue_env


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The worker's environment (``queue_env``) set in this process; changes go through ``setenv``."""
    for name, value in queue_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_a_model_file_that_does_not_exist_is_one_line_and_status_1(env, tmp_path, capsys):
    assert main(["run", "--model", str(tmp_path / "missing.pt")]) == 1
    err = capsys.readouterr().err
    assert err.strip().startswith("colab-worker run: model 'default' cannot be loaded: no model file at")
    assert "Traceback" not in err


def test_asking_for_a_gpu_that_is_not_there_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "colab_worker", "run", "--device", "cuda"],
                          env=queue_env(tmp_path, CUDA_VISIBLE_DEVICES=""),  # no GPU, also on a GPU box
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "no CUDA GPU is visible" in done.stderr and "Traceback" not in done.stderr


def test_bad_numbers_name_the_setting(env, tmp_path, capsys):
    env.setenv("COLAB_WORKER_MAX_BATCH", "lots")
    assert main(["run"]) == 2
    assert "COLAB_WORKER_MAX_BATCH must be a number" in capsys.readouterr().err
    assert not (tmp_path / "queue").exists()  # nothing was created
