"""The job kinds bench/throughput.py measures, and the no-op as an rq function beside them.

``noop`` does nothing: what a job costs the queue itself. ``tiny`` is a tiny real job: it
counts the words and characters of a text it is sent and returns them. ``nap`` waits, as a
job waiting on something remote does (what a handler's ``concurrency`` overlaps). The
worker's handler concurrency is ``BENCH_CONCURRENCY`` (default 1, the default of every kind).
"""

import os
import time
from typing import Annotated

import drivequeue
from drivequeue import Range, Text

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "1"))


@drivequeue.kind(concurrency=CONCURRENCY)
def noop() -> None:
    """Nothing: the queue's own cost per job."""


@drivequeue.kind(concurrency=CONCURRENCY)
def tiny(text: Annotated[str, Text(2000)]) -> dict:
    """Count the words and characters of ``text``."""
    return count(text)


@drivequeue.kind(concurrency=CONCURRENCY)
def nap(seconds: Annotated[float, Range(0, 10)] = 1.0) -> None:
    """Wait ``seconds``, as a job waiting on something remote does."""
    time.sleep(seconds)


def count(text: str) -> dict:
    return {"words": len(text.split()), "chars": len(text)}


# the same work for rq, whose jobs are plain functions
def rq_noop() -> None:
    return None
