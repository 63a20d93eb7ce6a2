"""The ``colab-worker`` command.

Usage::

    colab-worker train CORPUS... --out MODEL.pt [--hidden-size 320 ...] [--dry-run]
    colab-worker generate [--model default] --seed "Once upon a time" --lines 10
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
    for f in fields(ModelConfig):
        if f.name != "vocab_size":
            p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                           help=f"model: {f.name} (default {f.default})")
    for f in fields(TrainConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                       help=f"training: {f.name} (default {f.default})")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from .model import ModelConfig
    from .train import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    model_config = {f.name: getattr(args, f.name) for f in fields(ModelConfig) if f.name != "vocab_size"}
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    result = train(args.corpus, args.out, model_config, config, checkpoint_path=args.checkpoint,
                   resume=not args.fresh, device=args.device, dry_run=args.dry_run, progress_bar=True)
    print(f"best validation loss {result.best_val_loss:.4f} nats/char after {result.steps} steps "
          f"({result.stopped_by}); model in {result.out_path}")
    return 0


SUBCOMMANDS = [add_train, add_run]


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
