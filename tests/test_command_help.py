"""Every command's --help reads as plain text: no reStructuredText markup from a docstring."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COMMANDS = [
    ("colab_worker",), ("colab_worker", "train"), ("colab_worker", "generate"), ("colab_worker", "evaluate"),
    ("colab_worker", "run"), ("drivequeue",), ("drivequeue", "submit", "story"), ("drivequeue", "submit", "train"),
    ("drivequeue", "tail"), ("drivequeue", "cancel"), ("webapp",), ("bench.worker_latency",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_plain_text(command):
    done = subprocess.run([sys.executable, "-m", *command, "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "``" not in done.stdout and "Traceback" not in done.stderr
    assert done.stdout.startswith("usage: ")
