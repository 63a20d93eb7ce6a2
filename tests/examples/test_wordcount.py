"""The wordcount example, a job kind in one function, end to end through the command line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.colab_worker.worker_support import REPO, drivequeue, queue_env

PLUGIN = ("--plugin", "examples.wordcount.plugin")


def test_the_whole_plugin_is_ten_lines():
    assert len((REPO / "examples" / "wordcount" / "plugin.py").read_text().splitlines()) <= 10


def test_a_pushed_file_goes_in_and_its_most_frequent_words_come_out(tmp_path):
    env = queue_env(tmp_path, PYTHONPATH=str(REPO))
    (tmp_path / "text.txt").write_text("The cat and the dog and THE bird\n")
    drivequeue(env, "push", str(tmp_path / "text.txt"), "inputs/text.txt")
    shown = drivequeue(env, *PLUGIN, "submit", "wordcount", "--help")
    assert "The most frequent words of a pushed text file" in shown and "top (default 10): a whole number from 1 to 100" in shown
    job = drivequeue(env, *PLUGIN, "submit", "wordcount", "--payload", '{"text": "inputs/text.txt", "top": 2}').strip()
    served = subprocess.run([sys.executable, "-m", "drivequeue", "worker", *PLUGIN, "--max-jobs", "1"],
                            env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert served.returncode == 0, served.stdout + served.stderr
    assert json.loads(drivequeue(env, *PLUGIN, "result", job, "--json"))["result"] == [["the", 3], ["and", 2]]
