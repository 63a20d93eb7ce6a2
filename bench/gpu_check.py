"""GPU check of story generation: CUDA-graph output against eager output, and throughput.

Needs only torch (tested on torch 2.11 and 2.13, Python 3.11 and 3.12) and this checkout.
Without a CUDA device it runs the same checks on the CPU's eager path with small sizes,
so the script itself can be tried anywhere.

It checks, for 1, 16, 64 and 256 concurrent stories:
  * the lines written through captured CUDA graphs equal the lines of eager code;
  * each story in the batch writes what it writes alone (exactly, unless float ties:
    see colab_worker/sampling.py);
and measures characters per second (per story and in aggregate, eager and graph) and the
time per line at line 1 and line 100 of a story, carried state vs re-seeding.
Targets (issue 4): one story >= 20,000 chars/s with graphs; 64 stories >= 25x that.

Usage:
  python bench/gpu_check.py                     # the shipped default model
  python bench/gpu_check.py --model path.pt --seconds 2 --markdown results.md
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generation import SEED_TEXT, carried_line_times, reseeded_line_time, throughput  # noqa: E402
from colab_worker.checkpoint import load_model  # noqa: E402
from colab_worker.generation import SamplingParams, StoryBatch  # noqa: E402


def params_for(i: int) -> SamplingParams:
    """A mix of knobs, so the filtering path and greedy rows are exercised too."""
    kinds = [SamplingParams(random_seed=i), SamplingParams(temperature=1.0, top_p=0.9, random_seed=i),
             SamplingParams(temperature=0.6, top_k=10, random_seed=i), SamplingParams(temperature=0.0, random_seed=i)]
    return kinds[i % len(kinds)]


def write_lines(loaded, device, stories: list[int], graph: bool, lines: int, chunk: int) -> dict[int, list[str]]:
    """Every story's first ``lines`` lines, decoded together in one batch."""
    batch = StoryBatch(loaded, device, max_batch=len(stories), chunk=chunk, use_cuda_graph=graph)
    for i in stories:
        batch.add(i, SEED_TEXT, params_for(i))
    got: dict[int, list[str]] = {i: [] for i in stories}
    while min(len(v) for v in got.values()) < lines:
        for line in batch.step():
            got[line.story].append(line.text)
    return {i: v[:lines] for i, v in got.items()}


def check_outputs(loaded, device, batches: list[int], graph_available: bool, lines: int, chunk: int) -> bool:
    ok = True
    print("\ncorrectness (lines compared exactly)")
    for n in batches:
        stories = list(range(n))
        eager = write_lines(loaded, device, stories, False, lines, chunk)
        if graph_available:
            graph = write_lines(loaded, device, stories, True, lines, chunk)
            same = sum(graph[i] == eager[i] for i in stories)
            ok &= same == n
            print(f"  {n:>4} stories: graph == eager for {same}/{n} stories")
        probe = stories[:: max(1, n // 4)]
        alone_same = sum(write_lines(loaded, device, [i], graph_available, lines, chunk)[i] == eager[i]
                         for i in probe)
        print(f"  {n:>4} stories: batched == alone for {alone_same}/{len(probe)} probed stories"
              + ("" if alone_same == len(probe) else " (differences come from float ties, see sampling.py)"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="model name or .pt path (default: default)")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per throughput measurement")
    parser.add_argument("--lines", type=int, default=8, help="lines per story in the correctness check")
    parser.add_argument("--chunk", type=int, default=32, help="tokens per step")
    parser.add_argument("--markdown", help="also write the figures to this file as a Markdown table")
    args = parser.parse_args()

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    batches = [1, 16, 64, 256] if cuda else [1, 4]
    if not cuda:
        torch.set_num_threads(1)  # tiny matrix products: a second thread only waits
    loaded = load_model(args.model, device)
    cfg = loaded.config
    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({platform.processor() or 'unknown'})"
    print(f"{name}; torch {torch.__version__}; Python {platform.python_version()}; "
          f"model {args.model}: {cfg.num_layers}x{cfg.hidden_size} LSTM")
    if not cuda:
        print("no CUDA device: eager CPU path only, small sizes")

    ok = check_outputs(loaded, device, batches, cuda, args.lines, args.chunk)

    modes = [False, True] if cuda else [False]
    rates: dict[tuple[int, bool], float] = {}
    print("\nthroughput, characters/s: aggregate (per story)")
    for n in batches:
        cells = []
        for graph in modes:
            rates[n, graph] = throughput(loaded, device, n, graph, args.seconds, args.chunk)
            cells.append(f"{'graph' if graph else 'eager'} {rates[n, graph]:>12,.0f} ({rates[n, graph] / n:>8,.0f})")
        print(f"  {n:>4} stories:  " + "   ".join(cells))

    best = modes[-1]
    story_lines = 100 if cuda else 10
    times, story = carried_line_times(loaded, device, story_lines, best, args.chunk)
    c1, cn = times[0], times[-1]
    r1 = reseeded_line_time(loaded, device, story, 0, best, args.chunk)[0]
    rn = reseeded_line_time(loaded, device, story, story_lines - 1, best, args.chunk)[0]
    print(f"\nper-line time ({'graph' if best else 'eager'}): carried line 1 {c1 * 1e3:.2f} ms, "
          f"line {story_lines} {cn * 1e3:.2f} ms; re-seeding line 1 {r1 * 1e3:.2f} ms, line {story_lines} {rn * 1e3:.2f} ms")

    one = rates[1, best]
    if cuda:
        verdicts = [("one story >= 20,000 chars/s", one >= 20_000),
                    ("64 stories >= 25x one story", rates[64, True] >= 25 * one),
                    ("graph output == eager output", ok)]
        for what, passed in verdicts:
            print(f"{'PASS' if passed else 'FAIL'}  {what}")
    if args.markdown:
        rows = [f"| {n} | " + " | ".join(f"{rates[n, g]:,.0f}" for g in modes) + " |" for n in batches]
        header = "| stories | " + " | ".join("graph" if g else "eager" for g in modes) + " |"
        Path(args.markdown).write_text(
            f"{name}, torch {torch.__version__}, Python {platform.python_version()}, "
            f"{cfg.num_layers}x{cfg.hidden_size} LSTM, chunk {args.chunk}\n\n{header}\n"
            + "|---" * (len(modes) + 1) + "|\n" + "\n".join(rows) + "\n\n"
            f"per-line: carried {c1 * 1e3:.2f} / {cn * 1e3:.2f} ms, re-seeding {r1 * 1e3:.2f} / {rn * 1e3:.2f} ms "
            f"(line 1 / line {story_lines})\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
