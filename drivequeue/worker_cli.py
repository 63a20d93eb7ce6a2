"""``drivequeue worker``: serve the job kinds of the loaded plugins, and nothing else.

A generic worker: it imports only the plugins (entry points, ``DRIVEQUEUE_PLUGINS``,
``--plugin``) and calls ``handlers(context)`` of those whose kinds it serves, so
nothing heavy (no model, no torch) is loaded unless a served kind's handlers need
it. By default it serves every kind a loaded plugin has handlers for, except those
served only on request (``JobKind.serve_by_default``, such as ``story`` and ``train``);
``--kinds a,b`` names exactly what it serves. The first SIGTERM or SIGINT stops it
warm (running jobs are given back); a second one at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import metadata
from pathlib import Path

from .backoff import Backoff
from .endings import Endings
from .errors import ConfigError, StoreUnavailable
from .plugins import PluginError, handlers_of, kinds_of, load, served_kinds
from .queue import Queue
from .serve import HandlerContext, Server
from .shutdown import Shutdown
from .timing import Timing
from .urls import open_existing_store


def kinds_option(text: str) -> list[str]:
    """``--kinds a,b``: job kind names, comma-separated."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one job kind, e.g. --kinds story,train")
    return names


def add_kinds_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--kinds", type=kinds_option, metavar="A,B",
                        help=f"serve only these job kinds, comma-separated (default: {default})")


def register(subparsers, common: argparse.ArgumentParser) -> None:
    worker = subparsers.add_parser(
        "worker", parents=[common], help="serve the job kinds of the loaded plugins until stopped",
        description="Claim jobs of the loaded plugins' kinds and run them until stopped. The first "
                    "SIGTERM or SIGINT gives running jobs back; a second one exits at once.")
    add_kinds_option(worker, "every kind a loaded plugin has handlers for, but story and train "
                             "and any other kind its plugin serves only on request")
    worker.add_argument("--device", default="cpu",
                        help="the device handlers run on: cpu, cuda, cuda:N... (default: cpu)")
    worker.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "drivequeue",
                        help="a folder for the jobs' work files (default: ~/.cache/drivequeue)")
    worker.add_argument("--drain", type=float, default=30.0, metavar="SECONDS",
                        help="longest a warm stop waits for running jobs (default 30)")
    worker.add_argument("--max-jobs", type=int, metavar="N", help="exit once this many jobs have ended")
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.max_jobs is not None and args.max_jobs < 1:
        raise ConfigError("--max-jobs must be 1 or more")
    plugins = load(args.plugin)
    known = kinds_of(plugins)
    kinds = served_kinds(plugins, args.kinds)
    log_to_stdout()
    with Shutdown() as stop:
        # an outage as it starts is waited out, as later
        waiting = Backoff(cap=Timing.from_env().backoff_max, stop=stop, what="waiting for the queue store to open")
        try:
            store = waiting.call(lambda: open_existing_store(args.queue))
        except StoreUnavailable:
            return 0  # stopped while waiting
        try:
            queue = Queue(store, kinds=known)
            context = HandlerContext(store=store, timing=queue.timing, device=args.device, stop=stop,
                                     endings=Endings(), cache_dir=args.cache_dir, kinds=frozenset(kinds))
            handlers = handlers_of(plugins, context, known, kinds)
            missing = sorted(kinds - set(handlers))
            if args.kinds and missing:
                raise PluginError(f"no loaded plugin has a handler for {', '.join(missing)}")
            if not handlers:
                raise PluginError("nothing to serve: no loaded plugin has handlers "
                                  "(load one with --plugin MODULE or $DRIVEQUEUE_PLUGINS)")
            Server(queue, handlers, context, version=package_version(), drain_seconds=args.drain,
                   max_jobs=args.max_jobs).run()
        finally:
            store.close()
    return 0


def package_version() -> str:
    """The software version a worker announces in its heartbeat."""
    try:
        return metadata.version("colab-story-server")
    except metadata.PackageNotFoundError:
        return "unknown"


def log_to_stdout(*names: str) -> None:
    """One line per event on stdout (also inside a notebook, whose stdout is the cell's output),
    for ``drivequeue`` and the loggers ``names``."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    for name in ("drivequeue", *names):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
