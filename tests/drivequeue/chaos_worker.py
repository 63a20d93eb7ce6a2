"""A stub worker for the chaos test: writes numbered lines, each after a short sleep
(a line takes long enough that the test's kills land while work remains).

Usage: python -m tests.drivequeue.chaos_worker QUEUE LOG TIMING_JSON
QUEUE is a folder or a queue URL (drive://id:... with the Drive settings in the environment).
Line n of a job is written as "n claim_key". Each claim it wins is logged as
"claim claim_key worker_key" before any line is written, and each line once
``append`` has returned (the worker has been told it is written) as "line claim_key n".
"""

import json
import sys
import time

from drivequeue import LeaseLost, Queue, Timing, open_store
from tests.drivequeue.lines_plugin import BY_NAME

#: 100 jobs of 3.5 lines on average take at least 100 * 3.5 * 0.06 / 4 = 5.3 s on 4 workers
LINE_SECONDS = 0.06


def main(queue_url, log_path, timing_json):
    queue = Queue(open_store(queue_url), Timing(**json.loads(timing_json)), kinds=BY_NAME)
    with open(log_path, "a") as log, queue.worker(host="chaos", device="cpu", offers=["default"]) as session:
        while True:
            claim = session.claim_next({"lines"})
            if claim is None:
                session.wait()
                continue
            log.write(f"claim {claim.key} {session.key}\n")
            log.flush()
            try:
                for number in range(claim.line_count + 1, claim.line_count + claim.remaining + 1):
                    time.sleep(LINE_SECONDS)
                    claim.append([f"{number} {claim.key}"])
                    log.write(f"line {claim.key} {number}\n")
                    log.flush()
                claim.complete()
            except LeaseLost:
                pass


def read_logs(logs) -> tuple[dict[str, set[str]], dict[str, set[int]]]:
    """From the workers' logs: the worker keys that won each claim, and the line numbers
    each claim's worker was told were written."""
    owners: dict[str, set[str]] = {}
    reported: dict[str, set[int]] = {}
    for log in logs:
        for row in log.read_text().splitlines():
            what, claim_key, value = row.split()
            if what == "claim":
                owners.setdefault(claim_key, set()).add(value)
            else:
                reported.setdefault(claim_key, set()).add(int(value))
    return owners, reported


if __name__ == "__main__":
    main(*sys.argv[1:])
