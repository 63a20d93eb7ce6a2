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


@pytest.mark.parametrize("flag, value, message", [  # the ranges a story job takes, as the web page and drivequeue do
    ("--temperature", "0", "--temperature must be a number from 0.1 to 2"),
    ("--top-p", "0", "--top-p must be a number above 0 and at most 1"),
    ("--top-k", "-3", "--top-k must be a whole number from 0 to 200"),
    ("--random-seed", "-1", "--random-seed must be a whole number from 0 to 4294967295"),
    ("--max-line-chars", "5", "--max-line-chars must be a whole number from 20 to 1000"),
])
def test_generate_names_the_flag_that_is_out_of_range(flag, value, message, capsys):
    assert main(["generate", "--seed", "Hi", "--lines", "1", f"{flag}={value}"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"colab-worker generate: {message}\n"


@pytest.mark.parametrize("command", [["evaluate", "corpus/grimm.txt"], ["evaluate", "--split", "reference", "corpus/grimm.txt"],
                                     ["train", "corpus/grimm.txt", "--out", "m.pt"]])
def test_a_missing_corpus_file_says_where_the_books_come_from(command, tmp_path):
    done = subprocess.run([sys.executable, "-m", "colab_worker", *command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"colab-worker {command[0]}: there is no file corpus/grimm.txt. The corpus books are not "
                           "part of the repository: docs/corpus.md says how to download them into corpus/\n")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("flags, message", [  # settings training cannot run with
    (["--embedding-dim", "64", "--hidden-size", "128"], "tied embeddings need embedding-dim == hidden-size, "
                                                        "not 64 and 128"),
    (["--eval-every", "0"], "eval-every must be at least 1, not 0"),
    (["--lr-patience", "0"], "lr-patience must be at least 1, not 0"),
    (["--max-epochs", "0"], "max-epochs must be at least 1, not 0"),
    (["--lr-decay", "1.5"], "lr-decay must be above 0 and at most 1, not 1.5"),
    (["--lr-schedule", "sideways"], "unknown learning rate schedule 'sideways': use plateau or cosine"),
    (["--lr-schedule", "cosine", "--steps", "0"],
     "the cosine learning rate schedule needs a step limit (steps above 0)"),
])
def test_train_refuses_settings_it_cannot_run_with_in_one_line_before_reading_the_corpus(flags, message, tmp_path, capsys):
    assert main(["train", str(REPO / "README.md"), "--out", str(tmp_path / "m.pt"), *flags]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"colab-worker train: {message}\n"
    assert list(tmp_path.iterdir()) == []  # refused before anything was read or written
