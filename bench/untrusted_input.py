"""Time against size for hostile input: every parser that sees untrusted text must be linear.

Each shape below is text built to make a careless scanner backtrack or rescan
(an unclosed string of escaped quotes once took 3 s at 16 KB and 12 s at 32 KB).
It is timed, at 16, 32, 64 and 128 KB, where it really arrives:

* ``json``: ``drivequeue.bounded_json.loads``, which every queue record and request body goes through;
* ``record``: a queue file holding it, read by ``Queue.jobs()`` on a local folder (a fresh reader each time);
* ``web``: the body of ``POST /api/stories/<id>/cancel`` (no access key needed), through the web app.

Linear growth shows as a ratio of about 8 between 128 KB and 16 KB; a quadratic
scan would show 64.

Usage:
  python -m bench.untrusted_input                   # 9 runs per size
  python -m bench.untrusted_input --runs 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from drivequeue import LocalStore, Queue, Timing, bounded_json
from webapp import create_app
from webapp.config import Config

SIZES_KB = (16, 32, 64, 128)

#: text of about ``n`` characters for each shape
SHAPES: dict[str, Callable[[int], str]] = {
    "escaped quotes, no closing quote": lambda n: '"' + '\\"' * (n // 2),
    "quotes": lambda n: '"' * n,
    "quote and backslash pairs": lambda n: '"\\' * (n // 2),
    "opening brackets": lambda n: "[" * n,
    "empty arrays": lambda n: "[]" * (n // 2),
    "brackets inside a string": lambda n: '"' + "[{" * (n // 2),
}


def median_time(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse(text: str) -> None:
    try:
        bounded_json.loads(text.encode())
    except bounded_json.JsonRefused:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="runs per size (the median is reported)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # each hostile record is logged once per reader
    folder = Path(tempfile.mkdtemp(prefix="untrusted-bench-"))
    rows = []
    try:
        store = LocalStore(folder / "queue")
        timing = Timing(lease=10, heartbeat=2)
        queue = Queue(store, timing)
        config = Config(secret_key="bench", queue_url=store.url, environment="development",
                        max_body_bytes=max(SIZES_KB) * 1024 + 16, read_limit="1000000 per minute")
        client = create_app(config, queue=queue).test_client()
        story_id = queue.submit("story", {"seed": "x"})
        cancel_url = f"/api/stories/{story_id}/cancel"
        print(f"{'shape':<34} {'where':<7}" + "".join(f"{kb:>9} KB" for kb in SIZES_KB) + "   128/16")
        for shape, make in SHAPES.items():
            for where in ("json", "record", "web"):
                seconds = []
                for kb in SIZES_KB:
                    text = make(kb * 1024)
                    if where == "json":
                        action = lambda: parse(text)  # noqa: E731
                    elif where == "record":
                        key, = store.new_keys("job")
                        store.create(key, "job", text.encode())
                        action = lambda: Queue(store, timing).jobs()  # noqa: E731
                    else:
                        action = lambda: client.post(cancel_url, data=text, content_type="application/json")  # noqa: E731
                    seconds.append(median_time(action, args.runs))
                    if where == "record":
                        store.delete(key)
                ratio = seconds[-1] / seconds[0]
                print(f"{shape:<34} {where:<7}" + "".join(f"{s * 1000:9.2f} ms" for s in seconds) + f"   {ratio:6.1f}")
                rows.append({"shape": shape, "where": where, "sizes_kb": list(SIZES_KB), "median_s": seconds,
                             "ratio": ratio})
        store.close()
    finally:
        shutil.rmtree(folder)
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": args.runs, "rows": rows}))


if __name__ == "__main__":
    main()
