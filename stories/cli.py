"""``drivequeue submit story ...``, ``submit train ...`` and the ``continue`` flags of stories:
the story server's commands on the generic queue command line (a plugin's ``cli``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from drivequeue.queue_cli import cmd_submit, open_queue

from . import kinds as k
from .flags import add_sampling_flags, add_train_flags, train_flags
from .train_estimate import estimate_lines


def cli(submit, commands: dict[str, argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The story server's own ``drivequeue submit`` commands and ``continue`` and ``cancel`` flags."""
    story = submit.add_parser("story", parents=[common], help="write a story from a seed")
    story.add_argument("--seed", required=True, help="the beginning of the story")
    story.add_argument("--lines", type=int, help=f"lines to generate ({k.LINES[0]}-{k.LINES[1]}, "
                                                 f"default {k.DEFAULT_LINES})")
    add_sampling_flags(story)
    story.add_argument("--model", help=f"model to use (default: {k.DEFAULT_MODEL})")
    story.add_argument("--random-seed", type=int, help="make the output reproducible")
    story.add_argument("--max-line-chars", type=int, help=f"longest line ({k.MAX_LINE_CHARS[0]}-"
                                                          f"{k.MAX_LINE_CHARS[1]}, default {k.DEFAULT_MAX_LINE_CHARS})")
    story.add_argument("--parent", help="id of the story this one was edited from")
    story.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    story.set_defaults(func=cmd_submit, payload_of=_story_payload)

    train = submit.add_parser("train", parents=[common], help="train a model on a pushed corpus")
    train.add_argument("corpus", metavar="CORPUS_NAME", help="name of a pushed text file (drivequeue push)")
    train.add_argument("--model", help="name to publish the trained model under "
                                       "(default: the corpus file's name without its extension)")
    add_train_flags(train)
    train.add_argument("--estimate", action="store_true",
                       help="say how long it would take on each worker online, and submit nothing")
    train.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    train.set_defaults(func=cmd_submit_train)

    more = commands["continue"]
    more.add_argument("--lines", type=int, help=f"lines to add to a story ({k.LINES[0]}-{k.LINES[1]}, "
                                                f"default {k.DEFAULT_LINES})")
    add_sampling_flags(more)
    more.set_defaults(continue_fields=tuple(k.STORY.continue_fields))

    cancel = commands["cancel"]
    cancel.add_argument("--seen", type=int, help="a story keeps at most this many lines and the next one")
    cancel.add_argument("--keep", action="store_const", const=True,
                        help="a train job stops now and publishes the best model so far "
                             "(without it, a cancelled train job keeps nothing)")
    cancel.set_defaults(cancel_fields=("seen", "keep"))


def _fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _story_payload(args: argparse.Namespace) -> dict[str, Any]:
    return _fields(args, tuple(k.STORY_FIELDS))


def cmd_submit_train(args: argparse.Namespace) -> int:
    """Say how long the job should take on the workers that could run it, then submit it
    (with ``--estimate``: only say)."""
    payload = {"corpus": args.corpus, "model": args.model or k.model_from_corpus(args.corpus), **train_flags(args)}
    queue = open_queue(args)
    clean = queue.kinds["train"].validate(payload)  # a mistake is reported before any estimate
    for line in estimate_lines(clean, queue.workers()):
        print(line, file=sys.stderr if not args.estimate else sys.stdout)
    if args.estimate:
        return 0
    print(queue.submit("train", payload, job_id=args.job_id))
    return 0
