"""Send a text file to a worker, wait, and bring back its line scores.

Usage (from the repository root)::

    python -m examples.linescore.client notes.txt [--queue URL] [--steps 200] [--out scores/]

Prints the JSON result; the per-line table ``scores.tsv`` is downloaded into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from drivequeue import DriveQueueError, JobFailed, Queue, files, open_store
from drivequeue.kinds import by_name

from .plugin import KINDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linescore", description=__doc__.split("\n\n")[0])
    parser.add_argument("text", type=Path, help="a UTF-8 text file")
    parser.add_argument("--queue", metavar="URL", help="the queue (default: $DRIVEQUEUE_URL; one of them is needed)")
    parser.add_argument("--steps", type=int, default=200, help="training steps on the worker (default 200)")
    parser.add_argument("--out", type=Path, default=Path("."), help="where to put scores.tsv (default: here)")
    parser.add_argument("--timeout", type=float, help="give up after this many seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    queue = Queue(open_store(args.queue), kinds=by_name(KINDS))
    try:
        name = f"inputs/{secrets.token_hex(8)}/{files.check_file_name(args.text.name)}"
        files.push(queue.store, args.text, name)
        job_id = queue.submit("linescore", {"text": name, "steps": args.steps})
        print(f"queued {job_id}", file=sys.stderr)
        result = queue.result(job_id, timeout=args.timeout)
        for path in queue.fetch_files(job_id, args.out):
            print(f"wrote {path}", file=sys.stderr)
        files.remove(queue.store, name)
    except (DriveQueueError, JobFailed, TimeoutError, OSError) as exc:
        print(f"linescore: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
