"""Run every benchmark and write the performance report: ``python -m bench`` (``make bench``).

Runs, in turn: generation speed (``bench/generation.py``), the worker's pick-up
latency and throughput (``worker_latency.py``), the Drive API cost
(``drive_api_cost.py``, the web app's part also as it was before it followed
Drive's changes feed), what watching the queue costs on Drive (``operator_cost.py``), the queue on Redis (``redis_queue.py``),
short jobs back to back beside rq (``throughput.py``), web polling with many tabs (``web_polling.py``), 50 event
streams on gunicorn (``web_streams.py``), the story page in Chromium (``page_latency.py``), the
queue's cost per operation (``queue_local.py``), time against size for hostile input
(``untrusted_input.py``), the end-to-end latency over
three transports (``e2e_latency.py``) and, on a machine with a CUDA GPU, the GPU
check (``gpu_check.py``). Then writes BENCHMARKS.md and a plot.

Every benchmark that needs a model runs the shipped one
(colab_worker/models/default.pt); without it, an untrained stand-in made by
``colab-worker train --dry-run``, and the report says which.

Usage:
  python -m bench                         # everything, about 8 minutes on 2 CPU cores
  python -m bench --quick                 # tiny sizes, to check that the suite runs (about two minutes)
  python -m bench --model path.pt --report /tmp/b.md --plot /tmp/b.png
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import e2e_latency
from bench.e2e_latency import BenchError
from bench.report import write_plot, write_report

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: the full suite or the quick check."""

    gen_lines: int
    gen_batches: tuple[int, ...]
    gen_seconds: float
    trials: int
    worker_lines: int
    concurrency: tuple[int, ...]
    drive_scale: float
    drive_idle_s: float
    drive_lines: int
    drive_watched: int
    drive_written: int
    drive_unknown: int
    pollers: int
    poll_seconds: float
    streams: int
    stream_seconds: float
    page_trials: int
    page_lines: int
    queue_jobs: int
    e2e_stories: int
    e2e_lines: int
    e2e_stagger: float
    mount_delay: float
    remount: float
    watch_s: float
    operator_minutes: float
    operator_jobs: int
    redis_jobs: int
    throughput_jobs: int
    throughput_trips: int
    throughput_drive_jobs: int
    throughput_naps: int
    timeout: float


FULL = Sizes(gen_lines=100, gen_batches=(1, 16, 64, 256), gen_seconds=3.0,
             trials=10, worker_lines=10, concurrency=(1, 8, 32),
             drive_scale=1.0, drive_idle_s=60.0, drive_lines=100, drive_watched=20, drive_written=4, drive_unknown=200,
             pollers=50, poll_seconds=20.0, streams=50, stream_seconds=20.0, page_trials=10, page_lines=20,
             queue_jobs=1000,
             e2e_stories=6, e2e_lines=10, e2e_stagger=1.3, mount_delay=60.0, remount=4.0,
             watch_s=20.0, operator_minutes=3.0, operator_jobs=50, redis_jobs=100,
             throughput_jobs=300, throughput_trips=100, throughput_drive_jobs=40, throughput_naps=24, timeout=900.0)
QUICK = Sizes(gen_lines=6, gen_batches=(1, 4), gen_seconds=0.3,
              trials=2, worker_lines=2, concurrency=(1, 2),
              drive_scale=0.05, drive_idle_s=10.0, drive_lines=4, drive_watched=4, drive_written=1, drive_unknown=10,
              pollers=5, poll_seconds=2.0, streams=5, stream_seconds=2.0, page_trials=1, page_lines=3,
              queue_jobs=30,
              e2e_stories=1, e2e_lines=2, e2e_stagger=0.5, mount_delay=2.0, remount=0.5,
              watch_s=2.0, operator_minutes=0.5, operator_jobs=3, redis_jobs=8,
              throughput_jobs=10, throughput_trips=3, throughput_drive_jobs=3, throughput_naps=2, timeout=300.0)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- where the figures come from -----------------------------------------------------------------

def machine() -> dict:
    import torch

    model_name = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model_name = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                          if line.startswith("Model name:"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    return {
        "cpu": model_name,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def pick_model(requested: str | None, workdir: Path, quick: bool) -> tuple[str, str]:
    """(model for the worker, how the report describes it): the shipped one, else a dry-run model."""
    from colab_worker.checkpoint import load_model, resolve

    if requested is None and resolve("default").is_file():
        requested = "default"
    if requested is not None:
        if requested != "default":  # the benchmarks run in other folders and processes
            requested = str(resolve(requested).absolute())
        loaded = load_model(requested)
        cfg, meta = loaded.config, loaded.metadata
        origin = "the shipped model (colab_worker/models/default.pt)" if requested == "default" else requested
        loss = f", validation loss {meta['best_val_loss']:.3f} nats/char" if "best_val_loss" in meta else ""
        return requested, f"{origin}: {cfg.num_layers}x{cfg.hidden_size} {model_kind(loaded)} LSTM{loss}"
    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(p.read_text() for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
                                if p.is_file()))
    out = workdir / "dry-run.pt"
    shape = ["--hidden-size", "64"] if quick else []
    command = [sys.executable, "-m", "colab_worker", "train", str(corpus), "--out", str(out), "--dry-run",
               "--batch-size", "8", "--seq-len", "50", *shape]
    note("no shipped model: training a stand-in with `colab-worker train --dry-run`")
    run_checked("colab-worker train --dry-run", command, 600)
    loaded = load_model(out)
    cfg = loaded.config
    return str(out), (f"a stand-in, colab_worker/models/default.pt being absent: an untrained {cfg.num_layers}x"
                      f"{cfg.hidden_size} {model_kind(loaded)} LSTM from `colab-worker train --dry-run` (2 training "
                      "steps); its lines are gibberish, but a token costs what it costs in a trained model of that "
                      "shape, and line lengths differ")


def model_kind(loaded) -> str:
    from colab_worker.tokenizer import BPETokenizer

    return "subword" if isinstance(loaded.vocab, BPETokenizer) else "character"


# -- running the benchmarks ----------------------------------------------------------------------

def run_checked(name: str, command: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{name} ran longer than {timeout:g} s") from None
    if proc.returncode != 0:
        raise BenchError(f"{name} failed (exit status {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")


def run_script(script: str, args: list[str], workdir: Path, timeout: float) -> dict:
    """Run ``bench/<script>.py`` with ``--json`` in a process of its own; its figures."""
    out = workdir / f"{script}.json"
    run_checked(f"bench/{script}.py", [sys.executable, "-m", f"bench.{script}", *args, "--json", str(out)], timeout)
    return json.loads(out.read_text())


def generation(model: str, sizes: Sizes, threads: int) -> dict:
    """Per-line cost (carried state vs re-seeding) and throughput, through bench/generation.py's functions."""
    import torch

    from bench.generation import carried_line_times, reseeded_line_time, throughput
    from colab_worker.checkpoint import load_model

    device = torch.device("cpu")
    default_threads = torch.get_num_threads()
    one_story_default = (throughput(load_model(model, device), device, 1, False, sizes.gen_seconds, 32)
                         if default_threads != threads else None)
    torch.set_num_threads(threads)
    loaded = load_model(model, device)
    chunk = 32
    times, story = carried_line_times(loaded, device, sizes.gen_lines, False, chunk)
    window = min(5, sizes.gen_lines // 2)
    reseed_first, _ = reseeded_line_time(loaded, device, story, 0, False, chunk)
    reseed_last, _ = reseeded_line_time(loaded, device, story, sizes.gen_lines - 1, False, chunk)
    return {
        "lines": sizes.gen_lines,
        "threads": threads,
        "default_threads": default_threads,
        "one_story_default_threads": one_story_default,
        "carried_s": [sum(times[:window]) / window, sum(times[-window:]) / window],
        "reseeded_s": [reseed_first, reseed_last],
        "line_chars": sum(len(line.text) for line in story) / len(story),
        "chars_per_s": {stories: throughput(loaded, device, stories, False, sizes.gen_seconds, chunk)
                        for stories in sizes.gen_batches},
    }


def run_suite(model: str, sizes: Sizes, workdir: Path, quick: bool, threads: int) -> dict:
    watched = ["--watch-s", str(sizes.watch_s), "--watched", str(sizes.drive_watched),
               "--written", str(sizes.drive_written), "--unknown", str(sizes.drive_unknown)]
    steps = {
        "generation": lambda: generation(model, sizes, threads),
        "worker_latency": lambda: run_script("worker_latency", [
            "--model", model, "--trials", str(sizes.trials), "--lines", str(sizes.worker_lines),
            "--concurrency", *map(str, sizes.concurrency)], workdir, sizes.timeout),
        "drive_api_cost": lambda: run_script("drive_api_cost", [
            "--scale", str(sizes.drive_scale), "--idle-s", str(sizes.drive_idle_s),
            "--lines", str(sizes.drive_lines), "--latency-ms", "150", *watched], workdir, sizes.timeout),
        "drive_web_before": lambda: run_script("drive_api_cost", [
            "--scale", str(sizes.drive_scale), "--idle-s", "1", "--lines", "2", "--latency-ms", "150",
            *watched, "--before"], workdir, sizes.timeout),
        "operator_cost": lambda: run_script("operator_cost", [
            "--scale", "0.1", "--minutes", str(sizes.operator_minutes), "--jobs", str(sizes.operator_jobs)],
            workdir, sizes.timeout),
        "redis_queue": lambda: run_script("redis_queue", [
            "--trials", str(sizes.trials), "--jobs", str(sizes.redis_jobs), "--lines", str(sizes.worker_lines * 2),
            "--workers", "1", "4", "8"], workdir, sizes.timeout),
        "throughput": lambda: run_script("throughput", [
            "--jobs", str(sizes.throughput_jobs), "--trips", str(sizes.throughput_trips),
            "--drive-jobs", str(sizes.throughput_drive_jobs), "--naps", str(sizes.throughput_naps),
            "--rounds", "3" if sizes.throughput_jobs > 100 else "1"],
            workdir, sizes.timeout),
        "web_polling": lambda: run_script("web_polling", [
            "--pollers", str(sizes.pollers), "--seconds", str(sizes.poll_seconds)], workdir, sizes.timeout),
        "web_streams": lambda: run_script("web_streams", [
            "--streams", str(sizes.streams), "--seconds", str(sizes.stream_seconds)], workdir, sizes.timeout),
        "page_latency": lambda: run_script("page_latency", [
            "--trials", str(sizes.page_trials), "--lines", str(sizes.page_lines), "--line-every", "1.0"],
            workdir, sizes.timeout),
        "queue_local": lambda: run_script("queue_local", ["--jobs", str(sizes.queue_jobs)], workdir, sizes.timeout),
        "untrusted_input": lambda: run_script("untrusted_input", ["--runs", str(sizes.trials)], workdir,
                                              sizes.timeout),
        "e2e": lambda: e2e_latency.run_all(
            list(e2e_latency.TRANSPORTS), model, stories=sizes.e2e_stories, lines=sizes.e2e_lines,
            stagger=sizes.e2e_stagger, mount_delay=sizes.mount_delay, remount=sizes.remount),
    }
    results: dict = {"durations_s": {}}

    def run(name: str) -> dict:
        note(f"running {name} ...")
        start = time.monotonic()
        figures = steps[name]()
        results["durations_s"][name] = time.monotonic() - start
        note(f"  {name} took {results['durations_s'][name]:.0f} s")
        return figures

    if quick:  # figures that mean nothing need no quiet machine: three at a time, the longest first
        order = ["e2e", *(name for name in steps if name != "e2e")]
        with ThreadPoolExecutor(3) as pool:
            results.update(zip(order, pool.map(run, order)))
    else:
        results.update((name, run(name)) for name in steps)
    if not quick:
        results["gpu_check"] = gpu_check(model, workdir, sizes.timeout)
    return results


def gpu_check(model: str, workdir: Path, timeout: float) -> str | None:
    """bench/gpu_check.py's Markdown table on a machine with a CUDA GPU; None elsewhere."""
    import torch

    if not torch.cuda.is_available():
        return None
    out = workdir / "gpu_check.md"
    note("running gpu_check ...")
    run_checked("bench/gpu_check.py", [sys.executable, "-m", "bench.gpu_check", "--model", model,
                                       "--markdown", str(out)], timeout)
    return out.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that every benchmark runs")
    parser.add_argument("--model", help="model for every benchmark (default: the shipped one, else a dry-run model)")
    parser.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md", help="where to write the report")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "latency.png", help="where to write the plot")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for generation and every worker (default 1: on a small CPU shared "
                             "with other work, more threads wait on each other)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be 1 or more")
    os.environ["COLAB_WORKER_THREADS"] = str(args.threads)  # read by every worker the benchmarks start
    logging.basicConfig(level=logging.WARNING)
    from colab_worker.checkpoint import CheckpointError

    sizes = QUICK if args.quick else FULL
    where = machine()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            model, model_text = pick_model(args.model, Path(tmp), args.quick)
            figures = run_suite(model, sizes, Path(tmp), args.quick, args.threads)
    except (BenchError, CheckpointError) as exc:
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 1
    figures["total_s"] = time.monotonic() - started
    write_plot(figures, args.plot)
    write_report(figures, where, model_text, args.quick, args.report, args.plot)
    note(f"wrote {args.report} and {args.plot} in {figures['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
