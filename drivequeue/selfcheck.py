"""``drivequeue selfcheck``: check a deployed queue end to end and report each step.

It works on the store itself with files of its own name (``selfcheck``), so no
worker takes its test job: it creates a job, reads it back, finds it in a
listing, claims it (a second claim must be refused), writes a result, and
deletes everything it made, also when a step fails.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import Callable

from .errors import DriveQueueError, KeyExists
from .store import Store
from .urls import open_store, redact

NAME = "selfcheck"
#: how long a new file may take to show up in a listing
LISTING_WAIT_S = 30.0


class CheckFailed(DriveQueueError):
    """A step of the self-check did not do what it should."""


def _steps(store: Store, job_key: str, claim_key: str) -> list[tuple[str, Callable[[], None]]]:
    job = json.dumps({"v": 1, "host": socket.gethostname(), "time": time.time()}).encode()

    def read_back() -> None:
        if store.read(job_key) != job:
            raise CheckFailed("the job read back differs from what was written")

    def listed() -> None:
        deadline = time.monotonic() + LISTING_WAIT_S
        while job_key not in {e.key for e in store.list(NAME)}:
            if time.monotonic() > deadline:
                raise CheckFailed(f"the job did not show up in a listing within {LISTING_WAIT_S:g}s")
            time.sleep(1.0)

    def second_claim_refused() -> None:
        try:
            store.create(claim_key, NAME, b"second")
        except KeyExists:
            return
        raise CheckFailed("a second claim on the same key was accepted: create-if-absent is broken")

    def write_result() -> None:
        store.write(claim_key, b"result")
        if store.read(claim_key) != b"result":
            raise CheckFailed("the written result did not read back")

    def delete() -> None:
        store.delete(job_key)
        store.delete(claim_key)
        if store.exists(job_key) or store.exists(claim_key):
            raise CheckFailed("deleted files still exist")

    return [
        ("create a test job", lambda: store.create(job_key, NAME, job)),
        ("read it back", read_back),
        ("find it in a listing", listed),
        ("claim it", lambda: store.create(claim_key, NAME, b"claimed")),
        ("refuse a second claim", second_claim_refused),
        ("write a result", write_result),
        ("delete the test files", delete),
    ]


def selfcheck(store: Store, report: Callable[[str], None]) -> bool:
    """Run every step, reporting each; True when all passed. Test files are removed in any case."""
    job_key, claim_key = store.new_keys(NAME, 2)
    report(f"queue {redact(store.url)}")
    try:
        for label, step in _steps(store, job_key, claim_key):
            started = time.monotonic()
            try:
                step()
            except DriveQueueError as exc:
                report(f"FAILED  {label}: {exc}")
                return False
            report(f"ok      {label} ({time.monotonic() - started:.2f}s)")
    finally:
        try:
            for key in (job_key, claim_key):
                store.delete(key)
        except DriveQueueError as exc:
            report(f"could not remove the test files: {exc}")
    return True


def register(subparsers, common) -> None:
    check = subparsers.add_parser("selfcheck", parents=[common],
                                  help="create, read, claim and delete a test job, reporting each step")
    check.set_defaults(func=cmd_selfcheck)


def cmd_selfcheck(args) -> int:
    started = time.monotonic()

    def report(line: str) -> None:
        print(line, flush=True)

    try:
        store = open_store(args.queue)
    except DriveQueueError as exc:
        print(f"FAILED  open the queue: {exc}", file=sys.stderr)
        return 1
    passed = selfcheck(store, report)
    calls = getattr(store, "calls", None)
    extra = f", {sum(calls.values())} API calls" if calls is not None else ""
    report(f"{'all steps passed' if passed else 'self-check failed'} in {time.monotonic() - started:.1f}s{extra}")
    return 0 if passed else 1

