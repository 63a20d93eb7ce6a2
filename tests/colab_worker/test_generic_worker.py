"""The story server's kinds on a generic worker: ``drivequeue worker`` loads no model and no
torch until ``--kinds`` names story or train, and then serves them like ``colab-worker run``."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.colab_worker.worker_support import REPO, drivequeue, queue_env

PLUGINS = ("--plugin", "colab_worker.plugin", "--plugin", "tests.drivequeue.fn_plugin")


def generic_worker(env, *args):
    done = subprocess.run([sys.executable, "-m", "drivequeue", "worker", *PLUGINS, "--max-jobs", "1", *args],
                          env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_story_and_train_are_served_only_when_named(tmp_path):
    env = queue_env(tmp_path, PYTHONPATH=str(REPO))
    (tmp_path / "words.txt").write_text("a b a\n")
    drivequeue(env, "push", str(tmp_path / "words.txt"), "in/words.txt")
    story = drivequeue(env, "submit", "story", "--seed", "Once upon a time", "--lines", "2").strip().splitlines()[-1]
    count = drivequeue(env, *PLUGINS, "submit", "wordcount", "--payload", '{"text": "in/words.txt"}').strip()

    out = generic_worker(env)
    assert "serving scale, wordcount on cpu" in out
    result = json.loads(drivequeue(env, *PLUGINS, "result", count, "--json"))
    assert result["result"]["torch_loaded"] is False  # story and train not asked for: no model, no torch
    assert json.loads(drivequeue(env, "status", story, "--json"))["status"] == "queued"

    out = generic_worker(env, "--kinds", "story")
    assert "serving story on cpu" in out
    done = json.loads(drivequeue(env, "status", story, "--json"))
    assert done["status"] == "done" and done["line_count"] == 2
