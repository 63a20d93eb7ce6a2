"""The ``colab-worker`` command.

Usage::

    colab-worker train CORPUS... --out MODEL.pt [--hidden-size 320 ...] [--dry-run]
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
import sys
from dataclasses import fields

from .checkpoint import CheckpointError
from .run_cli import add_run


def add_train(subparsers: argparse._SubParsersAction) -> None:
    from .model import ModelConfig
    from .train import TrainConfig

    p = subparsers.add_parser("train", help="train a character LSTM on text files",
                              description="Train a character LSTM; rerun the same command to resume.")
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
    for group, config_fields in (("model", fields(ModelConfig)), ("training", fields(TrainConfig))):
        for f in config_fields:
            if f.name == "vocab_size" and group == "model":
                continue
            kind = {"action": argparse.BooleanOptionalAction} if isinstance(f.default, bool) else {"type": type(f.default)}
            p.add_argument(f"--{f.name.replace('_', '-')}", default=f.default, **kind,
                           help=f"{group}: {f.name} (default {f.default})")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from .devices import pick_device
    from .model import ModelConfig
    from .train import TrainConfig, train

    device = pick_device(args.device) if args.device else None
    if args.threads:
        torch.set_num_threads(args.threads)
    model_config = {f.name: getattr(args, f.name) for f in fields(ModelConfig) if f.name != "vocab_size"}
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    result = train(args.corpus, args.out, model_config, config, held_out=args.hold_out, checkpoint_path=args.checkpoint,
                   resume=not args.fresh, device=device, dry_run=args.dry_run, progress_bar=True)
    print(f"best validation loss {result.best_val_loss:.4f} nats/char after {result.steps} steps "
          f"({result.stopped_by}); model in {result.out_path}")
    return 0


def add_generate(subparsers: argparse._SubParsersAction) -> None:
    from .sampling import SamplingParams

    d = SamplingParams()
    p = subparsers.add_parser("generate", help="write a story line by line, without any queue",
                              description="Print the seed, then each generated line as soon as it exists.")
    p.add_argument("--model", default="default", help="model name in colab_worker/models or a .pt path (default: default)")
    p.add_argument("--seed", default="", help="the beginning of the story (default: empty)")
    p.add_argument("--lines", type=int, default=10, help="lines to generate (default 10)")
    p.add_argument("--temperature", type=float, default=d.temperature, help=f"0 = greedy (default {d.temperature})")
    p.add_argument("--top-k", type=int, default=d.top_k, help="keep the k likeliest characters, 0 = off (default 0)")
    p.add_argument("--top-p", type=float, default=d.top_p, help="nucleus sampling mass, 1.0 = off (default 1.0)")
    p.add_argument("--random-seed", type=int, help="same seed and text, same story (default: random)")
    p.add_argument("--max-line-chars", type=int, default=d.max_line_chars,
                   help=f"longest line (default {d.max_line_chars})")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ... (default cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads (default 1: one story's small matrix products gain nothing from more)")
    p.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    import torch

    from stories.story_text import story_text

    from .checkpoint import load_model
    from .devices import pick_device
    from .generation import StoryBatch
    from .sampling import SamplingParams
    from .sentences import MID_SENTENCE, PARAGRAPH

    if args.lines < 1:
        raise ValueError("--lines must be at least 1")
    device = pick_device(args.device)  # no CUDA: one line, not torch's traceback
    torch.set_num_threads(args.threads)
    params = SamplingParams(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                            random_seed=args.random_seed, max_line_chars=args.max_line_chars)
    batch = StoryBatch(load_model(args.model, device), device, max_batch=1)
    seed = story_text(args.seed, [])
    batch.add("story", seed, params)
    print(seed.rstrip() if batch.sentences else seed, end="", flush=True)
    written = 0
    while written < args.lines:
        for line in batch.step()[: args.lines - written]:
            lead = "\n"
            if written == 0 and line.follows == MID_SENTENCE:
                lead = ""  # the line completes the seed's sentence: it goes on the seed's line
            elif written == 0 and line.follows == PARAGRAPH and seed.strip():
                lead = "\n\n"
            print(lead + line.text + ("\n" if line.paragraph_end and written + 1 < args.lines else ""),
                  end="", flush=True)
            written += 1
    print(flush=True)
    return 0


def add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score text files under a model, in nats per character",
        description="Score the whole of each FILE (Gutenberg boilerplate stripped, hard wrap undone, as the "
                    "model is trained): the negative log-likelihood of every character, the state carried "
                    "through the file, divided by its characters. With --split reference: the validation "
                    "figure of the corpus FILE... instead (its held-out blocks 7, 27, 47, ...).")
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

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    loaded = load_model(args.model, device)
    if args.split == "reference":
        split = reference_split(read_corpus(args.files))
        blocks = split.validation
        loss = validation_loss(loaded.model, loaded.vocab, blocks, device)
        chars = sum(len(b) for b in blocks)
        if args.json:
            print(json.dumps({"split": "reference", "files": len(args.files), "blocks": len(blocks),
                              "chars": chars, "nats_per_char": loss}))
        else:
            print(f"validation loss {loss:.4f} nats/char over {chars:,} characters in {len(blocks)} held-out blocks")
        return 0
    for name in args.files:
        text = read_book(name)
        if not text:
            raise ValueError(f"{name} holds no text once the Gutenberg boilerplate is stripped")
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


SUBCOMMANDS = [add_train, add_generate, add_evaluate, add_export, add_run]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colab-worker", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CheckpointError, ValueError, OSError) as exc:
        print(f"colab-worker {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"colab-worker {args.command}: interrupted", file=sys.stderr)
        return 130
