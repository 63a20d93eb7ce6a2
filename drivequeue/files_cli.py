"""``drivequeue push``, ``pull`` and ``files``: the command line of ``files``, with progress bars."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from .files import find, pull, push, stored_files
from .urls import open_existing_store


def register(subparsers, common: argparse.ArgumentParser) -> None:
    push_cmd = subparsers.add_parser("push", parents=[common], help="upload a local file into the queue")
    push_cmd.add_argument("local", help="the file to upload")
    push_cmd.add_argument("name", nargs="?", help="name to store it under (default: its file name)")
    push_cmd.set_defaults(func=cmd_push)

    pull_cmd = subparsers.add_parser("pull", parents=[common], help="download a pushed file")
    pull_cmd.add_argument("name", help="the name it was pushed under")
    pull_cmd.add_argument("local", nargs="?", help="where to write it (default: its file name, here)")
    pull_cmd.set_defaults(func=cmd_pull)

    files_cmd = subparsers.add_parser("files", parents=[common], help="list pushed files")
    files_cmd.add_argument("--json", action="store_true", help="print JSON")
    files_cmd.set_defaults(func=cmd_files)


def _bar(total: int, label: str) -> tqdm:
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False)


def _local_error(exc: OSError) -> int:
    print(f"drivequeue: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
    return 1


def cmd_push(args) -> int:
    store = open_existing_store(args.queue)
    local = Path(args.local)
    try:
        with _bar(local.stat().st_size, f"push {local.name}") as bar:
            pushed = push(store, local, args.name, bar.update)
    except OSError as exc:  # the local file: missing, unreadable...
        return _local_error(exc)
    print(f"pushed {pushed.name} ({pushed.size} bytes, md5 {pushed.md5})")
    return 0


def cmd_pull(args) -> int:
    store = open_existing_store(args.queue)
    stored = find(store, args.name)
    try:
        with _bar(stored.size, f"pull {args.name}") as bar:
            stored, target = pull(store, args.name, args.local, bar.update)
    except OSError as exc:  # the local side: no such folder, no permission, disk full...
        return _local_error(exc)
    print(f"pulled {stored.name} to {target} ({stored.size} bytes, md5 {stored.md5})")
    return 0


def cmd_files(args) -> int:
    files = stored_files(open_existing_store(args.queue))
    if args.json:
        print(json.dumps([asdict(f) for f in files], indent=1))
        return 0
    for f in files:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(f.time))
        print(f"{f.size:>12}  {stamp}  {f.name}")
    return 0
