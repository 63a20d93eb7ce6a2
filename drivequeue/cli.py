"""The ``drivequeue`` command line: one parser, subcommands registered by modules.

Each module in ``COMMAND_MODULES`` has ``register(subparsers, common)``: it
adds its subcommands (``common`` is a parent parser holding ``--queue``) and
sets ``func`` on each, a function of the parsed arguments returning the exit
status. Errors of this package end in one line on stderr: status 2 for bad
input, 1 for anything else.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import BadStoreURL, ConfigError, DriveQueueError, InvalidKey, InvalidPayload

COMMAND_MODULES = ["drivequeue.queue_cli", "drivequeue.files", "drivequeue.auth", "drivequeue.selfcheck"]

BAD_INPUT = (InvalidKey, InvalidPayload, BadStoreURL, ConfigError)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--queue", metavar="URL", default=None,
        help="the queue: file:///path, a folder, or drive://id:FOLDER_ID "
             "(default: $DRIVEQUEUE_URL, else ./var/queue)",
    )
    parser = argparse.ArgumentParser(prog="drivequeue", description="A job queue on a folder of files.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BAD_INPUT as exc:
        print(f"drivequeue: error: {exc}", file=sys.stderr)
        return 2
    except DriveQueueError as exc:
        print(f"drivequeue: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as `cat` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 141
