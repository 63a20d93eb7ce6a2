"""``drivequeue bad``: the items of the queue that readers skip, and why.

One look as every reader takes it (the jobs with their chains and outputs, the
heartbeats, the pushed files, the age of each blob), then each item that could not be used: a file
that is not a record, a record that breaks its bounds, a folder or Google file
named like a record, a Redis key of the wrong type, an index entry that names
no file. Each line is the item's key, what it was read as, and the problem.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from . import files
from .bad_items import BadItem
from .errors import CorruptRecord, NotFound
from .queue import Queue
from .queue_cli import open_queue


def register(subparsers, common: argparse.ArgumentParser) -> None:
    bad = subparsers.add_parser("bad", parents=[common], help="list the items of the queue that readers skip, and why")
    bad.add_argument("--json", action="store_true", help="print JSON")
    bad.set_defaults(func=cmd_bad)


def look(queue: Queue) -> list[BadItem]:
    """Read the queue as its readers do (and ask each blob's age, as ``gc`` does); the items
    that could not be used."""
    queue.jobs()
    queue.workers()
    files.stored_files(queue.store)
    for entry in queue.store.list(files.BLOB):
        try:
            queue.store.modified(entry.key)
        except NotFound:
            continue
        except CorruptRecord as exc:
            queue.store.bad.note(entry.key, "blob", str(exc))
    return queue.store.bad.items()


def cmd_bad(args: argparse.Namespace) -> int:
    found = look(open_queue(args))
    if args.json:
        print(json.dumps([asdict(item) for item in found], ensure_ascii=False))
        return 0
    if not found:
        print("no bad items")
    for item in found:
        print(f"{item.key}  {item.what}: {item.problem}")
    return 0
