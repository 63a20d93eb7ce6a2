"""Queue subcommands of ``drivequeue``: submit, status, tail, continue, cancel, list, workers, gc, result.

``submit KIND --payload JSON`` works for every kind a loaded plugin declares; a
plugin may add friendlier ``submit`` commands and ``continue`` flags of its own
(its ``cli`` function, docs/plugins.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from . import bounded_json
from .errors import InvalidPayload
from .kinds import REQUIRED, JobKind
from .plugins import Plugin, kinds_of
from .queue import Queue
from .status import JobState, JobStatus
from .urls import open_existing_store


def register_submit(subparsers, common: argparse.ArgumentParser, plugins: list[Plugin]) -> None:
    """``submit KIND`` for every kind of ``plugins``, ``continue`` and ``cancel``, with the plugins'
    own flags."""
    submit = subparsers.add_parser("submit", help="queue a job; prints its id last")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="KIND")

    more = subparsers.add_parser("continue", parents=[common], help="ask a finished job for more")
    more.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    more.add_argument("--payload", metavar="JSON", help="the continue request, a JSON object")
    more.set_defaults(func=cmd_continue, continue_fields=())

    cancel = subparsers.add_parser("cancel", parents=[common], help="cancel a queued or running job")
    cancel.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    cancel.add_argument("--options", metavar="JSON", help="what the job's kind lets a cancel say, a JSON object")
    cancel.set_defaults(func=cmd_cancel, cancel_fields=())

    for plugin in plugins:  # a plugin's own friendlier commands and flags (docs/plugins.md)
        add = getattr(plugin.module, "cli", None)
        if add is not None:
            add(kinds, {"continue": more, "cancel": cancel}, common)
    for name, kind in sorted(kinds_of(plugins).items()):
        if name in kinds.choices:
            continue
        generic = kinds.add_parser(name, parents=[common], help=kind.description or f"queue a {name} job",
                                   description=payload_help(kind), formatter_class=argparse.RawDescriptionHelpFormatter)
        generic.add_argument("--payload", metavar="JSON", default="{}", help="the request, a JSON object")
        generic.add_argument("--job-id", help="an id from an earlier submit: submitting again is a no-op")
        generic.set_defaults(func=cmd_submit, payload_of=payload_from_json)


def payload_help(kind: JobKind) -> str:
    """What ``submit KIND --help`` says: the kind, then each payload field with what it takes."""
    lines = [f"Queue a {kind.name} job (payload version {kind.version})" + (f": {kind.description}" if kind.description
                                                                           else "."),
             "", "--payload is a JSON object with these fields:" if kind.fields else "--payload is {}: no fields."]
    for name, spec in kind.fields.items():
        default = "required" if spec.default is REQUIRED else f"default {json.dumps(spec.default)}"
        lines.append(f"  {name} ({default})" + (f": {spec.about}" if spec.about else ""))
    return "\n".join(lines)


def register(subparsers, common: argparse.ArgumentParser) -> None:
    status = subparsers.add_parser("status", parents=[common], help="show a job")
    status.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    status.add_argument("--json", action="store_true", help="print the JSON object the web API serves")
    status.add_argument("--after", type=int, default=0, help="leave out the first N lines")
    status.set_defaults(func=cmd_status)

    tail = subparsers.add_parser("tail", parents=[common], help="print a job's lines as they arrive")
    tail.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    tail.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    tail.set_defaults(func=cmd_tail)

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

    result = subparsers.add_parser("result", parents=[common], help="wait for a job and print its result")
    result.add_argument("id", help="the job id printed by submit, or its key as list prints it")
    result.add_argument("--json", action="store_true", help="print status, error, result and files as JSON")
    result.add_argument("--files", metavar="DIR", help="download the files the job produced into DIR")
    result.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    result.set_defaults(func=cmd_result)


def open_queue(args: argparse.Namespace) -> Queue:
    return Queue(open_existing_store(args.queue), kinds=args.kinds, operator=True)


def _json_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object, read within the bounds every reader of the queue keeps
    (``bounded_json``: a deeply nested one is refused, not a RecursionError)."""
    try:
        value = bounded_json.loads(text)
    except bounded_json.JsonRefused as exc:
        raise InvalidPayload(f"{what} {exc}") from None
    if not isinstance(value, dict):
        raise InvalidPayload(f"{what} must be a JSON object")
    return value


def payload_from_json(args: argparse.Namespace) -> dict[str, Any]:
    return _json_object(args.payload, "--payload")


def cmd_submit(args: argparse.Namespace) -> int:
    queue = open_queue(args)
    job_id = queue.submit(args.kind, args.payload_of(args), job_id=args.job_id)
    print(job_id)
    return 0


def cmd_result(args: argparse.Namespace) -> int:
    """Wait for the job to finish; print its result (and download its files with ``--files``)."""
    queue = open_queue(args)
    status = queue.wait(args.id, args.timeout)
    done = status.state is JobState.DONE
    fetched = queue.fetch_files(args.id, args.files) if args.files and done else []
    if args.json:
        print(json.dumps({name: status[name] for name in ("id", "status", "error", "result", "files")},
                         ensure_ascii=False))
    elif done:
        print(json.dumps(status.result, ensure_ascii=False, indent=1))
        for path in fetched:
            print(f"file: {path}")
    if not done:
        print(f"job {status.state.value}" + (f": {status.error}" if status.error else ""), file=sys.stderr)
        return 1
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = open_queue(args).status(args.id, after=args.after)
    if args.json:
        print(json.dumps(status.to_dict(), ensure_ascii=False))
    else:
        _print_status(status)
    return 0


def cmd_continue(args: argparse.Namespace) -> int:
    payload = _json_object(args.payload, "--payload") if args.payload else {}
    payload.update({name: getattr(args, name) for name in args.continue_fields if getattr(args, name) is not None})
    _print_status(open_queue(args).continue_job(args.id, payload))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    options = _json_object(args.options, "--options") if args.options else {}
    options.update({name: getattr(args, name) for name in args.cancel_fields if getattr(args, name) is not None})
    _print_status(open_queue(args).cancel(args.id, options or None))
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    """Print the job's output as it is written, the way its kind prints it (a story: its seed, then
    a line each); exit 0 when the job is done, 1 if it failed or was cancelled (after the lines
    its worker wrote before it noticed the cancel)."""
    queue = open_queue(args)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    shown = ""  # what has been printed: the output only grows at its end, so the rest is new
    while True:
        status = queue.status(args.id)
        text = status.printed()
        if not text.startswith(shown):  # a cancel kept fewer lines than were printed
            print(f"\n(the job was stopped at line {status.line_count}: the lines printed after it are "
                  "withdrawn)", file=sys.stderr)
            shown = text
        elif len(text) > len(shown):
            sys.stdout.write(text[len(shown):])
            sys.stdout.flush()
            shown = text
        state = status.state
        ended = status.settled or (deadline is not None and time.monotonic() >= deadline)
        if ended and shown:
            print(flush=True)  # the text ends with a newline
        if status.settled:
            if state is not JobState.DONE:
                reason = f": {status.error}" if status.error else ""
                print(f"job {state.value}{reason}", file=sys.stderr)
            return 0 if state is JobState.DONE else 1
        if ended:
            print(f"still {state.value} after {args.timeout:g} s", file=sys.stderr)
            return 1
        queue.store.wait(queue.timing.poll)


def cmd_list(args: argparse.Namespace) -> int:
    return _print_each(open_queue(args).jobs(), args.json, "no jobs", _job_line)


def cmd_workers(args: argparse.Namespace) -> int:
    return _print_each(open_queue(args).workers(unreadable=True), args.json, "no workers", _worker_line)


def _print_each(items: list[dict[str, Any]], as_json: bool, none: str, line_of) -> int:
    """``items`` as one JSON array, or one line each (``none`` if there are none)."""
    if as_json:
        print(json.dumps(items, ensure_ascii=False))
        return 0
    if not items:
        print(none)
    for item in items:
        print(line_of(item))
    return 0


def _job_line(job: dict[str, Any]) -> str:
    made = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job["created"] or 0))
    lines = f"{job['line_count']}/{job['lines_requested']} lines" if job["lines_requested"] else ""
    error = f"  ({job['error']})" if job["error"] else ""
    return f"{job['key']}  {made}  {job['kind'] or '?':6} {job['status']:9} {lines}{error}"


def _worker_line(worker: dict[str, Any]) -> str:
    if "error" in worker:
        return f"{worker['key']}  ignored: unreadable heartbeat file ({worker['error']})"
    seen = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(worker["last_seen"]))
    return (f"{worker['id']}  {'online ' if worker['online'] else 'offline'}  {worker['state']:6} "
            f"{worker['device']}  kinds: {', '.join(worker['kinds'])}  offers: {', '.join(worker['offers'])}  "
            f"last seen {seen}")


def cmd_gc(args: argparse.Namespace) -> int:
    report = open_queue(args).gc()
    if args.json:
        print(json.dumps(report))
    else:
        print(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in report.items()))
    return 0


def progress_text(progress: Mapping[str, Any]) -> str:
    """A worker's progress report in a line: ``step 40 of 200, loss 2.31``."""
    words = []
    for name, value in progress.items():
        shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value, ensure_ascii=False)
        if name == "of" and words:
            words[-1] += f" of {shown}"
        else:
            words.append(f"{name} {shown}")
    return ", ".join(words)


def _print_status(status: JobStatus) -> None:
    print(f"id: {status.id}")
    line = f"status: {status.state.value}"
    if status.queue_position:
        line += f" (position {status.queue_position} in the queue)"
    worker = status.worker
    if worker is not None:
        line += f" on {worker.id} ({worker.device})"
        if status.state is JobState.RUNNING:
            line += f" (worker last seen {max(0, round(time.time() - worker.last_seen))} s ago)"
    if status.stopping:  # a kind that counts lines stops at the end of one
        line += (" (its worker is still ending the line it was writing)" if status.lines_requested
                 else " (its worker is stopping it)")
    print(line)
    if status.error:
        print(f"error: {status.error}")
    if status.waiting_for:
        print(f"waiting for a worker that serves {status.waiting_for}")
    if status.progress:
        print(f"progress: {progress_text(status.progress)}")
    if status.lines_requested:
        print(f"lines: {status.line_count} of {status.lines_requested}")
    text = status.printed()
    if text:
        print()
        print(text)
