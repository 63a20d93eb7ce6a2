"""BENCHMARKS.md and its plot, from the figures ``python -m bench`` collected."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from bench.throughput_report import throughput_section, throughput_targets

#: the targets the suite checks (issue 7)
PICKUP_TARGET_S = 0.5
DRIVE_P50_TARGET_S = 2.5
CALLS_PER_LINE_TARGET = 2.0
PAPER_RATIO_TARGET = 10.0
CLICK_TARGET_S = 0.5
VISIBLE_TARGET_S = 0.4  # plus the reveal pace
#: issue 15: Redis, and what the web app and an idle worker may spend on Drive
REDIS_P50_TARGET_S = 0.3
REDIS_FIRST_LINE_TARGET_S = 0.3
WEB_WRITTEN_TARGET = 1.5  # Drive calls per second per story being written
WEB_FINISHED_TARGET = 0.1  # ... per finished story watched
IDLE_WORKER_TARGET = 20.0  # Drive calls per minute
#: issue 21: the operator's page open and /metrics scraped every 15 s, the web app's Drive calls a minute
WATCHING_TARGET = 60.0


def write_plot(figures: dict, path: Path) -> None:
    """Left: the latency distribution per transport; right: throughput against concurrent stories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, run in figures["e2e"]["transports"].items():
        values = sorted(run["latencies_s"])
        if values:
            left.step(values, [(i + 1) / len(values) for i in range(len(values))], where="post",
                      label=f"{name}: p50 {run['p50_s']:.2f} s")
    left.axvline(DRIVE_P50_TARGET_S, color="grey", linestyle=":", label=f"Drive p50 target {DRIVE_P50_TARGET_S:g} s")
    left.set(xscale="log", xlabel="line generated -> served by the web API (s)", ylabel="share of lines",
             title="End-to-end latency")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)

    gen = figures["generation"]
    per_line = gen["line_chars"] + 1  # a line and its newline
    decoded = sorted((int(n), rate / per_line) for n, rate in gen["chars_per_s"].items())
    right.plot(*zip(*decoded), marker="o", label="the model alone (characters/s / characters per line)")
    served = sorted((int(n), rate) for n, rate in figures["worker_latency"]["lines_per_s"].items())
    right.plot(*zip(*served), marker="s", label="the worker on a local queue (submit -> last line)")
    right.set(xscale="log", yscale="log", xlabel="concurrent stories", ylabel="lines per second, in aggregate",
              title="Throughput on the CPU")
    for axis in (left.xaxis, right.xaxis, right.yaxis):
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(ticker.NullFormatter())
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def _calls(counts: dict) -> str:
    return ", ".join(f"{name} {count:g}" for name, count in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def _threads(n: int) -> str:
    return f"{n} torch thread{'s' if n > 1 else ''}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(figures: dict) -> list[str]:
    pickup = sorted(figures["worker_latency"]["first_line_s"])
    pickup_median = statistics.median(pickup)
    e2e = figures["e2e"]["transports"]
    drive_p50, paper_p50 = e2e["drive"]["p50_s"], e2e["paper"]["p50_s"]
    per_line = figures["drive_api_cost"]["worker_calls_per_line"]
    ratio = paper_p50 / drive_p50 if drive_p50 and paper_p50 else None
    click = figures["page_latency"]["click_to_first_line"]["p50_s"]
    visible = figures["page_latency"]["local"]["p50_s"]
    return [
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| submit -> first line on a local queue < {PICKUP_TARGET_S:g} s (median) | {_s(pickup_median)} "
        f"(worst {_s(pickup[-1])}) | {_verdict(pickup_median < PICKUP_TARGET_S)} |",
        f"| line generated -> served over the Drive emulator (150 ms per request), p50 < {DRIVE_P50_TARGET_S:g} s "
        f"| {_s(drive_p50)} | {_verdict(drive_p50 is not None and drive_p50 < DRIVE_P50_TARGET_S)} |",
        f"| Drive API calls per generated line <= {CALLS_PER_LINE_TARGET:g} (steady state) | {per_line:.2f} "
        f"| {_verdict(per_line <= CALLS_PER_LINE_TARGET)} |",
        f"| paper baseline >= {PAPER_RATIO_TARGET:g}x slower than the Drive API path at the median "
        f"| {'n/a' if ratio is None else f'{ratio:.0f}x'} "
        f"| {_verdict(ratio is not None and ratio >= PAPER_RATIO_TARGET)} |",
        f"| click -> first line visible in the browser, local demo <= {CLICK_TARGET_S:g} s (median) "
        f"| {_s(click)} | {_verdict(click <= CLICK_TARGET_S)} |",
        f"| line written -> visible in the browser, local folder, p50 <= {VISIBLE_TARGET_S:g} s "
        f"| {_s(visible)} | {_verdict(visible <= VISIBLE_TARGET_S)} |",
        *redis_and_drive_targets(figures),
        watching_target(figures["operator_cost"]),
        *throughput_targets(figures["throughput"]),
    ]


def redis_and_drive_targets(figures: dict) -> list[str]:
    redis_p50 = figures["e2e"]["transports"]["redis"]["p50_s"]
    first = figures["redis_queue"]["first_line_p50_s"]
    drive = figures["drive_api_cost"]
    web = drive["web"]
    written, finished = web["calls_per_s_per_written_story"], web["calls_per_s_per_finished_story"]
    return [
        f"| line generated -> served over Redis, p50 <= {REDIS_P50_TARGET_S:g} s | {_s(redis_p50)} "
        f"| {_verdict(redis_p50 is not None and redis_p50 <= REDIS_P50_TARGET_S)} |",
        f"| submit -> first line over Redis <= {REDIS_FIRST_LINE_TARGET_S:g} s (median) | {_s(first)} "
        f"| {_verdict(first <= REDIS_FIRST_LINE_TARGET_S)} |",
        f"| web app, {web['watched']} stories watched: Drive calls per second per story being written "
        f"<= {WEB_WRITTEN_TARGET:g} | {written:.2f} | {_verdict(written <= WEB_WRITTEN_TARGET)} |",
        f"| ... per finished story watched <= {WEB_FINISHED_TARGET:g} | {finished:.3f} "
        f"| {_verdict(finished <= WEB_FINISHED_TARGET)} |",
        f"| idle worker on Drive <= {IDLE_WORKER_TARGET:g} calls per minute | {drive['idle_calls_per_minute']:.1f} "
        f"| {_verdict(drive['idle_calls_per_minute'] <= IDLE_WORKER_TARGET)} |",
    ]


def watching_target(operator: dict) -> str:
    web = operator["calls_per_minute"]["watched"]["web"]
    return (f"| operator's page open and /metrics every {operator['scrape_s']:g} s on Drive: web app <= "
            f"{WATCHING_TARGET:g} calls per minute | {web:.1f} | {_verdict(web <= WATCHING_TARGET)} |")


def operator_section(operator: dict) -> list[str]:
    rate, calls = operator["calls_per_minute"], operator["calls"]
    quota = operator["quota_per_minute"]
    scale = operator["scale"]
    scaled = f"; intervals run x{scale:g} faster, rates in Drive time" if scale != 1 else ""
    together = rate["watched"]["web"] + rate["watched"]["worker"]
    tabs = f"{operator['tabs']} tab{'s' if operator['tabs'] != 1 else ''}"
    return [
        "## Watching the queue on Google Drive",
        "",
        f"Drive API calls a minute, counted through the real client on the emulator (`bench/operator_cost.py`: "
        f"{operator['minutes']:g} Drive-time minutes a phase{scaled}), with {operator['jobs']} finished stories in "
        "the queue and one idle worker (looking for jobs every 4 s, a heartbeat every 15 s; its `gc`, every 10 "
        "minutes, is not in these figures). The web app is the real one (`create_app`) on its own Drive handle:",
        "",
        "| | web app | of which | worker | together, of the per-user quota |",
        "| --- | --- | --- | --- | --- |",
        f"| nobody watching (the idle deployment) | {rate['idle']['web']:.1f} | {_calls(calls['idle']['web'])} "
        f"| {rate['idle']['worker']:.1f} ({_calls(calls['idle']['worker'])}) "
        f"| {(rate['idle']['web'] + rate['idle']['worker']) / quota:.2%} |",
        f"| the operator's page open in {tabs} (a look every {operator['period_s']:g} s) and /metrics scraped "
        f"every {operator['scrape_s']:g} s | {rate['watched']['web']:.1f} | {_calls(calls['watched']['web'])} "
        f"| {rate['watched']['worker']:.1f} | {together / quota:.2%} |",
        "",
        f"The quota: {quota:,} queries a minute per user in Google's older quota pages (325,000 quota units a "
        "minute per user since 2026-05). Whatever the number of tabs and scrapes, a web process looks at the "
        "queue once per period, through the changes feed: about three `changes.list` calls a look, and a read of "
        "each heartbeat rewritten since the last one; finished jobs cost nothing.",
    ]


def e2e_section(e2e: dict, plot_link: str) -> list[str]:
    polls = ", ".join(f"{name} every {run['poll_s']:g} s" for name, run in e2e["transports"].items()
                      if run.get("poll_s") is not None)
    rows = ["| transport | p50 | p95 | max | lines measured |", "| --- | --- | --- | --- | --- |"]
    for run in e2e["transports"].values():
        rows.append(f"| {run['label']} | {_s(run['p50_s'])} | {_s(run['p95_s'])} | {_s(run['max_s'])} "
                    f"| {run['lines_measured']} of {run['lines_requested']} ({run['stories']} stories) |")
    return [
        "## End-to-end latency: a line generated -> served by the web API",
        "",
        "From the moment the worker's generator returns a line (the real worker, `colab_worker.serving.serve_queue`, "
        "in a process of its own, with `StoryBatch.step` wrapped to log the time) to the moment "
        f"`GET /api/stories/<id>?after=N` of the real web app first serves it to a client polling "
        f"as often as the web app reads the store ({polls}), as the story page does (`bench/e2e_latency.py`). The paper's transport is a "
        f"mounted Drive folder whose writes reach the other side after {e2e['mount_delay_s']:g} s, seen at the "
        f"next re-mount every {e2e['remount_s']:g} s (`bench/paper_transport.py`).",
        "",
        *rows,
        "",
        "Where the time goes: on a local folder and on Redis, the wait for the next poll of the page and the "
        "web app's read cache (a story is read at most once per read period). "
        "On Drive, add the worker's coalescing (a story's new lines are written at most once per second, "
        "and a line is held until the write) and a few requests of 150 ms each to write the output and to read "
        "the job's files back. On the mounted folder, the mount's delay dwarfs everything else.",
        "",
        f"![latency distribution per transport, and throughput against concurrent stories]({plot_link})",
    ]


def generation_section(gen: dict) -> list[str]:
    n = gen["lines"]
    rows = ["| stories | characters/s in aggregate | per story |", "| --- | --- | --- |"]
    for stories, rate in sorted(gen["chars_per_s"].items(), key=lambda kv: int(kv[0])):
        rows.append(f"| {stories} | {rate:,.0f} | {rate / int(stories):,.0f} |")
    threads = _threads(gen["threads"])
    contrast = []
    if gen["one_story_default_threads"] is not None and 1 in gen["chars_per_s"]:
        contrast = ["", f"With torch's default of {gen['default_threads']} threads on this shared CPU, one story "
                    f"decoded {gen['one_story_default_threads']:,.0f} characters/s instead of "
                    f"{gen['chars_per_s'][1]:,.0f}: hence `COLAB_WORKER_THREADS` and "
                    "`python -m bench --threads`."]
    return [
        f"## Generation on the CPU ({threads}, eager)",
        "",
        f"Time per line of one story (`bench/generation.py`; lines of {gen['line_chars']:.0f} characters on "
        f"average): carrying the LSTM state vs re-seeding, i.e. feeding the whole story again for every line.",
        "",
        f"| | line 1 | line {n} |",
        "| --- | --- | --- |",
        f"| carried state | {_ms(gen['carried_s'][0])} | {_ms(gen['carried_s'][1])} |",
        f"| re-seeding | {_ms(gen['reseeded_s'][0])} | {_ms(gen['reseeded_s'][1])} |",
        "",
        "Throughput with several stories decoded as one batch (the characters the stories kept, whatever "
        "a token holds):",
        "",
        *rows,
        *contrast,
    ]


def worker_section(worker: dict) -> list[str]:
    delays = sorted(worker["first_line_s"])
    rows = ["| stories submitted at once | lines/s in aggregate |", "| --- | --- |"]
    rows += [f"| {stories} | {rate:.1f} |" for stories, rate in worker["lines_per_s"].items()]
    return [
        "## Pick-up latency and worker throughput (local queue)",
        "",
        f"A `colab-worker run` process waiting on an idle local queue (`bench/worker_latency.py`): submit -> "
        f"first line readable, median {_s(statistics.median(delays))}, best {_s(delays[0])}, worst "
        f"{_s(delays[-1])} over {len(delays)} submits. Throughput from the submits to the last line of "
        f"{worker['lines']}-line stories:",
        "",
        *rows,
    ]


def drive_section(drive: dict, before: dict | None = None) -> list[str]:
    scale = drive["scale"]
    scaled = f" (intervals run x{scale:g} faster, rates scaled back)" if scale != 1 else ""
    return [
        "## Google Drive API cost (emulator, 150 ms per request)",
        "",
        f"Every request the Drive store makes, counted through the real client (`bench/drive_api_cost.py`, "
        f"Drive timings{scaled}):",
        "",
        "| | API calls | of which |",
        "| --- | --- | --- |",
        f"| idle worker, per minute | {drive['idle_calls_per_minute']:.1f} | {_calls(drive['idle_calls'])} |",
        f"| worker writing {drive['line_rate']:g} lines/s, per generated line | {drive['worker_calls_per_line']:.2f} "
        f"| {_calls(drive['worker_calls'])} over {drive['lines']} lines |",
        f"| a bare reader, per status poll (one every {drive['poll_s']:g} s) | {drive['reader_calls_per_poll']:.2f} "
        f"| {_calls(drive['reader_calls'])} |",
        "",
        f"The web app's own `Stories` with {drive['web']['watched']} stories open in browsers, each polled every "
        f"second ({drive['web']['written']} of them being written at {drive['web']['story_rate']:g} lines/s), "
        "Drive calls per second per story; before: as the web app was until it followed the changes feed "
        "(every status read went to Drive), after: one `changes.list` per second for the whole folder, and "
        "only files that changed fetched again:",
        "",
        "| | per finished story watched | per story being written |",
        "| --- | --- | --- |",
        *[f"| {label} | {web['calls_per_s_per_finished_story']:.3f} | {web['calls_per_s_per_written_story']:.2f} |"
          for label, web in (("before", before and before["web"]), ("after", drive["web"])) if web is not None],
        "",
        f"The web app asked for {drive['unknown_ids']['ids']} random well-formed story ids, one after another "
        "(each a 404): before, every id cost Drive a `files.get`; after, an id the changes feed has not shown "
        "is answered from what the feed told, at most one `changes.list` per read period:",
        "",
        "| | API calls in all | of which | time |",
        "| --- | --- | --- | --- |",
        *[f"| {label} | {run['unknown_ids']['total_calls']} | {_calls(run['unknown_ids']['calls'])} "
          f"| {_s(run['unknown_ids']['seconds'])} |"
          for label, run in (("before", before), ("after", drive)) if run is not None],
    ]


def redis_section(redis: dict) -> list[str]:
    rows = [f"| {count} | {rate:.0f} |" for count, rate in sorted(redis["lines_per_s"].items(), key=lambda kv: int(kv[0]))]
    return [
        "## The queue on Redis",
        "",
        "A redis-server with `appendfsync always` on the same machine, stub story workers writing every line "
        "at once (`bench/redis_queue.py`: the queue's cost, not the model's). Submit -> first line readable, "
        f"an idle worker woken by Redis: median {_s(redis['first_line_p50_s'])}, worst {_s(redis['first_line_max_s'])}.",
        "",
        "| worker processes | lines/s in aggregate |",
        "| --- | --- |",
        *rows,
    ]


def polling_section(web: dict) -> list[str]:
    return [
        f"## Web polling: {web['pollers']} tabs on one story (local queue)",
        "",
        f"Each tab asks the real HTTP server for new lines every {web['interval_s']:g} s while a line is "
        f"written every {web['seconds'] / max(web['lines'], 1):.1f} s (`bench/web_polling.py`); the app reads a "
        f"story from the queue at most once per {web['cache_s']:g} s.",
        "",
        "| | per second |",
        "| --- | --- |",
        f"| requests served | {web['requests_per_s']:.1f} |",
        f"| story reads (`queue.status`) | {web['story_reads_per_s']:.2f} |",
        f"| store reads and listings | {web['store_calls_per_s']:.1f} |",
        "",
        f"A written line was first served after {_s(web['first_served_median_s'])} (median; worst "
        f"{_s(web['first_served_max_s'])}) and seen by a tab after {_s(web['seen_median_s'])} (median; worst "
        f"{_s(web['seen_max_s'])}).",
    ]


def streams_section(streams: dict) -> list[str]:
    return [
        f"## Event streams: {streams['streams']} story pages on one story (gunicorn, local queue)",
        "",
        f"gunicorn with the project's `gunicorn.conf.py` ({streams['processes']} process, gthread) holds "
        f"{streams['streams']} open `GET /api/stories/<id>/stream` connections of one story while a line is "
        f"written every {streams['seconds'] / max(streams['lines'], 1):.1f} s and another visitor asks for the "
        f"start page, a story's JSON and `/healthz` in turn (`bench/web_streams.py`).",
        "",
        "| | |",
        "| --- | --- |",
        f"| ordinary requests meanwhile | {streams['ordinary_requests']} ({streams['ordinary_failed']} failed), "
        f"p50 {_ms(streams['ordinary_p50_s'])}, p95 {_ms(streams['ordinary_p95_s'])} |",
        f"| line written -> every stream has it | p50 {_ms(streams['line_to_stream_p50_s'])}, "
        f"p95 {_ms(streams['line_to_stream_p95_s'])} |",
        f"| story reads from the store | {streams['story_reads_per_s']:.2f} per second (the read period is 0.1 s) |",
        f"| store calls (reads and listings) | {streams['store_calls_per_s']:.1f} per second |",
        f"| CPU of the web process | {streams['cpu_percent']:.0f} % of one core |",
    ]


def page_section(page: dict) -> list[str]:
    click, local, drive, pace = page["click_to_first_line"], page["local"], page["drive"], page["pace"]
    return [
        "## The story page in a browser (Chromium)",
        "",
        "Measured in Debian's Chromium through Playwright (`bench/page_latency.py`), with the web app's default "
        "settings: the page streams lines (Server-Sent Events) and reveals them one at a time.",
        "",
        "| | p50 | p95 | max | n |",
        "| --- | --- | --- | --- | --- |",
        f"| click on \"Write my story\" -> first line visible (local demo: `colab-worker run`, shipped model, CPU) "
        f"| {_s(click['p50_s'])} | {_s(click['p95_s'])} | {_s(click['max_s'])} | {click['n']} stories |",
        f"| line written by the worker -> visible, local folder | {_s(local['p50_s'])} | {_s(local['p95_s'])} "
        f"| {_s(local['max_s'])} | {local['n']} lines |",
        f"| line written by the worker -> visible, Drive emulator (150 ms per request) | {_s(drive['p50_s'])} "
        f"| {_s(drive['p95_s'])} | {_s(drive['max_s'])} | {drive['n']} lines |",
        "",
        "The start page becomes the story page in place (the form is sent with `fetch`, the address is the "
        "story's, Back returns to the start page), so the story's stream opens as soon as the server has the "
        "story; what remains of the click figure is mostly the CPU worker writing its first sentence.",
        "",
        "Lines written one a second each appear at once; lines that arrive together are revealed at one pace, "
        f"45 characters a second whatever waits behind them: measured {pace['p50_chars_per_s']:.1f} (median; "
        f"{pace['min_chars_per_s']:.1f} to {pace['max_chars_per_s']:.1f}) between {pace['n'] + 1} lines written at "
        "once (`--only pace`). On Drive the web app reads a story at most once a second (its read period there) "
        "and each read is a few requests of 150 ms.",
    ]


def queue_section(queue: dict) -> list[str]:
    rows = ["| operation | median | store calls |", "| --- | --- | --- |"]
    rows += [f"| {op['operation']} | {op['median_ms']:.2f} ms | {_calls(op['store_calls'])} |"
             for op in queue["operations"]]
    return [
        f"## Queue operations on a local folder ({queue['jobs']} jobs queued)",
        "",
        "Time and store calls per operation (`bench/queue_local.py`); on Drive each store call is an API request.",
        "",
        *rows,
    ]


def untrusted_section(untrusted: dict) -> list[str]:
    sizes = untrusted["rows"][0]["sizes_kb"]
    rows = ["| input | read by | " + " | ".join(f"{kb} KB" for kb in sizes) + f" | {sizes[-1]} KB / {sizes[0]} KB |",
            "| --- | --- | " + "--- | " * len(sizes) + "--- |"]
    rows += [f"| {row['shape']} | {row['where']} | " + " | ".join(f"{s * 1000:.2f} ms" for s in row["median_s"])
             + f" | {row['ratio']:.1f} |" for row in untrusted["rows"]]
    return [
        "## Hostile input: time against size",
        "",
        f"Median of {untrusted['runs']} runs (`bench/untrusted_input.py`). `json`: the bounded JSON parser every "
        "record and request body goes through; `record`: a job file holding the text, read by `Queue.jobs()`; "
        "`web`: the body of a stop request to the web app. Linear growth is a ratio of about 8 from 16 to 128 KB "
        "(a quadratic scan: 64); at these sizes the fixed cost of a call still counts, and the noise of a shared "
        "machine moves single figures.",
        "",
        *rows,
    ]


def gpu_section(gpu: str | None) -> list[str]:
    if gpu:
        return ["## GPU (`bench/gpu_check.py`)", "", gpu.strip()]
    return [
        "## GPU",
        "",
        "Pending: this report was made on a machine without a GPU, and no figure above comes from one. "
        "`python bench/gpu_check.py --markdown bench/RESULTS.md` on a CUDA machine (a Colab notebook will do) "
        "checks CUDA-graph decoding against eager decoding and measures throughput; its figures go in "
        "`bench/RESULTS.md`, and `python -m bench` on such a machine adds them here.",
    ]


def write_report(figures: dict, where: dict, model_text: str, quick: bool, path: Path, plot: Path) -> None:
    gpu = f"GPU: {where['gpu']}" if where["gpu"] else "no GPU"
    gpu_figures = " except the GPU section" if figures.get("gpu_check") else ", none from a GPU"
    load = f" The load average was {where['load']:.1f} when it started." if where["load"] is not None else ""
    lines = [
        "# Benchmarks",
        "",
        *(["> Quick mode (`--quick`): tiny sizes that only check that the suite runs; "
           "these figures mean nothing.", ""] if quick else []),
        f"Made by `python -m bench` (`make bench`) on {where['date']}, in {figures['total_s'] / 60:.1f} minutes, on "
        f"**{where['cpu']}, {where['cores']} CPU cores, {gpu}** (Python {where['python']}, torch {where['torch']}; "
        f"{_threads(figures['generation']['threads'])} per process, `COLAB_WORKER_THREADS` for the workers).",
        f"Every figure below comes from that machine's CPU{gpu_figures}. Two small cores shared with whatever "
        f"else runs make the figures noisy: expect a spread of tens of per cent between runs.{load}",
        "",
        f"Model: {model_text}.",
        "",
        "## Targets",
        "",
        *targets(figures),
        "",
        *e2e_section(figures["e2e"], os.path.relpath(plot, path.parent)),
        "",
        *generation_section(figures["generation"]),
        "",
        *worker_section(figures["worker_latency"]),
        "",
        *drive_section(figures["drive_api_cost"], figures.get("drive_web_before")),
        "",
        *operator_section(figures["operator_cost"]),
        "",
        *redis_section(figures["redis_queue"]),
        "",
        *throughput_section(figures["throughput"]),
        "",
        *polling_section(figures["web_polling"]),
        "",
        *streams_section(figures["web_streams"]),
        "",
        *page_section(figures["page_latency"]),
        "",
        *queue_section(figures["queue_local"]),
        "",
        *untrusted_section(figures["untrusted_input"]),
        "",
        *gpu_section(figures.get("gpu_check")),
        "",
        "## Running it",
        "",
        "```sh",
        "make bench                    # or: python -m bench; writes BENCHMARKS.md and docs/latency.png",
        "python -m bench --quick       # tiny sizes, about a minute: checks that every benchmark runs",
        "python -m bench.e2e_latency --transports local redis drive --stories 4",
        "```",
        "",
        "Each script in `bench/` also runs alone and prints its own table (see its `--help`).",
        "",
    ]
    path.write_text("\n".join(lines))
