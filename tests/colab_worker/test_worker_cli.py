"""``colab-worker run`` refuses bad settings with one clear line, before touching the queue."""

import subprocess
import sys

from tests.colab_worker.worker_support import REPO, queue_env


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "colab_worker", "run", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_a_model_file_that_does_not_exist_is_one_line_and_status_1(tmp_path):
    done = run(queue_env(tmp_path), "--model", str(tmp_path / "missing.pt"))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("colab-worker run: model 'default' cannot be loaded: no model file at")
    assert "Traceback" not in done.stderr


def test_asking_for_a_gpu_that_is_not_there_says_so(tmp_path):
    done = run(queue_env(tmp_path, CUDA_VISIBLE_DEVICES=""), "--device", "cuda")  # no GPU, also on a GPU box
    assert done.returncode == 2
    assert "no CUDA GPU is visible" in done.stderr and "Traceback" not in done.stderr


def test_bad_numbers_name_the_setting(tmp_path):
    done = run(queue_env(tmp_path, COLAB_WORKER_MAX_BATCH="lots"))
    assert done.returncode == 2
    assert "COLAB_WORKER_MAX_BATCH must be a number" in done.stderr
    assert not (tmp_path / "queue").exists()  # nothing was created
