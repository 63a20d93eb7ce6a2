r"""Line-by-line story generation for many stories at once, with carried recurrent state.

A :class:`StoryBatch` owns the LSTM state of every story in it. ``add`` feeds a story's
text once; each ``step`` then advances all stories together by a fixed chunk of characters
(one batched forward per character) and returns the lines completed during it. Continuing
costs O(new characters), never a re-read of the story; ``edit`` re-feeds only the part
after the longest unchanged prefix, starting from the latest state kept at a line boundary.

What the model reads: a story's text followed by a newline, so the first line starts on a
line of its own (an empty text is just a newline). A returned line ``line`` extends the text
to ``text + "\n" + line``: the text of a story is ``"\n".join([seed, *lines])``, and adding
that text to a fresh batch with the same parameters continues with the same lines
(:mod:`.sampling` explains why, and the one caveat: float ties). Each returned line holds at
least one non-whitespace character: while the current line is empty or only whitespace,
newline is excluded from sampling, so blank lines are never generated, returned or counted.
A line reaching ``max_line_chars`` is ended by a forced newline. Characters decoded past a
line's end within a chunk are the start of the next line; they are kept, and they are
exactly what a fresh batch would decode there.

On CUDA each chunk is one replay of a captured CUDA graph (one graph per power-of-two batch
size and filtering mode, captured when first needed); elsewhere the same code runs eagerly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .checkpoint import LoadedModel
from .sampling import SamplingParams, filter_top_k_top_p, gumbel_noise, seed32
from .vocab import UNK_ID

__all__ = ["BatchFull", "SamplingParams", "StoryBatch"]

NEG_INF = float("-inf")


class BatchFull(Exception):
    """``add`` on a batch that already holds ``max_batch`` stories."""


@dataclass
class _Snapshot:
    """The state after feeding ``ids[:fed]`` of a story; ``ids[fed]`` is its next input."""

    fed: int
    h: torch.Tensor  # [layers, hidden]
    c: torch.Tensor


@dataclass
class _Story:
    params: SamplingParams
    seed: int                   # 32-bit seed of the noise
    ids: list[int]              # what the model reads: text ids and a newline, up to the last line end
    partial: list[int] = field(default_factory=list)  # decoded ids of the line in progress
    snapshots: list[_Snapshot] = field(default_factory=list)


class StoryBatch:
    """Stories decoded together on one device (see the module docstring for the contract).

    ``max_batch`` stories at most; ``chunk`` characters per story per :meth:`step`;
    ``use_cuda_graph`` (default: on CUDA) replays captured graphs instead of eager code;
    ``max_snapshots`` line-boundary states kept per story for :meth:`edit`.
    """

    def __init__(self, loaded: LoadedModel, device: torch.device | str = "cpu", max_batch: int = 64,
                 chunk: int = 32, use_cuda_graph: bool | None = None, max_snapshots: int = 8):
        if max_batch < 1 or chunk < 1:
            raise ValueError("max_batch and chunk must be positive")
        self.device = torch.device(device)
        self.model = loaded.model.to(self.device).eval()
        self.vocab = loaded.vocab
        self.max_batch, self.chunk, self.max_snapshots = max_batch, chunk, max_snapshots
        self.use_cuda_graph = self.device.type == "cuda" if use_cuda_graph is None else use_cuda_graph
        if self.use_cuda_graph and self.device.type != "cuda":
            raise ValueError("CUDA graphs need a CUDA device")
        cfg = loaded.config
        self.newline = self.vocab.encode("\n")[0]
        vocab_size, layers, hidden = cfg.vocab_size, cfg.num_layers, cfg.hidden_size
        dev, n = self.device, max_batch

        def zeros(*shape, dtype=torch.float32):
            return torch.zeros(*shape, dtype=dtype, device=dev)

        # Per-slot state and parameters; row i belongs to self._slots[i]. Rows are kept compact.
        self._h, self._c = zeros(layers, n, hidden), zeros(layers, n, hidden)
        self._next_input = zeros(n, dtype=torch.long)
        self._position = zeros(n, dtype=torch.long)     # index in the model's input of the next character drawn
        self._line_len = zeros(n, dtype=torch.long)
        self._has_text = zeros(n, dtype=torch.long)      # 1 once the line holds a visible character
        self._seed = zeros(n, dtype=torch.long)
        self._inv_temp = torch.ones(n, 1, device=dev)
        self._noise_scale = torch.ones(n, 1, 1, device=dev)  # 0: greedy
        self._top_k = zeros(n, dtype=torch.long)
        self._top_p = torch.ones(n, device=dev)
        self._max_line = zeros(n, dtype=torch.long)
        # Results of the last chunk.
        self._out = zeros(n, chunk, dtype=torch.long)
        self._hist_h = zeros(chunk, layers, n, hidden)
        self._hist_c = zeros(chunk, layers, n, hidden)
        # bias[code]: code = has_text + 2 * line_full. UNK is never drawn; newline is banned
        # until the line has visible text; a full line may only end.
        bias = torch.zeros(4, vocab_size)
        bias[:, UNK_ID] = NEG_INF
        bias[0, self.newline] = NEG_INF
        bias[2:] = NEG_INF
        bias[2:, self.newline] = 0.0
        self._bias = bias.to(dev)
        visible = torch.tensor([int(not ch.isspace()) for ch in self.vocab.decode(range(vocab_size))])
        visible[UNK_ID] = 1
        self._visible = visible.to(dev)

        self._stories: dict[object, _Story] = {}
        self._slots: list[object] = []
        self._graphs: dict[tuple[int, bool], torch.cuda.CUDAGraph] = {}
        self._graph_pool = None

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def params(self, story_id: object) -> SamplingParams:
        """The story's parameters, with the random seed that was chosen if none was given."""
        return self._stories[story_id].params

    def text(self, story_id: object) -> str:
        """The story text up to its last completed line: ``"\\n".join([seed, *lines])``."""
        return self.vocab.decode(self._stories[story_id].ids[:-1])

    @torch.no_grad()
    def next_char_probs(self, story_id: object) -> torch.Tensor:
        """The model's distribution [vocab] (temperature 1, no filtering) for the first character
        of the story's next line, from the state kept at the end of its last line."""
        story = self._stories[story_id]
        snapshot = story.snapshots[-1]
        ids = torch.tensor([story.ids[snapshot.fed]], device=self.device)
        layers = range(self.model.config.num_layers)
        hs = [snapshot.h[layer].unsqueeze(0) for layer in layers]
        cs = [snapshot.c[layer].unsqueeze(0) for layer in layers]
        logits, _, _ = self.model.step(ids, hs, cs)
        return torch.softmax(logits[0], dim=0)

    def add(self, story_id: object, text: str, params: SamplingParams = SamplingParams()) -> None:
        """Start a story: feed ``text`` (any string; see :mod:`.vocab` for unknown characters)."""
        if story_id in self._stories:
            raise KeyError(f"story {story_id!r} is already in the batch")
        if len(self._slots) >= self.max_batch:
            raise BatchFull(f"the batch already holds {self.max_batch} stories")
        params = params.with_seed()
        story = _Story(params=params, seed=seed32(params.random_seed), ids=[])
        self._stories[story_id] = story
        self._slots.append(story_id)
        slot = len(self._slots) - 1
        self._set_params(slot, params, story.seed)
        self._feed(story, slot, self.vocab.encode(text) + [self.newline])

    def remove(self, story_id: object) -> None:
        """Drop a story; its slot is filled by the last one so rows stay compact."""
        del self._stories[story_id]
        slot = self._slots.index(story_id)
        last = len(self._slots) - 1
        if slot != last:
            for buf in (self._h, self._c):
                buf[:, slot] = buf[:, last]
            for buf in (self._next_input, self._position, self._line_len, self._has_text, self._seed,
                        self._inv_temp, self._noise_scale, self._top_k, self._top_p, self._max_line):
                buf[slot] = buf[last]
            self._slots[slot] = self._slots[last]
        self._slots.pop()

    def edit(self, story_id: object, new_text: str) -> None:
        """Replace the story's text; only what follows the unchanged prefix is fed again.

        The line in progress is dropped. Feeding restarts from the latest kept line-boundary
        state inside the unchanged prefix (or from the start when none is).
        """
        ids = self.vocab.encode(new_text) + [self.newline]
        self._feed(self._stories[story_id], self._slots.index(story_id), ids)

    def step(self) -> list[tuple[object, str]]:
        """Advance every story by ``chunk`` characters; return the lines completed, in order."""
        n = len(self._slots)
        if n == 0:
            return []
        filtering = any(self._stories[s].params.filtering for s in self._slots)
        if self.use_cuda_graph:
            rows = min(1 << (n - 1).bit_length(), self.max_batch)
            self._replay(rows, filtering)
        else:
            with torch.no_grad():
                self._decode_chunk(n, filtering)
        return self._collect(n)

    # -- internals -------------------------------------------------------------------

    def _set_params(self, slot: int, params: SamplingParams, seed: int) -> None:
        self._seed[slot] = seed
        greedy = params.temperature == 0.0
        self._inv_temp[slot] = 1.0 if greedy else 1.0 / params.temperature
        self._noise_scale[slot] = 0.0 if greedy else 1.0
        self._top_k[slot] = params.top_k
        self._top_p[slot] = params.top_p
        self._max_line[slot] = params.max_line_chars

    @torch.no_grad()
    def _feed(self, story: _Story, slot: int, ids: list[int]) -> None:
        common = 0
        for old, new in zip(story.ids, ids):
            if old != new:
                break
            common += 1
        last = len(ids) - 1
        story.snapshots = [s for s in story.snapshots if s.fed <= min(common, last)]
        if story.snapshots:
            start = story.snapshots[-1]
            h, c, fed = start.h.unsqueeze(1), start.c.unsqueeze(1), start.fed
        else:
            (h, c), fed = self.model.initial_state(1, self.device), 0
        if last > fed:
            h, c = self.model.advance(torch.tensor([ids[fed:last]], device=self.device), (h, c))
        story.ids, story.partial = ids, []
        self._keep_snapshot(story, _Snapshot(last, h[:, 0].clone(), c[:, 0].clone()))
        self._h[:, slot] = h[:, 0]
        self._c[:, slot] = c[:, 0]
        self._next_input[slot] = ids[last]
        self._position[slot] = len(ids)
        self._line_len[slot] = 0
        self._has_text[slot] = 0

    def _keep_snapshot(self, story: _Story, snapshot: _Snapshot) -> None:
        if story.snapshots and story.snapshots[-1].fed == snapshot.fed:
            story.snapshots.pop()
        story.snapshots.append(snapshot)
        del story.snapshots[:-self.max_snapshots]

    def _decode_chunk(self, rows: int, filtering: bool) -> None:
        """Decode ``chunk`` characters for rows ``[:rows]``, reading and writing only the
        static buffers (so that the same code can be captured in a CUDA graph)."""
        layers = self.model.config.num_layers
        hs = [self._h[layer, :rows] for layer in range(layers)]
        cs = [self._c[layer, :rows] for layer in range(layers)]
        tok = self._next_input[:rows]
        line_len, has_text = self._line_len[:rows], self._has_text[:rows]
        max_line, inv_temp = self._max_line[:rows], self._inv_temp[:rows]
        top_k, top_p = self._top_k[:rows], self._top_p[:rows]
        start = self._position[:rows]
        offsets = torch.arange(self.chunk, device=self.device)
        noise = gumbel_noise(self._seed[:rows], start.unsqueeze(1) + offsets, self._bias.shape[1])
        noise = noise * self._noise_scale[:rows]
        tokens, hist_h, hist_c = [], [], []
        for t in range(self.chunk):
            logits, hs, cs = self.model.step(tok, hs, cs)
            code = torch.add(has_text, line_len >= max_line, alpha=2)
            scores = torch.addcmul(self._bias[code], logits, inv_temp)
            if filtering:
                scores = filter_top_k_top_p(scores, top_k, top_p)
            tok = (scores + noise[:, t]).argmax(dim=1)
            ends = tok == self.newline
            line_len = torch.where(ends, 0, line_len + 1)
            has_text = torch.where(ends, 0, torch.maximum(has_text, self._visible[tok]))
            tokens.append(tok)
            hist_h.extend(hs)
            hist_c.extend(cs)
        self._out[:rows].copy_(torch.stack(tokens, dim=1))
        self._hist_h[:, :, :rows].copy_(torch.stack(hist_h).view(self.chunk, layers, rows, -1))
        self._hist_c[:, :, :rows].copy_(torch.stack(hist_c).view(self.chunk, layers, rows, -1))
        self._h[:, :rows].copy_(torch.stack(hs))
        self._c[:, :rows].copy_(torch.stack(cs))
        self._next_input[:rows].copy_(tok)
        self._line_len[:rows].copy_(line_len)
        self._has_text[:rows].copy_(has_text)
        self._position[:rows].add_(self.chunk)

    def _replay(self, rows: int, filtering: bool) -> None:
        key = (rows, filtering)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._capture(rows, filtering)
            self._graphs[key] = graph
        graph.replay()

    def _capture(self, rows: int, filtering: bool) -> torch.cuda.CUDAGraph:
        buffers = [self._h, self._c, self._next_input, self._position, self._line_len, self._has_text]
        saved = [b.clone() for b in buffers]
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.no_grad(), torch.cuda.stream(stream):
            for _ in range(2):  # warm-up: cuBLAS handles, allocator pools
                self._decode_chunk(rows, filtering)
        torch.cuda.current_stream(self.device).wait_stream(stream)
        for b, s in zip(buffers, saved):
            b.copy_(s)
        if self._graph_pool is None:
            self._graph_pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        with torch.no_grad(), torch.cuda.graph(graph, pool=self._graph_pool):
            self._decode_chunk(rows, filtering)
        return graph

    def _collect(self, n: int) -> list[tuple[object, str]]:
        tokens = self._out[:n].tolist()
        lines: list[tuple[object, str]] = []
        for slot, story_id in enumerate(self._slots):
            story = self._stories[story_id]
            for t, tok in enumerate(tokens[slot]):
                if tok != self.newline:
                    story.partial.append(tok)
                    continue
                lines.append((story_id, self.vocab.decode(story.partial)))
                story.ids.extend(story.partial)
                story.ids.append(tok)
                story.partial = []
                # The state of step t has read everything before this newline; the newline is next.
                h, c = self._hist_h[t, :, slot].clone(), self._hist_c[t, :, slot].clone()
                self._keep_snapshot(story, _Snapshot(len(story.ids) - 1, h, c))
        return lines
