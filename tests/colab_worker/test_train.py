"""Training: dry run, learning, resuming, early stopping, the CLI."""

import os
import random
import re
import signal
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from colab_worker.checkpoint import CheckpointError, load_model, shipped_tokenizer
from colab_worker.cli import main
from colab_worker.tokenizer import BPETokenizer
from colab_worker.train import TrainConfig, train
from stories.training import TRAIN_OPTIONS, ModelConfig
from tests.stories.test_training_options import NOT_DEFAULTS, flags_for

SMALL = {"hidden_size": 32, "num_layers": 2, "dropout": 0.1}  # a subword model, the shipped tokenizer
FAST = TrainConfig(seq_len=32, batch_size=8, lr=1e-2, eval_every=20, checkpoint_every_s=3600)


def options_of(loaded) -> dict:
    """The training options a model file says it was trained with, by name."""
    return {option.name: getattr(loaded.config, option.field) if option.config is ModelConfig
            else loaded.metadata["train_config"][option.field] for option in TRAIN_OPTIONS}


def synthetic_text(n_chars: int = 20_000, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = "the fox bear king went into wood and said to her old river".split()
    lines, length = [], 0
    while length < n_chars:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 9))).capitalize() + "."
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "tales.txt"
    path.write_text("*** START OF THIS PROJECT GUTENBERG EBOOK TALES ***\n" + synthetic_text()
                    + "*** END OF THIS PROJECT GUTENBERG EBOOK TALES ***\nLicence text.\n")
    return path


def test_dry_run_from_the_command_line(corpus_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    code = main(["train", str(corpus_file), "--out", str(out), "--dry-run", "--tokenizer", "chars",
                 "--hidden-size", "16", "--embedding-dim", "8", "--no-tie-embeddings", "--batch-size", "4",
                 "--seq-len", "16"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "best validation loss" in printed.out
    loaded = load_model(out)
    assert loaded.metadata["steps"] == 2
    assert "tales.txt" in loaded.metadata["corpus"]
    assert loaded.text_format == "paragraphs"  # its stories are written in sentence lines
    assert "Licence" not in loaded.vocab.chars and "L" not in loaded.vocab.chars  # footer stripped
    assert (tmp_path / "m.loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "m.train.pt").is_file()


def test_subword_models_train_with_the_shipped_tokenizer_or_a_learned_one(corpus_file, tmp_path):
    shipped = train([corpus_file], tmp_path / "s.pt", SMALL, FAST, dry_run=True)
    loaded = load_model(shipped.out_path)
    assert loaded.vocab == shipped_tokenizer() and loaded.config.tie_embeddings
    assert loaded.config.embedding_dim == loaded.config.hidden_size == 32
    learned = train([corpus_file], tmp_path / "l.pt", SMALL, replace(FAST, tokenizer="bpe", vocab_size=300),
                    dry_run=True)
    vocab = load_model(learned.out_path).vocab
    assert isinstance(vocab, BPETokenizer) and len(vocab) <= 300 and vocab != shipped_tokenizer()
    assert len(vocab.encode("the fox went into the wood")) <= 7  # its words are tokens of their own
    with pytest.raises(ValueError, match="unknown tokenizer"):
        train([corpus_file], tmp_path / "x.pt", SMALL, replace(FAST, tokenizer="words"), dry_run=True)


def test_a_held_out_book_is_left_out_of_training_but_not_of_validation(tmp_path):
    books = []
    for i, word in enumerate(["fox", "bear", "king"]):
        books.append(tmp_path / f"{word}.txt")
        books[-1].write_text(f"The {word} went home again, and the {word} was glad.\n\n" * 1200)
    result = train(books, tmp_path / "m.pt", SMALL, replace(FAST, tokenizer="chars"), held_out=["king.txt"],
                   dry_run=True)
    loaded = load_model(result.out_path)
    assert "k" not in loaded.vocab.chars  # no character of the held-out book's own word was trained on
    assert "held out: king.txt" in loaded.metadata["corpus"]
    with pytest.raises(ValueError, match="not one of the corpus files"):
        train(books, tmp_path / "n.pt", SMALL, FAST, held_out=["queen.txt"], dry_run=True)


def test_training_learns_and_keeps_the_best_model(corpus_file, tmp_path):
    seen = []
    result = train([corpus_file], tmp_path / "m.pt", SMALL, replace(FAST, max_steps=120),
                   progress_callback=seen.append)
    losses = [h["val_loss"] for h in result.history]
    assert losses[-1] < 0.85 * losses[0]
    assert result.best_val_loss == min(losses) < 1.5
    assert load_model(tmp_path / "m.pt").metadata["best_val_loss"] == result.best_val_loss
    assert [p.step for p in seen] == list(range(1, 121))
    evaluated = [p for p in seen if p.val_loss is not None]
    assert [p.step for p in evaluated][:3] == [20, 40, 60]
    assert all(p.eta_s is not None and p.eta_s >= 0 for p in seen)
    assert seen[-1].eta_s == 0


def test_interrupted_training_resumes_exactly(corpus_file, tmp_path):
    config = replace(FAST, max_steps=8, eval_every=5)
    train([corpus_file], tmp_path / "straight.pt", SMALL, config)

    steps = []

    def stop_after_three():
        return len(steps) >= 3

    first = train([corpus_file], tmp_path / "resumed.pt", SMALL, config,
                  progress_callback=lambda p: steps.append(p.step), should_stop=stop_after_three)
    assert first.stopped_by == "should_stop" and first.steps == 3
    second = train([corpus_file], tmp_path / "resumed.pt", SMALL, config)
    assert second.steps == 8 and second.stopped_by == "max_steps"

    straight = torch.load(tmp_path / "straight.train.pt", weights_only=True)
    resumed = torch.load(tmp_path / "resumed.train.pt", weights_only=True)
    for key, value in straight["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key
    assert straight["training"]["state"]["history"] == resumed["training"]["state"]["history"]


def test_ctrl_c_ends_a_run_after_its_step_with_the_checkpoint_written_and_the_same_command_goes_on(
        corpus_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    command = ["train", str(corpus_file), "--out", str(out), "--tokenizer", "chars", "--hidden-size", "16",
               "--embedding-dim", "8", "--no-tie-embeddings", "--batch-size", "4", "--seq-len", "16",
               "--eval-every", "100000", "--max-epochs", "1000", "--checkpoint-every-s", "3600", "--threads", "1"]
    child = subprocess.Popen([sys.executable, "-m", "colab_worker", *command, "--steps", "100000"],
                             stderr=subprocess.PIPE)
    shown = ""
    while not re.search(r"\b([3-9]|\d\d+)/100000", shown):  # the progress bar: a few steps done
        chunk = os.read(child.stderr.fileno(), 4096).decode(errors="replace")
        assert chunk, shown
        shown += chunk
    child.send_signal(signal.SIGINT)
    _, rest = child.communicate(timeout=60)
    said = rest.decode()
    assert child.returncode == 130, said
    step = int(re.search(r"interrupted after step (\d+), its checkpoint written", said).group(1))
    assert step >= 3
    assert torch.load(tmp_path / "m.train.pt", weights_only=True)["training"]["state"]["step"] == step

    assert main([*command, "--steps", str(step + 2)]) == 0
    assert f"after {step + 2} steps" in capsys.readouterr().out


def test_resume_refuses_another_model_shape_or_corpus(corpus_file, tmp_path):
    out = tmp_path / "m.pt"
    train([corpus_file], out, SMALL, FAST, dry_run=True)
    with pytest.raises(CheckpointError, match="model shape"):
        train([corpus_file], out, {**SMALL, "hidden_size": 48}, FAST, dry_run=True)
    with pytest.raises(CheckpointError, match="another corpus"):
        train((), out, SMALL, FAST, text=synthetic_text(seed=1), dry_run=True)
    fresh = train((), out, SMALL, FAST, text=synthetic_text(seed=1), dry_run=True, resume=False)
    assert fresh.steps == 2


def test_early_stopping_when_validation_stops_improving(corpus_file, tmp_path):
    config = replace(FAST, lr=0.0, eval_every=1, patience=3, lr_patience=1, max_steps=50)
    result = train([corpus_file], tmp_path / "m.pt", SMALL, config, plot=False)
    assert result.stopped_by == "early_stopping"
    assert result.steps == 4  # one evaluation sets the best, three more fail to improve
    assert [h["lr"] for h in result.history] == [0.0] * 4


def test_command_line_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert "missing.txt" in err and "Traceback" not in err
    (tmp_path / "short.txt").write_text("too short")
    assert main(["train", str(tmp_path / "short.txt"), "--out", str(tmp_path / "m.pt")]) == 2
    assert "too short" in capsys.readouterr().err


def test_models_that_predate_the_recorded_text_format_are_told_apart():
    from colab_worker.checkpoint import text_format

    assert text_format({"text_format": "wrapped"}) == "wrapped"
    assert text_format({"train_config": {"lr": 0.003}}) == "wrapped"  # the first shipped models
    assert text_format({"train_config": {"lr": 0.003, "min_char_count": 25}}) == "paragraphs"  # unwrapped text
    assert text_format({}) == "wrapped"


def test_a_run_of_fewer_steps_than_eval_every_evaluates_at_its_last_step_and_writes_its_model(corpus_file, tmp_path):
    result = train([corpus_file], tmp_path / "m.pt", SMALL, replace(FAST, max_steps=3, eval_every=20), plot=False)
    assert result.stopped_by == "max_steps" and [h["step"] for h in result.history] == [3]
    assert load_model(result.out_path).metadata["best_val_loss"] == result.best_val_loss < 10


def test_a_resumed_run_writes_its_best_model_from_the_checkpoint_when_the_model_file_is_gone(corpus_file, tmp_path):
    out, config, steps = tmp_path / "m.pt", replace(FAST, max_steps=6, eval_every=2), []
    first = train([corpus_file], out, SMALL, config, progress_callback=lambda p: steps.append(p.step),
                  should_stop=lambda: len(steps) >= 3, plot=False)
    assert first.stopped_by == "should_stop" and first.steps == 3
    best = torch.load(out, weights_only=True)  # evaluated at step 2
    out.unlink()  # as for a train job taken over by another machine: only the checkpoint travels
    resumed = train([corpus_file], out, SMALL, replace(config, max_steps=3), plot=False)
    assert resumed.steps == 3 and resumed.best_val_loss == first.best_val_loss
    rewritten = torch.load(out, weights_only=True)
    assert rewritten["metadata"]["best_step"] == rewritten["metadata"]["steps"] == 2
    for key, value in best["state_dict"].items():
        assert torch.equal(rewritten["state_dict"][key], value), key


def test_resume_refuses_other_data_settings_in_one_line_that_says_how_to_start_afresh(corpus_file, tmp_path, capsys):
    def run(*flags):
        return main(["train", str(corpus_file), "--out", str(tmp_path / "m.pt"), "--dry-run", "--hidden-size", "16",
                     "--seq-len", "16", *flags])

    assert run("--batch-size", "4") == 0
    capsys.readouterr()
    assert run("--batch-size", "8") == 2  # the streams it was reading would not fit
    assert capsys.readouterr().err == (f"colab-worker train: {tmp_path / 'm.train.pt'} was trained with batch-size 4, "
                                       "not 8: resume with the same, or delete it, or start afresh with --fresh\n")
    assert run("--batch-size", "4", "--tokenizer", "chars") == 2
    assert "was trained with tokenizer shipped, not chars" in capsys.readouterr().err
    assert run("--batch-size", "4", "--random-seed", "7") == 2
    assert "was trained with random-seed 1234, not 7" in capsys.readouterr().err
    assert run("--batch-size", "8", "--fresh") == 0


def test_a_checkpoint_from_before_subword_models_resumes_as_the_character_model_it_was(corpus_file, tmp_path):
    out, config = tmp_path / "m.pt", replace(FAST, tokenizer="chars", clean=False)
    train([corpus_file], out, SMALL, config, dry_run=True)
    checkpoint = torch.load(tmp_path / "m.train.pt", weights_only=True)
    for name in ("tokenizer", "vocab_size", "clean"):  # settings those checkpoints do not record
        del checkpoint["training"]["config"][name]
    torch.save(checkpoint, tmp_path / "m.train.pt")
    with pytest.raises(CheckpointError, match="trained with tokenizer chars, not shipped"):
        train([corpus_file], out, SMALL, FAST, dry_run=True)
    with pytest.raises(CheckpointError, match="trained with clean False, not True"):
        train([corpus_file], out, SMALL, replace(config, clean=True), dry_run=True)
    assert train([corpus_file], out, SMALL, replace(config, max_steps=4), plot=False).steps == 4


def test_every_training_option_on_the_command_line_reaches_the_model_it_trains(corpus_file, tmp_path):
    assert main(["train", str(corpus_file), "--out", str(tmp_path / "m.pt"), *flags_for(NOT_DEFAULTS)]) == 0
    assert options_of(load_model(tmp_path / "m.pt")) == NOT_DEFAULTS


def test_a_learning_rate_given_anew_on_resume_takes_over_from_the_schedule(corpus_file, tmp_path):
    config = replace(FAST, max_steps=4, eval_every=2, lr_patience=1, lr_decay=0.5, min_improvement=10.0)
    first = train([corpus_file], tmp_path / "m.pt", SMALL, config, plot=False)  # only the first evaluation counts
    assert [h["lr"] for h in first.history] == [0.01, 0.01]  # the rate each evaluation's steps ran at
    same = train([corpus_file], tmp_path / "m.pt", SMALL, replace(config, max_steps=6), plot=False)
    assert same.history[-1]["lr"] == 0.005  # the schedule goes on where it was: halved at step 4
    anew = train([corpus_file], tmp_path / "m.pt", SMALL, replace(config, max_steps=8, lr=0.004), plot=False)
    assert anew.history[-1]["lr"] == 0.004  # from the rate given, not the schedule's 0.0025
