"""The ``drivequeue`` command line: one parser, subcommands registered by modules.

Each module in ``COMMAND_MODULES`` has ``register(subparsers, common)``: it
adds its subcommands (``common`` is a parent parser holding ``--queue`` and
``--plugin``) and sets ``func`` on each, a function of the parsed arguments
returning the exit status. ``submit`` and ``continue`` are built from the job
kinds of the loaded plugins (``drivequeue.plugins``). Errors of this package end
in one line on stderr: status 2 for bad input, 1 for anything else.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import BadStoreURL, ConfigError, DriveQueueError, InvalidKey, InvalidPayload
from .plugins import Plugin, PluginError, kinds_of, load
from .queue_cli import register_submit
from .shutdown import restore_ctrl_c

COMMAND_MODULES = ["drivequeue.queue_cli", "drivequeue.worker_cli", "drivequeue.files_cli", "drivequeue.auth_cli",
                   "drivequeue.selfcheck", "drivequeue.top", "drivequeue.bad_cli"]

BAD_INPUT = (InvalidKey, InvalidPayload, BadStoreURL, ConfigError)


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="load this plugin module's job kinds (repeatable; see also $DRIVEQUEUE_PLUGINS)")


def build_parser(plugins: list[Plugin]) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--queue", metavar="URL", default=None,
        help="the queue: a folder (or file:///path), drive://id:FOLDER_ID, or redis://HOST:PORT[/DB] "
             "(rediss:// for TLS) (default: $DRIVEQUEUE_URL, else $REDIS_URL; one of them is needed)",
    )
    _plugin_option(common)
    parser = argparse.ArgumentParser(prog="drivequeue", description="A job queue on a folder of files.")
    _plugin_option(parser)
    parser.set_defaults(kinds=kinds_of(plugins))
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_submit(subparsers, common, plugins)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


def plugin_modules(argv: list[str]) -> list[str]:
    """The ``--plugin`` values anywhere on the command line (read before the parser is built)."""
    early = argparse.ArgumentParser(add_help=False)
    _plugin_option(early)
    return early.parse_known_args(argv)[0].plugin


def in_flags(error: Exception, argv: list[str]) -> str:
    """``error``'s message in the words the person typed: a request field they gave as a flag
    (``top_p`` from ``--top-p``) is named by that flag; one from ``--payload`` JSON or an
    argument keeps its name."""
    message = str(error)
    field = getattr(error, "field", None)
    if field is None or not message.startswith(field):
        return message
    flag = "--" + field.replace("_", "-")
    if not any(arg == flag or arg.startswith(flag + "=") for arg in argv):
        return message
    return flag + message[len(field):]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    restore_ctrl_c()
    try:
        plugins = load(plugin_modules(argv))
        parser = build_parser(plugins)
    except PluginError as exc:
        print(f"drivequeue: error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BAD_INPUT as exc:
        print(f"drivequeue: error: {in_flags(exc, argv)}", file=sys.stderr)
        return 2
    except DriveQueueError as exc:
        print(f"drivequeue: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as `cat` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 141
