"""``drivequeue top``: the queue at a glance in a terminal, redrawn every few seconds (in the manner
of ``rq info --interval``): workers, jobs by kind and state, what waits for a worker, recent
failures and the throughput of the last hour. ``--json`` prints one look and exits.

Usage::

    drivequeue top [--queue URL] [--interval SECONDS]
    drivequeue top --json

On a terminal each look replaces the last; elsewhere (a pipe, a notebook cell's
``!drivequeue top``) the looks follow one another. Between looks it follows the
store's changes feed, so on Drive a look costs a few calls.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

from . import human
from .errors import ConfigError, StoreUnavailable
from .overview import Overview, take
from .queue_cli import open_queue
from .state import JobState
from .urls import redact

DEFAULT_INTERVAL = 5.0
MAX_INTERVAL = 3600.0
#: home the cursor and clear the screen
CLEAR = "\x1b[H\x1b[2J"
BARS = " ▁▂▃▄▅▆▇█"
STATES = [state.value for state in JobState]


def register(subparsers, common: argparse.ArgumentParser) -> None:
    top = subparsers.add_parser("top", parents=[common],
                                help="watch the workers, the queue and its throughput, redrawn every few seconds")
    top.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                     help=f"seconds between looks (default {DEFAULT_INTERVAL:g})")
    top.add_argument("--json", action="store_true", help="print one look as JSON and exit")
    top.set_defaults(func=cmd_top)


def cmd_top(args: argparse.Namespace) -> int:
    if not 0 < args.interval <= MAX_INTERVAL:
        raise ConfigError(f"--interval must be a number of seconds above 0 and at most {MAX_INTERVAL:g}")
    queue = open_queue(args)
    if args.json:
        print(json.dumps(take(queue).as_json(), ensure_ascii=False))
        return 0
    queue.follow_changes(args.interval)
    where = redact(queue.store.url)
    on_terminal = sys.stdout.isatty()
    try:
        while True:
            try:
                text = render(take(queue), where, args.interval)
            except StoreUnavailable as exc:
                text = f"{where}: the queue cannot be reached ({exc}); looking again in {args.interval:g} s"
            if on_terminal:
                width = shutil.get_terminal_size().columns
                text = CLEAR + "\n".join(line[:width] for line in text.splitlines())
            print(text, end="\n" if on_terminal else "\n\n", flush=True)
            time.sleep(args.interval)
    except KeyboardInterrupt:  # how a watch ends
        return 0


def render(view: Overview, where: str, interval: float) -> str:
    """One look as text."""
    clock = time.strftime("%H:%M:%S", time.localtime(view.taken))
    lines = [f"{where} at {clock} (every {interval:g} s; Ctrl-C stops)", ""]
    lines += _workers(view)
    lines += ["", "JOBS BY KIND AND STATE"] + _table(["kind", *STATES], [
        [kind, *(f"{counts[state]:,}" for state in STATES)] for kind, counts in sorted(view.counts.items())])
    if view.waiting:
        lines += ["", f"WAITING FOR A WORKER THAT SERVES THEM ({len(view.waiting)})"]
        lines += _table(["job", "needs", "waiting"], [
            [job.key, job.needs, human.age(view.taken - job.since)] for job in view.waiting])
    if view.failures:
        lines += ["", "FAILED RECENTLY"]
        lines += _table(["job", "kind", "ago", "reason"], [
            [job.key, job.kind, human.age(view.taken - job.ended), job.error] for job in view.failures])
    lines += ["", "THROUGHPUT, LAST 60 MINUTES (jobs ended a minute)", *_chart(view.throughput)]
    return "\n".join(lines)


def _workers(view: Overview) -> list[str]:
    readable = [worker for worker in view.workers if "error" not in worker]
    lines = [f"WORKERS: {view.online} online, {len(readable) - view.online} offline"]
    for worker in view.workers:
        if "error" in worker:
            lines.append(f"  {worker['key']}  ignored: unreadable heartbeat file ({worker['error']})")
            continue
        name = worker.get("report", {}).get("device", {}).get("name")
        lines.append(
            f"  {worker['id']}  {'online' if worker['online'] else 'offline'}  {worker['state']}  "
            f"{worker['device']}{f' ({name})' if name and name not in worker['device'] else ''}  "
            f"memory: {human.memory(worker)}  jobs: {worker['claims']}  "
            f"seen {human.age(view.taken - worker['last_seen'])} ago  code {worker['version'] or '?'}")
        offers = f" (offers {', '.join(worker['offers'])})" if worker["offers"] else ""
        lines.append(f"      on {worker['host']}, serves {', '.join(worker['kinds'])}{offers}")
        for kind, counts in sorted(worker.get("report", {}).get("kinds", {}).items()):
            lines.append(f"      {kind}: {human.work(counts)}")
    return lines


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    return ["  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in [head, *rows]]


def _chart(throughput: dict[str, list[int]]) -> list[str]:
    ended = [sum(counts) for counts in zip(throughput["done"], throughput["failed"], throughput["cancelled"])]
    top = max(ended)
    bars = "".join(BARS[0 if n == 0 else max(1, round(n / top * (len(BARS) - 1)))] for n in ended)
    totals = ", ".join(f"{sum(throughput[name]):,} {name}" for name in ("done", "failed", "cancelled", "lines"))
    return [f"  |{bars}| most in a minute: {top}", f"  {totals}"]
