"""``colab-worker generate``, ``evaluate`` and ``train`` asked for a GPU that is not there: one line, status 2."""

import os
import subprocess
import sys

import pytest

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
