r"""Line-by-line story generation for many stories at once, with carried recurrent state.

A :class:`StoryBatch` owns the LSTM state of every story in it. ``add`` feeds a story's
text once; each ``step`` then advances all stories together by a fixed chunk of characters
(one batched forward per character) and returns the lines completed during it. Continuing
costs O(new characters), never a re-read of the story; ``edit`` re-feeds only the part
after the longest unchanged prefix, starting from the latest state kept inside it.

Two ways to cut lines, chosen per story (by default from the model's ``text_format``):

* **Sentence lines** (models trained on unwrapped text). The model reads ``START`` (a
  paragraph break, what precedes every paragraph it was trained on) and then the text, and
  writes on; :mod:`.sentences` cuts what it writes into lines at sentence ends and paragraph
  breaks. The decoder keeps whitespace canonical: no whitespace after a space or at the
  start of a paragraph, a newline is always followed by a second one (a paragraph break),
  no other whitespace characters, and a word reaching ``max_line_chars`` must end. So the
  separator after every line is a space or ``"\n\n"``, known when the line is cut (the
  character after a sentence's space decides whether the sentence ended), and the text of a
  story is rebuilt exactly from its seed and lines (``stories.story_text``). A text given
  to ``add`` that ends in whitespace is at a line boundary; otherwise the first line
  completes its last sentence.
* **Newline lines** (models trained on hard-wrapped text). The model reads the text and a
  newline; a line ends at the next newline, which is excluded while the line is blank and
  forced at ``max_line_chars``. The text of a story is ``"\n".join([seed, *lines])``.

Either way, adding the text of a story to a fresh batch with the same parameters continues
with the same lines (:mod:`.sampling` explains why, and the one caveat: float ties): every
constraint on a draw depends only on the text before it. Characters decoded past a line's
end are the start of the next line; they are kept, and they are exactly what a fresh batch
would decode there.

On CUDA each chunk is one replay of a captured CUDA graph (one graph per power-of-two batch
size and filtering mode, captured when first needed); elsewhere the same code runs eagerly.
The per-character rules above are a small automaton over lookup tables (``_bias``,
``_next_state``, ``_resets``), so the graph holds no branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .checkpoint import PARAGRAPHS, LoadedModel
from .sampling import SamplingParams, filter_top_k_top_p, gumbel_noise, seed32
from .sentences import LineSplitter
from .vocab import UNK_ID

__all__ = ["START", "BatchFull", "Line", "SamplingParams", "StoryBatch", "canonical_text"]

NEG_INF = float("-inf")
#: what a sentence-lines model reads before a story's text
START = "\n\n"

# Automaton states: newline lines (blank so far / with text), sentence lines (after a
# visible character / a space / a first newline / a paragraph break or at the start).
_N_BLANK, _N_TEXT, _S_WORD, _S_SPACE, _S_NEWLINE, _S_START = range(6)
_STATES = 6


class BatchFull(Exception):
    """``add`` on a batch that already holds ``max_batch`` stories."""


@dataclass(frozen=True)
class Line:
    """A finished line of story ``story``. ``paragraph_end``: a paragraph break follows it;
    ``follows``: how it follows the text before it (see :mod:`.sentences`)."""

    story: object
    text: str
    paragraph_end: bool = False
    follows: str = "newline"


@dataclass
class _Snapshot:
    """The state after feeding ``ids[:fed]`` of a story."""

    fed: int
    h: torch.Tensor  # [layers, hidden]
    c: torch.Tensor


@dataclass
class _Story:
    params: SamplingParams
    seed: int                   # 32-bit seed of the noise
    sentences: bool             # sentence lines (else newline lines)
    ids: list[int]              # what the model reads, up to the last line end
    splitter: LineSplitter
    partial: list[int] = field(default_factory=list)  # decoded ids after the last line end
    snapshots: list[_Snapshot] = field(default_factory=list)


def canonical_text(text: str) -> str:
    """A text as a sentence-lines story holds it: trailing whitespace becomes one separator
    (``"\n\n"`` if it holds a newline, else a space); blank text becomes empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.rstrip()
    if not body:
        return ""
    tail = text[len(body):]
    return body + ("\n\n" if "\n" in tail else " " if tail else "")


class StoryBatch:
    """Stories decoded together on one device (see the module docstring for the contract).

    ``max_batch`` stories at most; ``chunk`` characters per story per :meth:`step`;
    ``use_cuda_graph`` (default: on CUDA) replays captured graphs instead of eager code;
    ``max_snapshots`` states kept per story (at line ends) for :meth:`edit`.
    """

    def __init__(self, loaded: LoadedModel, device: torch.device | str = "cpu", max_batch: int = 64,
                 chunk: int = 32, use_cuda_graph: bool | None = None, max_snapshots: int = 8):
        if max_batch < 1 or chunk < 1:
            raise ValueError("max_batch and chunk must be positive")
        self.device = torch.device(device)
        self.model = loaded.model.to(self.device).eval()
        self.vocab = loaded.vocab
        #: whether stories are cut into sentence lines unless ``add`` says otherwise
        self.sentences = loaded.text_format == PARAGRAPHS
        self.max_batch, self.chunk, self.max_snapshots = max_batch, chunk, max_snapshots
        self.use_cuda_graph = self.device.type == "cuda" if use_cuda_graph is None else use_cuda_graph
        if self.use_cuda_graph and self.device.type != "cuda":
            raise ValueError("CUDA graphs need a CUDA device")
        cfg = loaded.config
        self.newline = self.vocab.encode("\n")[0]
        self._start_ids = self.vocab.encode(START)
        vocab_size, layers, hidden = cfg.vocab_size, cfg.num_layers, cfg.hidden_size
        dev, n = self.device, max_batch

        def zeros(*shape, dtype=torch.float32):
            return torch.zeros(*shape, dtype=dtype, device=dev)

        # Per-slot state and parameters; row i belongs to self._slots[i]. Rows are kept compact.
        self._h, self._c = zeros(layers, n, hidden), zeros(layers, n, hidden)
        self._next_input = zeros(n, dtype=torch.long)
        self._position = zeros(n, dtype=torch.long)     # index in the model's input of the next character drawn
        self._state = zeros(n, dtype=torch.long)        # automaton state (see _tables)
        self._run = zeros(n, dtype=torch.long)          # characters in the line (newline) or word (sentence)
        self._seed = zeros(n, dtype=torch.long)
        self._inv_temp = torch.ones(n, 1, device=dev)
        self._noise_scale = torch.ones(n, 1, 1, device=dev)  # 0: greedy
        self._top_k = zeros(n, dtype=torch.long)
        self._top_p = torch.ones(n, device=dev)
        self._max_line = zeros(n, dtype=torch.long)
        # Results of the last chunk: tokens, and the state when each was drawn (it has read
        # everything before that token).
        self._out = zeros(n, chunk, dtype=torch.long)
        self._hist_h = zeros(chunk, layers, n, hidden)
        self._hist_c = zeros(chunk, layers, n, hidden)
        self._chars = self.vocab.decode(range(vocab_size))
        self._bias, self._next_state, self._resets = (t.to(dev) for t in self._tables())

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
        """The story text up to its last line end: newline lines ``"\\n".join([seed, *lines])``;
        sentence lines the text with the separator after the last line (see ``stories.story_text``)."""
        story = self._stories[story_id]
        ids = story.ids[len(self._start_ids):] if story.sentences else story.ids[:-1]
        return self.vocab.decode(ids)

    @torch.no_grad()
    def next_char_probs(self, story_id: object) -> torch.Tensor:
        """The model's distribution [vocab] (temperature 1, no filtering) for the first character
        after the story's last line end."""
        story = self._stories[story_id]
        h, c = self._state_before(story, len(story.ids) - 1)
        layers = range(self.model.config.num_layers)
        logits, _, _ = self.model.step(torch.tensor([story.ids[-1]], device=self.device),
                                       [h[layer] for layer in layers], [c[layer] for layer in layers])
        return torch.softmax(logits[0], dim=0)

    def add(self, story_id: object, text: str, params: SamplingParams = SamplingParams(),
            sentences: bool | None = None) -> None:
        """Start a story: feed ``text`` (any string; see :mod:`.vocab` for unknown characters).
        ``sentences``: cut it into sentence lines (default: as the model was trained)."""
        if story_id in self._stories:
            raise KeyError(f"story {story_id!r} is already in the batch")
        if len(self._slots) >= self.max_batch:
            raise BatchFull(f"the batch already holds {self.max_batch} stories")
        params = params.with_seed()
        sentences = self.sentences if sentences is None else sentences
        story = _Story(params=params, seed=seed32(params.random_seed), sentences=sentences, ids=[],
                       splitter=LineSplitter(sentences, params.max_line_chars, ""))
        self._stories[story_id] = story
        self._slots.append(story_id)
        slot = len(self._slots) - 1
        self._set_params(slot, params, story.seed)
        self._feed(story, slot, text)

    def remove(self, story_id: object) -> None:
        """Drop a story; its slot is filled by the last one so rows stay compact."""
        del self._stories[story_id]
        slot = self._slots.index(story_id)
        last = len(self._slots) - 1
        if slot != last:
            for buf in (self._h, self._c):
                buf[:, slot] = buf[:, last]
            for buf in (self._next_input, self._position, self._state, self._run, self._seed,
                        self._inv_temp, self._noise_scale, self._top_k, self._top_p, self._max_line):
                buf[slot] = buf[last]
            self._slots[slot] = self._slots[last]
        self._slots.pop()

    def edit(self, story_id: object, new_text: str) -> None:
        """Replace the story's text; only what follows the unchanged prefix is fed again.

        The line in progress is dropped. Feeding restarts from the latest kept state inside
        the unchanged prefix (or from the start when none is).
        """
        self._feed(self._stories[story_id], self._slots.index(story_id), new_text)

    def step(self) -> list[Line]:
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

    def _tables(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``bias[state + STATES * full]`` [codes, vocab] (0 or -inf; ``full``: the line
        (newline) or word (sentence) has ``max_line_chars`` characters), ``next_state`` and
        ``resets`` [states * vocab] indexed by ``state * vocab + token``."""
        vocab_size = len(self._chars)
        space = self.vocab.encode(" ")[0] if " " in self.vocab.chars else None
        white = torch.tensor([ch.isspace() for ch in self._chars])
        white[UNK_ID] = False
        odd_white = white.clone()
        odd_white[self.newline] = False
        if space is not None:
            odd_white[space] = False
        visible = ~white
        visible[UNK_ID] = False
        bias = torch.zeros(2 * _STATES, vocab_size)
        bias[_N_BLANK, self.newline] = NEG_INF
        bias[_STATES + _N_BLANK] = bias[_STATES + _N_TEXT] = NEG_INF
        bias[_STATES + _N_BLANK, self.newline] = bias[_STATES + _N_TEXT, self.newline] = 0.0
        bias[_S_WORD, odd_white] = NEG_INF
        bias[_STATES + _S_WORD, odd_white | visible] = NEG_INF
        for state in (_S_SPACE, _S_START):
            bias[state, white] = bias[_STATES + state, white] = NEG_INF
        bias[_S_NEWLINE] = bias[_STATES + _S_NEWLINE] = NEG_INF
        bias[_S_NEWLINE, self.newline] = bias[_STATES + _S_NEWLINE, self.newline] = 0.0
        bias[:, UNK_ID] = NEG_INF

        next_state = torch.empty(_STATES, vocab_size, dtype=torch.long)
        resets = torch.zeros(_STATES, vocab_size, dtype=torch.bool)
        for state in (_N_BLANK, _N_TEXT):
            next_state[state] = torch.where(visible, _N_TEXT, state)
            next_state[state, self.newline] = _N_BLANK
            resets[state, self.newline] = True
        for state in (_S_WORD, _S_SPACE, _S_NEWLINE, _S_START):
            next_state[state] = torch.where(white, _S_SPACE, _S_WORD)
            next_state[state, self.newline] = _S_START if state == _S_NEWLINE else _S_NEWLINE
            resets[state] = white
        return bias, next_state.view(-1), resets.view(-1)

    def _set_params(self, slot: int, params: SamplingParams, seed: int) -> None:
        self._seed[slot] = seed
        greedy = params.temperature == 0.0
        self._inv_temp[slot] = 1.0 if greedy else 1.0 / params.temperature
        self._noise_scale[slot] = 0.0 if greedy else 1.0
        self._top_k[slot] = params.top_k
        self._top_p[slot] = params.top_p
        self._max_line[slot] = params.max_line_chars

    def _model_input(self, story: _Story, text: str) -> tuple[str, list[int]]:
        """The text as the story holds it, and the ids the model reads for it."""
        if story.sentences:
            text = canonical_text(text)
            return text, self._start_ids + self.vocab.encode(text)
        return text, self.vocab.encode(text) + [self.newline]

    @torch.no_grad()
    def _feed(self, story: _Story, slot: int, text: str) -> None:
        text, ids = self._model_input(story, text)
        common = 0
        for old, new in zip(story.ids, ids):
            if old != new:
                break
            common += 1
        last = len(ids) - 1
        story.snapshots = [s for s in story.snapshots if s.fed <= min(common, last)]
        h, c = self._state_before(story, last, ids)
        story.ids, story.partial = ids, []
        story.splitter = LineSplitter(story.sentences, story.params.max_line_chars, text)
        self._keep_snapshot(story, _Snapshot(last, h[:, 0].clone(), c[:, 0].clone()))
        self._h[:, slot] = h[:, 0]
        self._c[:, slot] = c[:, 0]
        self._next_input[slot] = ids[last]
        self._position[slot] = len(ids)
        if story.sentences:
            tail = self._chars[ids[-1]] if ids[-1] != UNK_ID else "x"
            before = self._chars[ids[-2]] if len(ids) > 1 else ""
            state = (_S_WORD if not tail.isspace() else _S_SPACE if tail != "\n"
                     else _S_START if before == "\n" else _S_NEWLINE)
            word = 0
            while word < len(ids) and (ids[-1 - word] == UNK_ID or not self._chars[ids[-1 - word]].isspace()):
                word += 1
        else:
            state, word = _N_BLANK, 0
        self._state[slot] = state
        self._run[slot] = word

    def _state_before(self, story: _Story, index: int, ids: list[int] | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """The state [layers, 1, hidden] after reading ``ids[:index]`` (default: the story's),
        fed on from the latest snapshot at or before ``index``."""
        ids = story.ids if ids is None else ids
        usable = [s for s in story.snapshots if s.fed <= index]
        if usable:
            start = usable[-1]
            h, c, fed = start.h.unsqueeze(1), start.c.unsqueeze(1), start.fed
        else:
            (h, c), fed = self.model.initial_state(1, self.device), 0
        if index > fed:
            h, c = self.model.advance(torch.tensor([ids[fed:index]], device=self.device), (h, c))
        return h, c

    def _keep_snapshot(self, story: _Story, snapshot: _Snapshot) -> None:
        story.snapshots = [s for s in story.snapshots if s.fed < snapshot.fed]
        story.snapshots.append(snapshot)
        del story.snapshots[:-self.max_snapshots]

    def _decode_chunk(self, rows: int, filtering: bool) -> None:
        """Decode ``chunk`` characters for rows ``[:rows]``, reading and writing only the
        static buffers (so that the same code can be captured in a CUDA graph)."""
        layers = self.model.config.num_layers
        vocab_size = self._bias.shape[1]
        hs = [self._h[layer, :rows] for layer in range(layers)]
        cs = [self._c[layer, :rows] for layer in range(layers)]
        tok = self._next_input[:rows]
        state, run = self._state[:rows], self._run[:rows]
        max_line, inv_temp = self._max_line[:rows], self._inv_temp[:rows]
        top_k, top_p = self._top_k[:rows], self._top_p[:rows]
        start = self._position[:rows]
        offsets = torch.arange(self.chunk, device=self.device)
        noise = gumbel_noise(self._seed[:rows], start.unsqueeze(1) + offsets, vocab_size)
        noise = noise * self._noise_scale[:rows]
        weights = self.model.step_weights()
        tokens, hist_h, hist_c = [], [], []
        for t in range(self.chunk):
            logits, hs, cs = self.model.step(tok, hs, cs, weights)
            hist_h.extend(hs)
            hist_c.extend(cs)
            code = torch.add(state, run >= max_line, alpha=_STATES)
            scores = torch.addcmul(self._bias[code], logits, inv_temp)
            if filtering:
                scores = filter_top_k_top_p(scores, top_k, top_p)
            tok = (scores + noise[:, t]).argmax(dim=1)
            move = torch.add(tok, state, alpha=vocab_size)
            run = torch.where(self._resets[move], 0, run + 1)
            state = self._next_state[move]
            tokens.append(tok)
        self._out[:rows].copy_(torch.stack(tokens, dim=1))
        self._hist_h[:, :, :rows].copy_(torch.stack(hist_h).view(self.chunk, layers, rows, -1))
        self._hist_c[:, :, :rows].copy_(torch.stack(hist_c).view(self.chunk, layers, rows, -1))
        self._h[:, :rows].copy_(torch.stack(hs))
        self._c[:, :rows].copy_(torch.stack(cs))
        self._next_input[:rows].copy_(tok)
        self._state[:rows].copy_(state)
        self._run[:rows].copy_(run)
        self._position[:rows].add_(self.chunk)

    def _replay(self, rows: int, filtering: bool) -> None:
        key = (rows, filtering)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._capture(rows, filtering)
            self._graphs[key] = graph
        graph.replay()

    def _capture(self, rows: int, filtering: bool) -> torch.cuda.CUDAGraph:
        buffers = [self._h, self._c, self._next_input, self._position, self._state, self._run]
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

    def _collect(self, n: int) -> list[Line]:
        tokens = self._out[:n].tolist()
        chars = self._chars
        lines: list[Line] = []
        for slot, story_id in enumerate(self._slots):
            story = self._stories[story_id]
            first = len(story.ids) + len(story.partial)  # input index of this chunk's first token
            for tok in tokens[slot]:
                story.partial.append(tok)
                cut = story.splitter.push(chars[tok])
                if cut is None:
                    continue
                story.ids.extend(story.partial[:cut.length])
                del story.partial[:cut.length]
                self._snapshot_at_line_end(story, slot, first)
                if cut.line is not None:
                    lines.append(Line(story_id, cut.line, cut.paragraph_end, cut.follows))
        return lines

    def _snapshot_at_line_end(self, story: _Story, slot: int, first: int) -> None:
        """Keep the state before the last separator character (or after it) when this chunk
        drew it; a line cut further back (a runaway sentence) keeps none."""
        for fed in (len(story.ids) - 1, len(story.ids)):
            t = fed - first  # the state when token t was drawn has read ids[:first + t]
            if 0 <= t < self.chunk:
                h, c = self._hist_h[t, :, slot].clone(), self._hist_c[t, :, slot].clone()
                self._keep_snapshot(story, _Snapshot(fed, h, c))
                return
