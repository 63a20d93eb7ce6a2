"""``drivequeue submit story ...``, ``submit train ...`` and the ``continue`` flags of stories:
the story server's commands on the generic queue command line (a plugin's ``cli``)."""

from __future__ import annotations

import argparse
from typing import Any

from drivequeue.queue_cli import cmd_submit

from . import kinds as k

FIELDS = {
    "story": ("seed", "lines", "temperature", "top_k", "top_p", "model", "random_seed",
              "max_line_chars", "parent"),
    "train": ("corpus", "model", "steps", "hidden_size", "layers", "seq_len", "batch_size",
              "learning_rate", "random_seed"),
}
CONTINUE_FIELDS = ("lines", "temperature", "top_k", "top_p")


def cli(submit, commands: dict[str, argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The story server's own ``drivequeue submit`` commands and ``continue`` and ``cancel`` flags."""
    story = submit.add_parser("story", parents=[common], help="write a story from a seed")
    story.add_argument("--seed", required=True, help="the beginning of the story")
    story.add_argument("--lines", type=int, help=f"lines to generate ({k.LINES[0]}-{k.LINES[1]}, "
                                                 f"default {k.DEFAULT_LINES})")
    _sampling_arguments(story)
    story.add_argument("--model", help=f"model to use (default: {k.DEFAULT_MODEL})")
    story.add_argument("--random-seed", type=int, help="make the output reproducible")
    story.add_argument("--max-line-chars", type=int, help=f"longest line ({k.MAX_LINE_CHARS[0]}-"
                                                          f"{k.MAX_LINE_CHARS[1]}, default {k.DEFAULT_MAX_LINE_CHARS})")
    story.add_argument("--parent", help="id of the story this one was edited from")
    story.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    story.set_defaults(func=cmd_submit, payload_of=_story_payload)

    defaults = {name: spec.default for name, spec in k.TRAIN.fields.items()}
    train = submit.add_parser("train", parents=[common], help="train a model on a pushed corpus")
    train.add_argument("corpus", metavar="CORPUS_NAME", help="name of a pushed text file (drivequeue push)")
    train.add_argument("--model", help="name to publish the trained model under "
                                       "(default: the corpus file's name without its extension)")
    train.add_argument("--steps", type=int, help=f"optimizer steps (default {defaults['steps']})")
    train.add_argument("--hidden-size", type=int, help=f"LSTM width (default {defaults['hidden_size']})")
    train.add_argument("--layers", type=int, help=f"LSTM layers (default {defaults['layers']})")
    train.add_argument("--seq-len", type=int, help=f"characters per training sequence (default {defaults['seq_len']})")
    train.add_argument("--batch-size", type=int, help=f"sequences per step (default {defaults['batch_size']})")
    train.add_argument("--learning-rate", type=float, help=f"Adam learning rate (default {defaults['learning_rate']:g})")
    train.add_argument("--random-seed", type=int, help="make training reproducible")
    train.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    train.set_defaults(func=cmd_submit, payload_of=_train_payload)

    more = commands["continue"]
    more.add_argument("--lines", type=int, help=f"lines to add to a story ({k.LINES[0]}-{k.LINES[1]}, "
                                                f"default {k.DEFAULT_LINES})")
    _sampling_arguments(more)
    more.set_defaults(continue_fields=CONTINUE_FIELDS)

    cancel = commands["cancel"]
    cancel.add_argument("--seen", type=int, help="a story keeps at most this many lines and the next one")
    cancel.add_argument("--keep", action="store_const", const=True,
                        help="a train job stops now and publishes the best model so far "
                             "(without it, a cancelled train job keeps nothing)")
    cancel.set_defaults(cancel_fields=("seen", "keep"))


def _sampling_arguments(parser: argparse.ArgumentParser) -> None:
    low, high = k.TEMPERATURE
    parser.add_argument("--temperature", type=float,
                        help=f"randomness ({low:g}-{high:g}, default {k.DEFAULT_TEMPERATURE:g})")
    parser.add_argument("--top-k", type=int, help="sample from the k likeliest characters (0 = all)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling (0-1, default 1.0)")


def _fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _story_payload(args: argparse.Namespace) -> dict[str, Any]:
    return _fields(args, FIELDS["story"])


def _train_payload(args: argparse.Namespace) -> dict[str, Any]:
    if args.model is None:
        args.model = k.model_from_corpus(args.corpus)
    return _fields(args, FIELDS["train"])
