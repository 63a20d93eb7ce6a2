"""``colab-worker run``: serve a job queue until stopped (SIGTERM/SIGINT: warm stop; twice: at once).

Usage::

    colab-worker run [--queue URL] [--model NAME_OR_PATH] [--device auto|cpu|cuda] [--max-batch N]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from drivequeue.worker_cli import add_kinds_option, log_to_stdout

from .config import ConfigError, WorkerConfig


def add_run(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="serve a job queue: write stories, train models",
        description="Claim jobs from a queue and run them until stopped. The first SIGTERM or "
                    "SIGINT finishes the line every story is writing and gives the jobs back; "
                    "a second one exits at once.")
    p.add_argument("--queue", metavar="URL",
                   help="the queue: a folder (or file:///path), drive://id:FOLDER_ID, or redis://HOST:PORT[/DB] "
                        "(rediss:// for TLS) (default: $DRIVEQUEUE_URL, else $REDIS_URL; one of them is needed)")
    p.add_argument("--model", metavar="NAME_OR_PATH",
                   help="what jobs asking for 'default' get: a model name or a .pt file "
                        "(default: $COLAB_WORKER_MODEL, else the shipped model)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: $COLAB_WORKER_DEVICE, else auto)")
    p.add_argument("--max-batch", type=int, metavar="N",
                   help="stories decoded together (default: $COLAB_WORKER_MAX_BATCH, else 32)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch (default: $COLAB_WORKER_THREADS, else torch's choice)")
    p.add_argument("--drain", type=float, metavar="SECONDS",
                   help="longest a warm stop may spend finishing lines (default: $COLAB_WORKER_DRAIN, else 30)")
    p.add_argument("--max-jobs", type=int, metavar="N",
                   help="exit once this many jobs have ended (default: serve until stopped)")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="also serve the job kinds of this plugin module (repeatable; "
                        "see also $DRIVEQUEUE_PLUGINS and docs/plugins.md)")
    add_kinds_option(p, "story, train and every kind the loaded plugins have handlers for")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from drivequeue import DriveQueueError, Queue, StoreUnavailable, Timing, open_store
    from drivequeue.backoff import Backoff
    from drivequeue.plugins import kinds_of, load, served_kinds
    from drivequeue.shutdown import Shutdown

    from .devices import describe, pick_device
    from .model_shelf import ModelShelf, ModelUnavailable
    from .serving import serve_queue

    overrides = {"model": args.model, "device": args.device, "max_batch": args.max_batch,
                 "threads": args.threads, "drain_seconds": args.drain}
    config = replace(WorkerConfig.from_env(), **{k: v for k, v in overrides.items() if v is not None})
    if args.max_jobs is not None and args.max_jobs < 1:
        raise ConfigError("--max-jobs must be 1 or more")
    log_to_stdout("colab_worker")
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    plugins = load(args.plugin)
    kinds = served_kinds(plugins, args.kinds) if args.kinds else None

    def open_queue_store():
        store = open_store(args.queue)
        shelf = ModelShelf(store, config.cache_dir, device, default=config.model)
        shelf.get("default")  # a bad --model is reported now, not by the first job
        return store, shelf

    with Shutdown() as stop:
        # an outage as it starts is waited out, as later
        waiting = Backoff(cap=Timing.from_env().backoff_max, stop=stop, what="waiting for the queue store to open")
        try:
            store, shelf = waiting.call(open_queue_store)
        except StoreUnavailable:
            return 0  # stopped while waiting
        except (DriveQueueError, ModelUnavailable) as exc:
            print(f"colab-worker run: {exc}", file=sys.stderr)
            return 1
        serve_queue(Queue(store, kinds=kinds_of(plugins)), shelf, config, device, describe(device), stop,
                    args.max_jobs, plugins, kinds)
    store.close()
    return 0
