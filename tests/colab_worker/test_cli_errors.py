"""Bad settings of ``colab-worker generate``, ``evaluate`` and ``train``: one line naming the flag, status 2.

Asking for CUDA runs the command in a process of its own, started without a visible GPU (CUDA
cannot be hidden from a process that may have looked at it); the other settings are checked
by the command's ``main`` in this process."""

import os
import subprocess
import sys

import pytest

from colab_worker.cli import main
from tests.colab_worker.worker_support import REPO


@pytest.mark.parametrize("command", [
    ["generate", "--seed", "Once", "--lines", "1"],
    ["evaluate", "README.md"],
    ["train", "README.md", "--out", "unused.pt", "--dry-run"],
])
def test_asking_for_cuda_without_a_gpu_is_one_clear_line(command, tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no GPU, also on a GPU box
    args = [arg.replace("unused.pt", str(tmp_path / "unused.pt")) for arg in command]
    done = subprocess.run([sys.executable, "-m", "colab_worker", *args, "--device", "cuda"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"colab-worker {command[0]}: device cuda asked for, but no CUDA GPU is visible; "
                                   "attach one or use --device cpu")
    assert not (tmp_path / "unused.pt").exists()


@pytest.mark.parametrize("flag, value, message", [
    ("--temperature", "-1", "--temperature must be a number from 0 to 10, not -1"),
    ("--top-p", "0", "--top-p must be a number above 0 and at most 1, not 0"),
    ("--top-k", "-3", "--top-k must be a whole number from 0 (off) to 10000, not -3"),
    ("--random-seed", "-1", "--random-seed must be a whole number from 0 to 9223372036854775807, not -1"),
])
def test_generate_names_the_flag_that_is_out_of_range(flag, value, message, capsys):
    assert main(["generate", "--seed", "Hi", "--lines", "1", f"{flag}={value}"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"colab-worker generate: {message}\n"
