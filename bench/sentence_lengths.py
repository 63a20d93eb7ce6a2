"""Sentence lengths: generated lines beside the books' own sentences.

Usage::

    python bench/sentence_lengths.py [--model default] [--stories 64] [--lines 30]
        [--corpus corpus/*.txt] [--end-after N --end-per-char X] [--json]

Generates ``--stories`` stories of ``--lines`` lines in one batch (seeds from a fixed list,
random seeds 0, 1, ...) and reports the length of each line in characters (median, 90th,
95th and 99th percentiles), the share of lines that end a sentence or a paragraph (not cut
by ``max_line_chars``) and the share of stories whose quotation marks pair up. With
``--corpus``, the same figures for the books, split into lines as a story is
(``colab_worker/sentences.py``). ``--end-after``/``--end-per-char`` override the model's
``sentence_end_bias`` (for tuning it).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colab_worker.checkpoint import load_model  # noqa: E402
from colab_worker.cleaning import clean_prose  # noqa: E402
from colab_worker.corpus import read_book  # noqa: E402
from colab_worker.generation import SamplingParams, StoryBatch  # noqa: E402
from colab_worker.sentences import LineSplitter  # noqa: E402

SEEDS = [
    "Once upon a time there lived a poor miller who had a beautiful daughter.",
    "A wolf met a fox in the dark forest.",
    "The little house stood at the edge of the wood, and nobody had lived in it for years.",
    '"Where are you going?" asked the old woman.',
    "Peter Rabbit sat under the hedge and thought about the garden.",
    "In a kingdom by the sea, the king's three sons set out to find a golden bird.",
    "It was the coldest winter anyone could remember.",
    "The girl opened the door and",
]
_CLOSED_LINE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")


def percentiles(lengths: list[int]) -> dict:
    ordered = sorted(lengths)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"lines": len(ordered), "median": statistics.median(ordered), "p90": pick(0.90),
            "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1]}


def quotes_pair(seed: str, lines: list) -> bool:
    """Whether the double quotation marks of every finished paragraph pair up (straight or curly)."""
    text = seed + "".join(("" if line.follows == "mid-sentence" else " ") + line.text
                          + ("\n\n" if line.paragraph_end else "") for line in lines)
    for paragraph in text.split("\n\n")[:-1]:
        if paragraph.count('"') % 2 or paragraph.count("\u201c") != paragraph.count("\u201d"):
            return False
    return True


def generated(model: str, stories: int, lines: int, end_bias: dict | None, temperature: float) -> dict:
    loaded = load_model(model)
    if end_bias is not None:
        loaded.metadata["sentence_end_bias"] = end_bias
    batch = StoryBatch(loaded, max_batch=stories)
    for i in range(stories):
        batch.add(i, SEEDS[i % len(SEEDS)], SamplingParams(temperature=temperature, random_seed=i))
    written: dict[int, list] = {i: [] for i in range(stories)}
    while any(len(v) < lines for v in written.values()):
        for line in batch.step():
            if len(written[line.story]) < lines:
                written[line.story].append(line)
        for i, v in written.items():
            if len(v) >= lines and i in batch:
                batch.remove(i)
    body = [line for v in written.values() for line in v[1:]]  # the first line may complete the seed
    lengths = [len(line.text) for line in body]
    ended = sum(bool(line.paragraph_end or _CLOSED_LINE.search(line.text)) for line in body)
    paired = sum(quotes_pair(SEEDS[i % len(SEEDS)], v) for i, v in written.items())
    return {**percentiles(lengths), "ends_sentence": ended / len(body),
            "stories_with_paired_quotes": paired / len(written)}


def corpus(paths: list[str]) -> dict:
    lengths = []
    for path in paths:
        splitter = LineSplitter(True, 400, "")
        for ch in clean_prose(read_book(path)):
            cut = splitter.push(ch)
            if cut is not None and cut.line:
                lengths.append(len(cut.line))
    return percentiles(lengths)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--stories", type=int, default=64)
    p.add_argument("--lines", type=int, default=30)
    p.add_argument("--temperature", type=float, default=SamplingParams().temperature)
    p.add_argument("--corpus", nargs="*", default=[])
    p.add_argument("--end-after", type=int)
    p.add_argument("--end-per-char", type=float)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    end_bias = None
    if (args.end_after is None) != (args.end_per_char is None):
        p.error("--end-after and --end-per-char go together")
    if args.end_after is not None:
        end_bias = {"after": args.end_after, "per_char": args.end_per_char}
    result = {"model": args.model, "generated": generated(args.model, args.stories, args.lines, end_bias,
                                                          args.temperature)}
    if args.corpus:
        result["corpus"] = corpus(args.corpus)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
