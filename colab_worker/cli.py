"""The ``colab-worker`` command.

Usage::

    colab-worker train CORPUS... --out MODEL.pt [--steps N --layers N ...] [--fresh] [--dry-run]
    colab-worker generate [--model default] --seed "Once upon a time" --lines 10
    colab-worker evaluate [--model default] [--json] [--split reference] FILE...
    colab-worker export TRAINED.pt OUT.pt [--half] [--sentence-end-after N --sentence-end-per-char X]
    colab-worker run [--queue URL] [--model NAME_OR_PATH] [--device auto|cpu|cuda] [--max-batch N]

Each subcommand is a module-level ``add_<name>(subparsers)`` function that registers its
parser and sets ``func``; adding one means writing such a function and listing it in
``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import Field, fields
from typing import Iterator

from drivequeue.errors import InvalidPayload
from drivequeue.shutdown import restore_ctrl_c

from .checkpoint import CheckpointError
from .run_cli import add_run


def add_train(subparsers: argparse._SubParsersAction) -> None:
    from stories.flags import add_train_flags

    p = subparsers.add_parser("train", help="train the story model (an LSTM) on text files",
                              description="Train the story model; rerun the same command to resume.")
    p.add_argument("corpus", nargs="+", help="UTF-8 text files (Project Gutenberg boilerplate is stripped)")
    p.add_argument("--out", required=True, help="where to write the best model (a .pt file)")
    p.add_argument("--checkpoint", help="training checkpoint to write and resume from (default: <out>.train.pt)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing training checkpoint")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--dry-run", action="store_true", help="train two steps and evaluate once (for tests)")
    p.add_argument("--hold-out", action="append", default=[], metavar="FILE_NAME",
                   help="a corpus file read for the validation split but left out of training, to be "
                        "scored whole with `evaluate` (repeatable)")
    add_train_flags(p)
    finer = p.add_argument_group("finer training settings")
    for f in finer_settings():
        kind = {"action": argparse.BooleanOptionalAction} if isinstance(f.default, bool) else {"type": type(f.default)}
        finer.add_argument(f"--{f.name.replace('_', '-')}", default=f.default, **kind, help=f"(default {f.default})")
    p.set_defaults(func=run_train)


def finer_settings() -> list[Field]:
    """The ``TrainConfig`` fields that no training option sets: flags of ``colab-worker train``
    only, named as the fields."""
    from stories.training import TRAIN_OPTIONS, TrainConfig

    set_by_options = {option.field for option in TRAIN_OPTIONS if option.config is TrainConfig}
    return [f for f in fields(TrainConfig) if f.name not in set_by_options]


def run_train(args: argparse.Namespace) -> int:
    import torch

    from stories.flags import train_flags
    from stories.training import ModelConfig, settings_of, train_settings

    from .devices import pick_device
    from .train import train

    options = train_flags(args)
    check_files(args.corpus)
    device = pick_device(args.device) if args.device else None
    if args.threads:
        torch.set_num_threads(args.threads)
    config = train_settings(options, **{f.name: getattr(args, f.name) for f in finer_settings()})
    with first_interrupt_stops() as interrupted:
        result = train(args.corpus, args.out, settings_of(ModelConfig, options), config, held_out=args.hold_out,
                       checkpoint_path=args.checkpoint, resume=not args.fresh, device=device,
                       dry_run=args.dry_run, progress_bar=True, should_stop=interrupted.is_set)
    if result.stopped_by == "should_stop":
        print(f"colab-worker train: interrupted after step {result.steps}, its checkpoint written: "
              f"run the same command to go on from there", file=sys.stderr)
        return 130
    print(f"best validation loss {result.best_val_loss:.4f} nats/char after {result.steps} steps "
          f"({result.stopped_by.replace('_', ' ')}); model in {result.out_path}")
    return 0


@contextmanager
def first_interrupt_stops() -> Iterator[threading.Event]:
    """While training: the first Ctrl-C (SIGINT) sets the event, so that the run ends after its
    step and writes its checkpoint, losing nothing; a second one interrupts at once."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def on_interrupt(signum, frame) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        print("\ncolab-worker train: stopping after this step to write the checkpoint "
              "(Ctrl-C again stops at once, losing the steps since the last one)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def add_generate(subparsers: argparse._SubParsersAction) -> None:
    from stories import kinds as k
    from stories.flags import add_sampling_flags

    p = subparsers.add_parser("generate", help="write a story line by line, without any queue",
                              description="Print the seed, then each generated line as soon as it exists, "
                                          "as `drivequeue tail` prints a story.")
    p.add_argument("--model", default="default", help="model name in colab_worker/models or a .pt path (default: default)")
    p.add_argument("--seed", default="", help="the beginning of the story (default: empty)")
    p.add_argument("--lines", type=int, default=10, help="lines to generate (default 10)")
    add_sampling_flags(p)
    p.add_argument("--random-seed", type=int, help="same seed and text, same story (default: random)")
    p.add_argument("--max-line-chars", type=int, help=f"longest line ({k.MAX_LINE_CHARS[0]}-{k.MAX_LINE_CHARS[1]}, "
                                                      f"default {k.DEFAULT_MAX_LINE_CHARS})")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ... (default cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads (default 1: one story's small matrix products gain nothing from more)")
    p.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    import torch

    from stories import kinds as k
    from stories.flags import sampling_flags
    from stories.story_text import story_text, terminal_text

    from .checkpoint import load_model
    from .devices import pick_device
    from .generation import StoryBatch
    from .sampling import SamplingParams

    if args.lines < 1:
        raise ValueError("--lines must be at least 1")
    # the ranges and defaults of a story job (stories.kinds), under the flags' names
    sampling = {**{name: spec.default for name, spec in k.SAMPLING.items()}, **sampling_flags(args)}
    random_seed = k.random_seed("--random-seed", args.random_seed) if args.random_seed is not None else None
    max_line_chars = (k.STORY.fields["max_line_chars"].check("--max-line-chars", args.max_line_chars)
                      if args.max_line_chars is not None else k.DEFAULT_MAX_LINE_CHARS)
    device = pick_device(args.device)  # no CUDA: one line, not torch's traceback
    torch.set_num_threads(args.threads)
    params = SamplingParams(**sampling, random_seed=random_seed, max_line_chars=max_line_chars)
    batch = StoryBatch(load_model(args.model, device), device, max_batch=1)
    seed = story_text(args.seed, [])
    batch.add("story", seed, params)
    print(terminal_text(seed, []), end="", flush=True)
    lines: list[str] = []
    ends: list[int] = []
    seed_end = None
    while len(lines) < args.lines:
        for line in batch.step()[: args.lines - len(lines)]:
            seed_end = seed_end or line.follows
            lines.append(line.text)
            if line.paragraph_end:
                ends.append(len(lines) - 1)
            print(terminal_text(seed, lines, ends, seed_end, start=len(lines) - 1, with_seed=False), end="", flush=True)
    print(flush=True)
    return 0


def add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score text files under a model, in nats per character",
        description="Score the whole of each FILE (Gutenberg boilerplate stripped, hard wrap undone, as "
                    "training prepares it, but not cleaned): the negative log-likelihood of every token, "
                    "the state carried "
                    "through the file, divided by its characters, whatever the tokenization. With --split "
                    "reference: the validation figure of the corpus FILE... instead (its held-out blocks 7, "
                    "27, 47, ...).")
    p.add_argument("files", nargs="+", metavar="FILE", help="UTF-8 text files")
    p.add_argument("--model", default="default", help="model name or .pt path (default: default)")
    p.add_argument("--device", default="cpu", help="cpu, cuda ... (default cpu)")
    p.add_argument("--split", choices=["reference"],
                   help="score the reference validation split of the files taken as one corpus")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch
    from tqdm import tqdm

    from .checkpoint import load_model
    from .corpus import read_book, read_corpus, reference_split
    from .devices import pick_device
    from .scoring import score_text
    from .train import validation_loss

    check_files(args.files)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    loaded = load_model(args.model, device)
    if args.split == "reference":
        print(f"scoring the reference split of {len(args.files)} file{'s' if len(args.files) != 1 else ''} with "
              f"the model {args.model} on {device}", file=sys.stderr, flush=True)
        split = reference_split(read_corpus(args.files))
        blocks = split.validation
        loss = validation_loss(loaded.model, loaded.vocab, blocks, device)
        chars = sum(len(b) for b in blocks)
        if args.json:
            print(json.dumps({"split": "reference", "files": len(args.files), "blocks": len(blocks),
                              "chars": chars, "nats_per_char": loss}))
        else:
            print(f"validation loss {loss:.4f} nats/char over {chars:,} characters in {len(blocks)} held-out "
                  f"block{'s' if len(blocks) != 1 else ''}")
        return 0
    for name in args.files:
        text = read_book(name)
        if not text:
            raise ValueError(f"{name} holds no text once the Gutenberg boilerplate is stripped")
        print(f"scoring {name} ({len(text):,} characters) with the model {args.model} on {device}",
              file=sys.stderr, flush=True)
        with tqdm(desc=Path(name).name, total=len(loaded.vocab.encode(text)), unit="token", leave=False,
                  disable=not sys.stderr.isatty(), dynamic_ncols=True) as bar:
            score = score_text(loaded, text, device, progress=bar.update)
        if args.json:
            print(json.dumps({"file": name, "chars": score.chars, "nats_per_char": score.nats_per_char,
                              "nll": score.nll}), flush=True)
        else:
            print(f"{score.nats_per_char:.4f} nats/char over {score.chars:,} characters  {Path(name).name}",
                  flush=True)
    return 0


def add_export(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="write a trained model as a file to ship",
        description="Copy a model (or training checkpoint) without optimizer state, optionally in half "
                    "precision, with how its stories are decoded stored in its metadata.")
    p.add_argument("model", help="a model or training checkpoint written by `train`")
    p.add_argument("out", help="the file to write (e.g. colab_worker/models/default.pt)")
    p.add_argument("--half", action="store_true",
                   help="store the weights in 16 bits: half the size, read back as 32-bit weights")
    p.add_argument("--sentence-end-after", type=int, metavar="CHARS",
                   help="decoding: push toward ending a sentence once it is this many characters long")
    p.add_argument("--sentence-end-per-char", type=float, metavar="NATS",
                   help="decoding: how much more likely a sentence end gets per character past that "
                        "(added to the log-probability of tokens that hold . ! or ?)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from .checkpoint import export_model

    end_bias = None
    if args.sentence_end_after is not None or args.sentence_end_per_char is not None:
        if args.sentence_end_after is None or args.sentence_end_per_char is None:
            raise ValueError("give both --sentence-end-after and --sentence-end-per-char")
        if args.sentence_end_after < 0 or not 0 <= args.sentence_end_per_char <= 1:
            raise ValueError("--sentence-end-after must be at least 0 and --sentence-end-per-char from 0 to 1")
        end_bias = {"after": args.sentence_end_after, "per_char": args.sentence_end_per_char}
    size = export_model(args.model, args.out, half=args.half, sentence_end_bias=end_bias)
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")
    return 0


def check_files(paths: list[str]) -> None:
    """Every text file named exists, or a ``ValueError`` that says where the corpus comes from."""
    from pathlib import Path

    missing = [path for path in paths if not Path(path).is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ValueError(f"there is no file {missing[0]}{more}. The corpus books are not part of the "
                         "repository: docs/corpus.md says how to download them into corpus/")


SUBCOMMANDS = [add_train, add_generate, add_evaluate, add_export, add_run]
#: what ``colab-worker --help`` says first
DESCRIPTION = ("Train the story model, write and score stories with it on this machine, and serve a job "
               "queue on its CPU or GPU.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colab-worker", description=DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restore_ctrl_c()
    try:
        return args.func(args)
    except (CheckpointError, InvalidPayload, ValueError, OSError) as exc:
        print(f"colab-worker {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"colab-worker {args.command}: interrupted", file=sys.stderr)
        return 130
