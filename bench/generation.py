"""Generation speed of the story model: carried state vs re-seeding, and batched throughput.

Prints, in one run:
  * time per line at line 1 and at line 100 of one story, carrying the LSTM state
    (``StoryBatch`` continuing) vs re-seeding (a fresh batch fed the whole story for every
    line, the O(n^2) way), and whether both wrote the same story;
  * characters per second for one story and in aggregate for 16, 64 and 256 stories
    (eager code, and CUDA graphs too on a GPU).

Usage:
  python bench/generation.py                      # CPU, the shipped default model
  python bench/generation.py --device cuda        # eager and CUDA graph side by side
  python bench/generation.py --batches 1 16 --seconds 2 --lines 40
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from colab_worker.checkpoint import LoadedModel, load_model  # noqa: E402
from colab_worker.generation import Line, SamplingParams, StoryBatch  # noqa: E402
from stories.story_text import story_text  # noqa: E402

SEED_TEXT = "Once upon a time there lived a king who had three daughters."


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def text_before(story: list[Line], index: int) -> str:
    """The story's text before line ``index`` (what a fresh batch is fed to write it)."""
    lines = story[:index]
    ends = [i for i, line in enumerate(lines) if line.paragraph_end]
    return story_text(SEED_TEXT, [line.text for line in lines], ends, lines[0].follows if lines else None)


def carried_line_times(loaded: LoadedModel, device: torch.device, lines: int, graph: bool, chunk: int
                       ) -> tuple[list[float], list[Line]]:
    """Seconds spent on each line of one story decoded with carried state (a chunk that
    ends several lines has its time shared among them)."""
    batch = StoryBatch(loaded, device, max_batch=1, chunk=chunk, use_cuda_graph=graph)
    batch.add(0, SEED_TEXT, SamplingParams(random_seed=1))
    batch.step()  # warm-up (and graph capture): not part of any line
    batch.edit(0, SEED_TEXT)
    times: list[float] = []
    story: list[Line] = []
    pending = 0.0
    while len(story) < lines:
        start = time.perf_counter()
        done = batch.step()
        pending += time.perf_counter() - start
        if done:
            times += [pending / len(done)] * len(done)
            story += done
            pending = 0.0
    return times[:lines], story[:lines]


def reseeded_line_time(loaded: LoadedModel, device: torch.device, story: list[Line], index: int, graph: bool,
                       chunk: int) -> tuple[float, Line]:
    """Seconds to write line ``index`` (0-based) by feeding the whole story to a fresh batch."""
    batch = StoryBatch(loaded, device, max_batch=1, chunk=chunk, use_cuda_graph=graph)
    batch.add(0, SEED_TEXT, SamplingParams(random_seed=1))
    batch.step()  # warm-up outside the timing, as for the carried story
    batch.remove(0)
    _sync(device)
    start = time.perf_counter()
    batch.add(0, text_before(story, index), SamplingParams(random_seed=1))
    done: list = []
    while not done:
        done = batch.step()
    return time.perf_counter() - start, done[0]


def throughput(loaded: LoadedModel, device: torch.device, stories: int, graph: bool, seconds: float,
               chunk: int, cpu_time: bool = False) -> float:
    """Characters per second decoded in aggregate by ``stories`` concurrent stories (per
    second of this process's CPU time with ``cpu_time``: on a shared machine, what the
    code would do with the cores to itself)."""
    batch = StoryBatch(loaded, device, max_batch=stories, chunk=chunk, use_cuda_graph=graph)
    for i in range(stories):
        batch.add(i, SEED_TEXT, SamplingParams(random_seed=i))
    for _ in range(3):  # warm-up and graph capture; the stories are mid-line when the clock starts
        batch.step()
    kept_before = sum(len(batch.text(i)) for i in range(stories))
    steps = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds or steps < 3:
        batch.step()
        steps += 1
    spent = time.process_time() - cpu_start if cpu_time else time.perf_counter() - start
    # characters the stories kept (up to their last line end, at both ends of the window): a
    # token a chunk draws after a line end and then drops is not counted
    return (sum(len(batch.text(i)) for i in range(stories)) - kept_before) / spent


def report_lines(loaded, device, lines: int, graph: bool, chunk: int) -> None:
    times, story = carried_line_times(loaded, device, lines, graph, chunk)
    window = 5
    first = sum(times[:window]) / window
    last = sum(times[-window:]) / window
    re_first, line_a = reseeded_line_time(loaded, device, story, 0, graph, chunk)
    re_last, line_b = reseeded_line_time(loaded, device, story, lines - 1, graph, chunk)
    same = line_a.text == story[0].text and line_b.text == story[lines - 1].text
    mode = "graph" if graph else "eager"
    print(f"\nper-line time, one story ({mode}; carried: mean of lines 1-{window} and {lines - window + 1}-{lines})")
    print(f"  {'':<22}{'line 1':>12}{f'line {lines}':>12}")
    print(f"  {'carried state':<22}{first * 1e3:>10.1f}ms{last * 1e3:>10.1f}ms")
    print(f"  {'re-seeding':<22}{re_first * 1e3:>10.1f}ms{re_last * 1e3:>10.1f}ms")
    print(f"  re-seeding wrote the same lines 1 and {lines}: {'yes' if same else 'NO'}")
    print(f"  whole story of {lines} lines: carried {sum(times):.2f}s "
          f"({sum(len(line.text) + 1 for line in story) / sum(times):,.0f} chars/s)")


def report_throughput(loaded, device, batches: list[int], modes: list[bool], seconds: float, chunk: int) -> dict:
    results: dict = {}
    columns = [("graph" if g else "eager", g, False) for g in modes]
    if device.type == "cpu":
        columns.append(("per CPU-second", False, True))
    header = "".join(f"{name:>16}" for name, _, _ in columns)
    print(f"\nthroughput, characters/s (aggregate; chunk {chunk})\n  {'stories':<10}{header}")
    for stories in batches:
        row = []
        for name, graph, cpu_time in columns:
            rate = throughput(loaded, device, stories, graph, seconds, chunk, cpu_time)
            results[(stories, name)] = rate
            row.append(f"{rate:>16,.0f}")
        print(f"  {stories:<10}{''.join(row)}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="model name or .pt path (default: default)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256], help="concurrent stories")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per throughput measurement")
    parser.add_argument("--lines", type=int, default=100, help="story length for the per-line times")
    parser.add_argument("--chunk", type=int, default=32, help="tokens per step")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    loaded = load_model(args.model, device)
    cfg = loaded.config
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} threads"
    print(f"model {args.model}: {cfg.num_layers}x{cfg.hidden_size} LSTM, {cfg.vocab_size} symbols; "
          f"device {name}; torch {torch.__version__}")
    modes = [False, True] if device.type == "cuda" else [False]
    for graph in modes:
        report_lines(loaded, device, args.lines, graph, args.chunk)
    report_throughput(loaded, device, args.batches, modes, args.seconds, args.chunk)


if __name__ == "__main__":
    main()
