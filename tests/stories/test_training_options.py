"""One set of training options, from one place: the same names and defaults on `colab-worker train`,
`drivequeue submit train` and in a train job, each default read from ModelConfig or TrainConfig."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from stories.kinds import TRAIN
from stories.training import TRAIN_OPTIONS, ModelConfig, TrainConfig, model_settings, train_settings

REPO = Path(__file__).resolve().parents[2]
#: a value other than its default for every training option, each cheap to train with (the
#: tests that every option reaches the model, through each command and a train job, use it)
NOT_DEFAULTS = {"steps": 3, "tokenizer": "bpe", "vocab_size": 300, "hidden_size": 24, "layers": 1,
                "embedding_dim": 12, "tie_embeddings": False, "dropout": 0.2, "seq_len": 16, "batch_size": 4,
                "learning_rate": 0.02, "random_seed": 5}


def flags_for(options: dict) -> list[str]:
    """The command-line flags that set ``options`` (by name)."""
    return [arg for option in TRAIN_OPTIONS if option.name in options for arg in
            ([option.flag if options[option.name] else f"--no-{option.flag[2:]}"]
             if isinstance(options[option.name], bool) else [option.flag, str(options[option.name])])]


def help_of(*command: str) -> str:
    done = subprocess.run([sys.executable, "-m", *command, "--help"], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def option_lines(text: str) -> dict[str, str]:
    """``{flag: its help line}`` for the training options in a --help."""
    found = {}
    for option in TRAIN_OPTIONS:
        match = re.search(rf"^  {re.escape(option.flag)}[ ,].*?(?=^  -|^\s*$)", text, re.M | re.S)
        assert match, f"{option.flag} is missing"
        found[option.flag] = " ".join(match.group(0).split()).replace(f", --no-{option.flag[2:]}", "")
    return found


def test_both_command_lines_offer_the_same_options_with_the_same_defaults():
    worker = option_lines(help_of("colab_worker", "train"))
    queue = option_lines(help_of("drivequeue", "submit", "train"))
    assert worker == queue
    defaults = {f.name: f.default for config in (ModelConfig, TrainConfig) for f in fields(config)}
    for option in TRAIN_OPTIONS:
        default = defaults[option.field]
        shown = ("yes" if default else "no") if isinstance(default, bool) else f"{default:g}" \
            if isinstance(default, float) else str(default)
        assert re.search(rf"\(default:? {re.escape(shown)}\)$", worker[option.flag]), worker[option.flag]
    for old in ("--num-layers", "--lr ", "--max-steps", "--seed "):  # the other tool's old names are gone
        assert old not in help_of("colab_worker", "train")


def test_a_train_job_takes_its_defaults_from_the_model_and_training_settings():
    clean = TRAIN.validate({"corpus": "tales.txt", "model": "tales"})
    assert {option.name for option in TRAIN_OPTIONS} <= set(clean)
    assert model_settings(clean, vocab_size=1) == ModelConfig(vocab_size=1)
    assert train_settings(clean) == TrainConfig()


@pytest.mark.parametrize("command", [("colab_worker", "train", "corpus.txt", "--out", "m.pt"),
                                     ("drivequeue", "submit", "train", "corpus.txt")])
def test_an_option_out_of_range_is_named_by_its_flag_on_either_command(command, tmp_path):
    (tmp_path / "queue").mkdir()
    done = subprocess.run([sys.executable, "-m", *command, "--layers", "0"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
                                                         "DRIVEQUEUE_URL": str(tmp_path / "queue")})
    assert done.returncode == 2
    assert "--layers must be a whole number from 1 to 8" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_values_that_every_option_is_tested_with_differ_from_its_default():
    assert {option.name: option.default != NOT_DEFAULTS.get(option.name, option.default)
            for option in TRAIN_OPTIONS} == {option.name: True for option in TRAIN_OPTIONS}
