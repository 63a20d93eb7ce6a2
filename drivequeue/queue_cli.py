"""Queue subcommands of ``drivequeue``: submit, status, tail, continue, cancel, list, workers, gc."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from .queue import Queue
from .state import JobState
from .urls import open_existing_store


def register(subparsers, common: argparse.ArgumentParser) -> None:
    submit = subparsers.add_parser("submit", help="queue a job; prints its id last")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="KIND")

    story = kinds.add_parser("story", parents=[common], help="write a story from a seed")
    story.add_argument("--seed", required=True, help="the beginning of the story")
    story.add_argument("--lines", type=int, help="lines to generate (1-100, default 10)")
    _sampling_arguments(story)
    story.add_argument("--model", help="model to use (default: default)")
    story.add_argument("--random-seed", type=int, help="make the output reproducible")
    story.add_argument("--max-line-chars", type=int, help="longest line (20-1000, default 200)")
    story.add_argument("--parent", help="id of the story this one was edited from")
    story.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    story.set_defaults(func=cmd_submit)

    train = kinds.add_parser("train", parents=[common], help="train a model on a pushed corpus")
    train.add_argument("corpus", metavar="CORPUS_NAME", help="name of a pushed text file (drivequeue push)")
    train.add_argument("--model", help="name to publish the trained model under "
                                       "(default: the corpus file's name without its extension)")
    train.add_argument("--steps", type=int, help="optimizer steps (default 2000)")
    train.add_argument("--hidden-size", type=int, help="LSTM width (default 256)")
    train.add_argument("--layers", type=int, help="LSTM layers (default 2)")
    train.add_argument("--seq-len", type=int, help="characters per training sequence (default 128)")
    train.add_argument("--batch-size", type=int, help="sequences per step (default 32)")
    train.add_argument("--learning-rate", type=float, help="Adam learning rate (default 0.002)")
    train.add_argument("--random-seed", type=int, help="make training reproducible")
    train.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
    train.set_defaults(func=cmd_submit)

    status = subparsers.add_parser("status", parents=[common], help="show a job")
    status.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    status.add_argument("--json", action="store_true", help="print the JSON object the web API serves")
    status.add_argument("--after", type=int, default=0, help="leave out the first N lines")
    status.set_defaults(func=cmd_status)

    tail = subparsers.add_parser("tail", parents=[common], help="print a job's lines as they arrive")
    tail.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    tail.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    tail.set_defaults(func=cmd_tail)

    more = subparsers.add_parser("continue", parents=[common], help="ask a finished story for more lines")
    more.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    more.add_argument("--lines", type=int, help="lines to add (1-100, default 10)")
    _sampling_arguments(more)
    more.set_defaults(func=cmd_continue)

    cancel = subparsers.add_parser("cancel", parents=[common], help="cancel a queued or running job")
    cancel.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    cancel.add_argument("--seen", type=int, help="a story keeps at most this many lines and the next one")
    cancel.set_defaults(func=cmd_cancel)

    listing = subparsers.add_parser("list", parents=[common], help="list every job, oldest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    workers = subparsers.add_parser("workers", parents=[common], help="list registered workers")
    workers.add_argument("--json", action="store_true", help="print JSON")
    workers.set_defaults(func=cmd_workers)

    gc = subparsers.add_parser("gc", parents=[common],
                               help="remove old finished jobs and leftovers, fail jobs that waited too long")
    gc.add_argument("--json", action="store_true", help="print JSON")
    gc.set_defaults(func=cmd_gc)


def _sampling_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--temperature", type=float, help="randomness (0.1-2.0, default 0.8)")
    parser.add_argument("--top-k", type=int, help="sample from the k likeliest characters (0 = all)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling (0-1, default 1.0)")


def open_queue(args: argparse.Namespace) -> Queue:
    return Queue(open_existing_store(args.queue), operator=True)


FIELDS = {
    "story": ("seed", "lines", "temperature", "top_k", "top_p", "model", "random_seed",
              "max_line_chars", "parent"),
    "train": ("corpus", "model", "steps", "hidden_size", "layers", "seq_len", "batch_size",
              "learning_rate", "random_seed"),
    "continue": ("lines", "temperature", "top_k", "top_p"),
}


def _payload(args: argparse.Namespace, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in fields if getattr(args, name) is not None}


def model_from_corpus(corpus: str) -> str | None:
    """``corpora/Grimm.v2.txt`` -> ``grimm-v2``: the default name of a model trained on ``corpus``."""
    stem = corpus.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem[1:] else stem
    return re.sub(r"[^a-z0-9_]+", "-", stem.lower()).strip("-_")[:40] or None


def cmd_submit(args: argparse.Namespace) -> int:
    queue = open_queue(args)
    if args.kind == "train" and args.model is None:
        args.model = model_from_corpus(args.corpus)
    job_id = queue.submit(args.kind, _payload(args, FIELDS[args.kind]), job_id=args.job_id)
    print(job_id)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = open_queue(args).status(args.id, after=args.after)
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        _print_status(status)
    return 0


def cmd_continue(args: argparse.Namespace) -> int:
    _print_status(open_queue(args).continue_job(args.id, _payload(args, FIELDS["continue"])))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    options = {"seen": args.seen} if args.seen is not None else None
    _print_status(open_queue(args).cancel(args.id, options))
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    """Print lines as they are written (an empty line at a paragraph break); exit 0 when the job is
    done, 1 if it failed or was cancelled (after the lines its worker wrote before it noticed the cancel)."""
    queue = open_queue(args)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    seen = 0
    breaks: set[int] = set()
    while True:
        status = queue.status(args.id, after=seen)
        if status["line_count"] < seen:  # a cancel kept fewer lines than were printed
            print(f"(the story was stopped at line {status['line_count']}: "
                  f"the {seen - status['line_count']} lines printed after it are withdrawn)", file=sys.stderr)
            breaks = {i for i in breaks if i < status["line_count"]}
        breaks.update(status["paragraph_ends"])
        for index, line in enumerate(status["lines"], start=seen):
            if index - 1 in breaks:
                print(flush=True)
            print(line, flush=True)
        seen = status["line_count"]
        state = JobState(status["status"])
        if state.finished and not status["stopping"]:
            if state is not JobState.DONE:
                reason = f": {status['error']}" if status["error"] else ""
                print(f"job {state.value}{reason}", file=sys.stderr)
            return 0 if state is JobState.DONE else 1
        if deadline is not None and time.monotonic() >= deadline:
            print(f"still {state.value} after {args.timeout:g} s", file=sys.stderr)
            return 1
        queue.store.wait(queue.timing.poll)


def cmd_list(args: argparse.Namespace) -> int:
    jobs = open_queue(args).jobs()
    if args.json:
        print(json.dumps(jobs, ensure_ascii=False))
        return 0
    if not jobs:
        print("no jobs")
    for job in jobs:
        made = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job["created"] or 0))
        lines = f"{job['line_count']}/{job['lines_requested']} lines" if job["lines_requested"] else ""
        error = f"  ({job['error']})" if job["error"] else ""
        print(f"{job['key']}  {made}  {job['kind'] or '?':6} {job['status']:9} {lines}{error}")
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    workers = open_queue(args).workers(unreadable=True)
    if args.json:
        print(json.dumps(workers, ensure_ascii=False))
        return 0
    if not workers:
        print("no workers")
    for worker in workers:
        if "error" in worker:
            print(f"{worker['key']}  ignored: unreadable heartbeat file ({worker['error']})")
            continue
        seen = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(worker["last_seen"]))
        print(f"{worker['id']}  {'online ' if worker['online'] else 'offline'}  {worker['state']:6} "
              f"{worker['device']}  models: {', '.join(worker['models'])}  last seen {seen}")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    report = open_queue(args).gc()
    if args.json:
        print(json.dumps(report))
    else:
        print(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in report.items()))
    return 0


def _print_status(status: dict[str, Any]) -> None:
    print(f"id: {status['id']}")
    line = f"status: {status['status']}"
    if status["queue_position"]:
        line += f" (position {status['queue_position']} in the queue)"
    if status["worker"]:
        line += f" on {status['worker']['id']} ({status['worker']['device']})"
    if status["stopping"]:
        line += " (its worker is still ending the line it was writing)"
    print(line)
    if status["error"]:
        print(f"error: {status['error']}")
    if status["lines_requested"]:
        print(f"lines: {status['line_count']} of {status['lines_requested']}")
    for text in status["lines"]:
        print(f"  {text}")
