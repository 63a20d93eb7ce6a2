"""BENCHMARKS.md's targets and section for bench/throughput.py: short jobs back to back, beside rq."""

from __future__ import annotations

#: issue 23's targets
RQ_RATIO_TARGET = 0.5  # of rq's SimpleWorker, on the same redis-server
LOCAL_JOBS_TARGET = 25.0  # jobs/s on a local folder
DRIVE_JOBS_TARGET = 1.0  # jobs/s on the Drive emulator at 150 ms a request
TRIP_MEDIAN_TARGET_S = 0.05
SLOW_TRIP_S = 0.5


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _ratio(run: dict) -> float:
    return run["noop"]["jobs_per_s"] / run["rq_simple"]["jobs_per_s"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _trip_ok(trip: dict) -> bool:
    return trip["median_s"] <= TRIP_MEDIAN_TARGET_S and trip["over_500ms"] == 0


def throughput_targets(figures: dict) -> list[str]:
    """Rows of the targets table (no header)."""
    rows = []
    for fsync in ("always", "everysec"):
        run = figures[f"redis_{fsync}"]
        rows.append(f"| Redis, `appendfsync {fsync}`: one worker's no-op jobs/s >= {RQ_RATIO_TARGET:g}x rq's "
                    f"SimpleWorker on the same server | {run['noop']['jobs_per_s']:.0f} vs {run['rq_simple']['jobs_per_s']:.0f}"
                    f" ({_ratio(run):.2f}x) | {_verdict(_ratio(run) >= RQ_RATIO_TARGET)} |")
    local = figures["local"]["noop"]["jobs_per_s"]
    rows.append(f"| local folder: one worker >= {LOCAL_JOBS_TARGET:g} no-op jobs/s | {local:.0f} "
                f"| {_verdict(local >= LOCAL_JOBS_TARGET)} |")
    drive = figures["drive"]
    noop = drive["runs"]["1"]["noop"]["jobs_per_s"]
    rows.append(f"| Drive emulator at {drive['latency_ms']:g} ms a request: one worker >= {DRIVE_JOBS_TARGET:g} "
                f"no-op job/s | {noop:.2f} | {_verdict(noop >= DRIVE_JOBS_TARGET)} |")
    for label, key in (("local folder", "local"), ("Redis (`appendfsync always`)", "redis_always")):
        trip = figures[key]["round_trip"]
        rows.append(f"| submit -> result of one tiny job, {label}: median <= {TRIP_MEDIAN_TARGET_S * 1000:g} ms, "
                    f"none over {SLOW_TRIP_S * 1000:g} ms in {trip['trips']} | median {_ms(trip['median_s'])}, "
                    f"worst {_ms(trip['max_s'])}, {trip['over_500ms']} over | {_verdict(_trip_ok(trip))} |")
    return rows


def throughput_section(figures: dict) -> list[str]:
    where = figures["machine"]
    load, after = where["load"], where.get("load_after", where["load"])
    always, everysec = figures["redis_always"], figures["redis_everysec"]
    local, drive = figures["local"], figures["drive"]

    def redis_row(label: str, pick) -> str:
        return f"| {label} | {pick(always)} | {pick(everysec)} |"

    def rate(run: dict) -> str:
        return f"{run['jobs_per_s']:.0f}"

    trips = ["| round trip (submit, then result) | median | 90th percentile | worst | over 500 ms |",
             "| --- | --- | --- | --- | --- |"]
    for label, trip in (("local folder", local["round_trip"]), ("Redis, `appendfsync always`", always["round_trip"]),
                        ("Redis, `appendfsync everysec`", everysec["round_trip"])):
        trips.append(f"| {label} | {_ms(trip['median_s'])} | {_ms(trip['p90_s'])} | {_ms(trip['max_s'])} "
                     f"| {trip['over_500ms']} of {trip['trips']} |")
    concurrencies = sorted(drive["runs"], key=int)
    drive_rows = ["| handler concurrency | no-op jobs/s | API calls per no-op job | jobs/s of "
                  f"{drive['nap_s']:g} s waits |", "| --- | --- | --- | --- |"]
    for concurrency in concurrencies:
        runs = drive["runs"][concurrency]
        drive_rows.append(f"| {concurrency} | {runs['noop']['jobs_per_s']:.2f} | {runs['noop']['api_calls_per_job']:.1f} "
                          f"| {runs['nap']['jobs_per_s']:.2f} |")
    return [
        "## Short jobs back to back: one worker, beside rq",
        "",
        f"`bench/throughput.py` on **{where['cpu']}, {where['cores']} CPU cores**; load average "
        f"{load[0]:.1f} (1 min), {load[1]:.1f} (5 min) as it started, {after[0]:.1f} as it ended: other work "
        "shared the machine, so expect tens of per cent between runs. The worker (`drivequeue worker`, default "
        "settings) runs in a process of its own, started and idle before the client begins; one client submits "
        f"{figures['jobs']} jobs as fast as it can, then holds every result through `Queue.result`; a rate is the "
        "jobs over the time from the first submit to the last result. `noop` does nothing; `tiny` counts the "
        "words of a text it is sent (`bench/throughput_plugin.py`, kinds declared by one function each). rq "
        "runs the same no-op function on the same redis-server, measured the same way (enqueue every job, then "
        f"each `latest_result`); ours and rq's `SimpleWorker` take {figures['rounds']} turns each and the median "
        "turn counts, since the load of a shared machine shifts from minute to minute; each Redis column is a "
        "server of its own.",
        "",
        "| one worker, jobs/s | Redis, `appendfsync always` | Redis, `appendfsync everysec` |",
        "| --- | --- | --- |",
        redis_row("ours, no-op", lambda run: rate(run["noop"])),
        redis_row("ours, tiny", lambda run: rate(run["tiny"])),
        redis_row("rq `SimpleWorker` (no fork), no-op", lambda run: rate(run["rq_simple"])),
        redis_row("rq `Worker` (forks per job), no-op", lambda run: rate(run["rq_fork"])),
        redis_row("ours / rq `SimpleWorker`", lambda run: f"{_ratio(run):.2f}x"),
        redis_row("every turn, ours no-op / rq `SimpleWorker`", lambda run: " ".join(
            f"{ours:.0f}/{rq:.0f}" for ours, rq in zip(run["noop"]["rates"], run["rq_simple"]["rates"]))),
        redis_row("Redis commands per no-op job, ours / rq (the server's count: a script's calls count "
                  "one by one)", lambda run: f"{run['noop']['commands_per_job']:.0f} / "
                                             f"{run['rq_simple']['commands_per_job']:.0f}"),
        "",
        f"Local folder: {local['noop']['jobs_per_s']:.0f} no-op jobs/s, {local['tiny']['jobs_per_s']:.0f} tiny "
        "(7 fsyncs a job, 5 of them the worker's: docs/protocol.md, \"What a job costs\").",
        "",
        *trips,
        "",
        f"Drive emulator at {drive['latency_ms']:g} ms a request (every request waits that long; one worker, the "
        "client as above):",
        "",
        *drive_rows,
        "",
        "Before short jobs ran back to back, the same measurement gave 0.7 (`always`) and 1.0 (`everysec`) "
        "no-op jobs/s on Redis and 2.7 on a local folder, and one round trip in ten took 10 s on Redis. "
        "A claim and its job's ending overlap (the next claim is made while the last job's ending is written), "
        "and a worker sleeps only when nothing it serves is queued: a submit wakes it on a folder (inotify) and "
        "on Redis (a message); on Drive an idle worker looks at the changes feed every `poll` (4 s). What each "
        "store is asked per job is in docs/protocol.md, \"What a job costs\".",
    ]
