r"""Line-by-line story generation for many stories at once, with carried recurrent state.

A :class:`StoryBatch` owns the LSTM state of every story in it. ``add`` feeds a story's
text once; each ``step`` then advances all stories together by a fixed chunk of tokens (one
batched forward per token) and returns the lines completed during it. Continuing costs
O(new tokens), never a re-read of the story; ``edit`` re-feeds only the part after the
longest unchanged prefix, starting from the latest state kept inside it.

The model is a character or a byte-level BPE model (``LoadedModel.vocab``); lines are cut
on characters either way (a token may hold several characters, or part of one: the bytes of
a character split across tokens are held back until it is whole). Two ways to cut lines,
chosen per story (by default from the model's ``text_format``):

* **Sentence lines** (models trained on unwrapped text). The model reads ``START`` (a
  paragraph break, what precedes every paragraph it was trained on) and then the text, and
  writes on; :mod:`.sentences` cuts what it writes into lines at sentence ends and paragraph
  breaks. The decoder keeps whitespace canonical (:mod:`.token_rules`): a line is followed by
  a space or by ``"\n\n"``, known when the line is cut (the character after a sentence's
  space decides whether the sentence ended), and the text of a story is rebuilt exactly from
  its seed and lines (``stories.story_text``). A text given to ``add`` that ends in
  whitespace is at a line boundary; otherwise the first line completes its last sentence.
* **Newline lines** (character models trained on hard-wrapped text). The model reads the
  text and a newline; a line ends at the next newline. The text of a story is
  ``"\n".join([seed, *lines])``.

**Resuming elsewhere is exact.** Adding the text of a story to a fresh batch with the same
parameters continues with the same lines (:mod:`.sampling` explains the counter-based noise,
and the one caveat: float ties). A token sequence the model drew and the tokenizer's own
encoding of the same text can differ, and a worker that resumes a story has only the text.
So at every line end the state is, by rule, the state after the tokenizer's encoding of
``START`` and the story so far without the separator after its last line; tokens are
numbered by their position in that encoding. When the tokens drawn for the line are that
encoding (nearly always), the tokens already drawn past the line end stand, since a fresh
worker draws the same ones from the same state. When they are not, the story is fed the
encoding, what was drawn past the line end is dropped and drawn again. Either way the
separator is then known: the first token drawn after a text that ends in a separator must
begin with it, and when the free draw does not, it is drawn again with the separator forced
(a fresh worker does the very same).

On CUDA each chunk is one replay of a captured CUDA graph (one graph per power-of-two batch
size and filtering mode, captured when first needed); elsewhere the same code runs eagerly.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import torch

from .checkpoint import PARAGRAPHS, LoadedModel
from .sampling import SamplingParams, filter_top_k_top_p, fold, gumbel_noise, history_hash, seed32
from .sentences import LineSplitter
from .tokenizer import BPETokenizer
from .token_rules import (BLANK, CODES, FORCE_PARAGRAPH, FORCE_SPACE, START as START_STATE, WORD, code, quotes,
                          sentence_run, token_rules)
from .vocab import UNK_ID

__all__ = ["START", "BatchFull", "Line", "SamplingParams", "StoryBatch", "canonical_text"]

#: what a sentence-lines model reads before a story's text
START = "\n\n"
_SEPARATOR_STATE = {" ": FORCE_SPACE, "\n\n": FORCE_PARAGRAPH}


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
    body: str = ""              # the text up to its last line end, without the separator after it
    sep: str = ""               # that separator: "", " " or "\n\n" ("\n" for newline lines)
    ids: list[int] = field(default_factory=list)  # what the model has read: the encoding of the body
    splitter: LineSplitter | None = None
    partial: list[int] = field(default_factory=list)  # tokens drawn after the body
    chars: list[int] = field(default_factory=list)    # characters they completed, cumulated
    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    skip: int = 0               # characters of the separator still to come that the splitter has seen
    check_sep: bool = False     # the next token drawn must begin with ``sep`` (else it is drawn again, forced)
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

    ``max_batch`` stories at most; ``chunk`` tokens per story per :meth:`step`;
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
        self._token_bytes = token_bytes(self.vocab)
        self._rules = token_rules(tuple(self._token_bytes)).to(self.device)
        end_bias = loaded.metadata.get("sentence_end_bias") or {}
        self._end_after, self._end_slope = int(end_bias.get("after", 0)), float(end_bias.get("per_char", 0.0))
        layers, hidden = loaded.config.num_layers, loaded.config.hidden_size
        dev, n = self.device, max_batch

        def zeros(*shape, dtype=torch.float32):
            return torch.zeros(*shape, dtype=dtype, device=dev)

        # Per-slot state and parameters; row i belongs to self._slots[i]. Rows are kept compact.
        self._h, self._c = zeros(layers, n, hidden), zeros(layers, n, hidden)
        self._next_input = zeros(n, dtype=torch.long)
        self._position = zeros(n, dtype=torch.long)     # index in the model's input of the next token drawn
        self._code = zeros(n, dtype=torch.long)         # the token rules' state (see token_rules.py)
        self._run = zeros(n, dtype=torch.long)          # characters in the word (sentence lines) or line
        self._sentence = zeros(n, dtype=torch.long)     # characters since the last sentence stop
        self._seed = zeros(n, dtype=torch.long)
        self._history = zeros(n, dtype=torch.long)     # running hash of what the story has read (sampling.fold)
        self._inv_temp = torch.ones(n, 1, device=dev)
        self._noise_scale = torch.ones(n, 1, device=dev)  # 0: greedy
        self._top_k = zeros(n, dtype=torch.long)
        self._top_p = torch.ones(n, device=dev)
        self._max_line = zeros(n, dtype=torch.long)
        # Results of the last chunk: tokens, and the state when each was drawn (it has read
        # everything before that token).
        self._out = zeros(n, chunk, dtype=torch.long)
        self._hist_h = zeros(chunk, layers, n, hidden)
        self._hist_c = zeros(chunk, layers, n, hidden)

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
        return story.body + story.sep if story.sentences else story.body

    @torch.no_grad()
    def next_token_probs(self, story_id: object) -> torch.Tensor:
        """The model's distribution [vocab] (temperature 1, no rule applied) for the first token
        after the story's last line end."""
        story = self._stories[story_id]
        h, c = self._state_before(story, len(story.ids) - 1)
        layers = range(self.model.config.num_layers)
        logits, _, _ = self.model.step(torch.tensor([story.ids[-1]], device=self.device),
                                       [h[layer] for layer in layers], [c[layer] for layer in layers])
        return torch.softmax(logits[0], dim=0)

    def add(self, story_id: object, text: str, params: SamplingParams = SamplingParams(),
            sentences: bool | None = None) -> None:
        """Start a story: feed ``text`` (any string). ``sentences``: cut it into sentence lines
        (default: as the model was trained)."""
        if story_id in self._stories:
            raise KeyError(f"story {story_id!r} is already in the batch")
        if len(self._slots) >= self.max_batch:
            raise BatchFull(f"the batch already holds {self.max_batch} stories")
        params = params.with_seed()
        story = _Story(params=params, seed=seed32(params.random_seed),
                       sentences=self.sentences if sentences is None else sentences)
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
            for buf in (self._next_input, self._position, self._code, self._run, self._sentence, self._history,
                        self._seed,
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
        """Advance every story by ``chunk`` tokens; return the lines completed, in order."""
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

    # -- feeding text ----------------------------------------------------------------------

    def _set_params(self, slot: int, params: SamplingParams, seed: int) -> None:
        self._seed[slot] = seed
        greedy = params.temperature == 0.0
        self._inv_temp[slot] = 1.0 if greedy else 1.0 / params.temperature
        self._noise_scale[slot] = 0.0 if greedy else 1.0
        self._top_k[slot] = params.top_k
        self._top_p[slot] = params.top_p
        self._max_line[slot] = params.max_line_chars

    @torch.no_grad()
    def _feed(self, story: _Story, slot: int, text: str) -> None:
        if story.sentences:
            text = canonical_text(text)
            body = text.rstrip()
            sep = text[len(body):]
            ids = self.vocab.encode(START + body)
        else:
            body, sep = text, "\n"
            ids = self.vocab.encode(text + "\n")
        self._prune_snapshots(story, ids)
        story.body, story.sep = body, sep
        if story.sentences and not sep:
            self._snapshot_before_last_word(story, ids)
        h, c = self._state_before(story, len(ids) - 1, ids)
        story.ids = ids
        self._keep_snapshot(story, _Snapshot(len(ids) - 1, h[:, 0].clone(), c[:, 0].clone()))
        story.splitter = LineSplitter(story.sentences, story.params.max_line_chars, body + sep)
        if not story.sentences:
            self._restart(story, slot, h, c, BLANK, 0)
        elif sep:
            self._restart(story, slot, h, c, WORD, 0, skip=len(sep), check_sep=True)
        else:
            self._restart(story, slot, h, c, WORD if body else START_STATE, _last_word(body))

    def _snapshot_before_last_word(self, story: _Story, ids: list[int]) -> None:
        """Keep the state before the last word of a text that ends mid-sentence: its first line
        may re-encode that word (``"ti"`` + ``"me"`` is one token), and feeding on from here
        spares reading the whole text again."""
        cut = max(story.body.rfind(" "), story.body.rfind("\n"))
        if cut <= 0:
            return
        head = self.vocab.encode(START + story.body[:cut])
        if ids[:len(head)] == head and len(head) < len(ids) - 1:
            h, c = self._state_before(story, len(head), ids)
            self._keep_snapshot(story, _Snapshot(len(head), h[:, 0].clone(), c[:, 0].clone()))

    def _restart(self, story: _Story, slot: int, h: torch.Tensor, c: torch.Tensor, state: int, run: int,
                 skip: int = 0, check_sep: bool = False) -> None:
        """Decode the story on from the end of ``story.ids``, from model state ``h``, ``c``
        (after all but its last id) and token-rules ``state``, with nothing drawn yet."""
        story.partial, story.chars = [], []
        story.decoder.reset()
        story.skip, story.check_sep = skip, check_sep
        self._h[:, slot] = h[:, 0]
        self._c[:, slot] = c[:, 0]
        self._next_input[slot] = story.ids[-1]
        self._position[slot] = len(story.ids)
        self._code[slot] = code(state, 0, *quotes(story.body + story.sep))
        self._run[slot] = run
        self._sentence[slot] = sentence_run(story.body)
        self._history[slot] = history_hash(story.ids[:-1])  # the step folds in the last one

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

    def _prune_snapshots(self, story: _Story, ids: list[int]) -> None:
        """Forget the states kept past the part ``ids`` shares with what the story has read."""
        common = 0
        for old, new in zip(story.ids, ids):
            if old != new:
                break
            common += 1
        story.snapshots = [s for s in story.snapshots if s.fed <= min(common, len(ids) - 1)]

    def _keep_snapshot(self, story: _Story, snapshot: _Snapshot) -> None:
        story.snapshots = [s for s in story.snapshots if s.fed < snapshot.fed]
        story.snapshots.append(snapshot)
        del story.snapshots[:-self.max_snapshots]

    # -- decoding --------------------------------------------------------------------------

    def _decode_chunk(self, rows: int, filtering: bool) -> None:
        """Decode ``chunk`` tokens for rows ``[:rows]``, reading and writing only the static
        buffers (so that the same code can be captured in a CUDA graph)."""
        layers = self.model.config.num_layers
        rules = self._rules
        vocab_size = rules.bias.shape[1]
        hs = [self._h[layer, :rows] for layer in range(layers)]
        cs = [self._c[layer, :rows] for layer in range(layers)]
        tok = self._next_input[:rows]
        rule_code, run = self._code[:rows], self._run[:rows]
        sentence, history = self._sentence[:rows], self._history[:rows]
        max_line, inv_temp = self._max_line[:rows], self._inv_temp[:rows]
        top_k, top_p = self._top_k[:rows], self._top_p[:rows]
        seeds, start, noise_scale = self._seed[:rows], self._position[:rows], self._noise_scale[:rows]
        weights = self.model.step_weights()
        tokens, hist_h, hist_c = [], [], []
        for t in range(self.chunk):
            logits, hs, cs = self.model.step(tok, hs, cs, weights)
            hist_h.extend(hs)
            hist_c.extend(cs)
            row = torch.add(rule_code, run >= max_line, alpha=CODES)
            scores = torch.addcmul(rules.bias[row], logits, inv_temp)
            if self._end_slope:
                push = (sentence - self._end_after).clamp_min(0) * self._end_slope
                scores = torch.addcmul(scores, push.unsqueeze(1), rules.ends)
            if filtering:
                scores = filter_top_k_top_p(scores, top_k, top_p)
            history = fold(history, tok)  # the token just read
            noise = gumbel_noise(seeds ^ history, (start + t).unsqueeze(1), vocab_size)[:, 0]
            tok = torch.addcmul(scores, noise, noise_scale).argmax(dim=1)
            move = torch.add(tok, rule_code, alpha=vocab_size)
            gained = rules.tail[move]
            run = torch.where(rules.resets[move], gained, run + gained)
            rule_code = rules.next_code[move]
            sentence = torch.where(rules.stops[tok], rules.stop_tail[tok], sentence + rules.stop_tail[tok])
            tokens.append(tok)
        self._out[:rows].copy_(torch.stack(tokens, dim=1))
        self._hist_h[:, :, :rows].copy_(torch.stack(hist_h).view(self.chunk, layers, rows, -1))
        self._hist_c[:, :, :rows].copy_(torch.stack(hist_c).view(self.chunk, layers, rows, -1))
        self._h[:, :rows].copy_(torch.stack(hs))
        self._c[:, :rows].copy_(torch.stack(cs))
        self._next_input[:rows].copy_(tok)
        self._code[:rows].copy_(rule_code)
        self._run[:rows].copy_(run)
        self._sentence[:rows].copy_(sentence)
        self._history[:rows].copy_(history)
        self._position[:rows].add_(self.chunk)

    def _replay(self, rows: int, filtering: bool) -> None:
        key = (rows, filtering)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._capture(rows, filtering)
            self._graphs[key] = graph
        graph.replay()

    def _capture(self, rows: int, filtering: bool) -> torch.cuda.CUDAGraph:
        buffers = [self._h, self._c, self._next_input, self._position, self._code, self._run, self._sentence,
                   self._history]
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

    # -- cutting lines ---------------------------------------------------------------------

    def _collect(self, n: int) -> list[Line]:
        tokens = self._out[:n].tolist()
        lines: list[Line] = []
        for slot, story_id in enumerate(self._slots):
            story = self._stories[story_id]
            first = len(story.ids) + len(story.partial)  # input index of this chunk's first token
            for tok in tokens[slot]:
                data = self._token_bytes[tok]
                if story.check_sep:
                    story.check_sep = False
                    if not data.startswith(story.sep[:1].encode()):
                        self._force_separator(story, slot)
                        break
                story.partial.append(tok)
                text = story.decoder.decode(data)
                story.chars.append((story.chars[-1] if story.chars else 0) + len(text))
                if self._push(story, slot, story_id, text, first, lines):
                    break
        return lines

    def _push(self, story: _Story, slot: int, story_id: object, text: str, first: int, lines: list[Line]) -> bool:
        """Give the characters of a drawn token to the story's line splitter; True when the
        story restarted from a line end (what it drew after it is void)."""
        for ch in text:
            if story.skip:
                story.skip -= 1
                continue
            cut = story.splitter.push(ch)
            if cut is None:
                continue
            restarted = self._line_end(story, slot, cut, first)
            if cut.line is not None:
                lines.append(Line(story_id, cut.line, cut.paragraph_end, cut.follows))
            if restarted:
                return True
        return False

    def _line_end(self, story: _Story, slot: int, cut, first: int) -> bool:
        """Move the story's body to the end of the line just cut (see the module docstring);
        True when the tokens drawn were not the text's encoding and it restarted there."""
        line = cut.line or ""
        if story.sentences:
            offset = len(story.sep) + len(line)  # characters drawn from the body's end to the line's end
            sep = "\n\n" if cut.paragraph_end else " "
            body = story.body + story.sep + line
            ids = story.ids + self.vocab.encode(story.sep + line) if story.sep else self.vocab.encode(START + body)
        else:
            offset, sep = len(line) + 1, "\n"
            body = story.body + "\n" + line
            ids = story.ids + self.vocab.encode(line + "\n")
        drawn = _tokens_for(story.chars, offset)
        if drawn is not None and ids == story.ids + story.partial[:drawn]:
            story.ids, story.body, story.sep = ids, body, sep
            del story.partial[:drawn]
            story.chars = [n - offset for n in story.chars[drawn:]]
            self._snapshot_at_line_end(story, slot, first)
            return False
        self._prune_snapshots(story, ids)
        self._snapshot_at_divergence(story, slot, ids, first)
        story.body, story.sep = body, sep
        h, c = self._state_before(story, len(ids) - 1, ids)
        story.ids = ids
        self._keep_snapshot(story, _Snapshot(len(ids) - 1, h[:, 0].clone(), c[:, 0].clone()))
        story.splitter = LineSplitter(story.sentences, story.params.max_line_chars, body + sep)
        if story.sentences:
            self._restart(story, slot, h, c, WORD, _last_word(body), skip=len(sep), check_sep=True)
        else:
            self._restart(story, slot, h, c, BLANK, 0)
        return True

    def _snapshot_at_divergence(self, story: _Story, slot: int, ids: list[int], first: int) -> None:
        """Keep the state before the first of the tokens drawn in this chunk that ``ids`` does
        not share, so only the differing tail is fed again."""
        drawn = story.ids + story.partial
        shared = len(story.ids)
        if ids[:shared] != story.ids:
            return  # it differs in what was read before this line (a seed's last word): see _feed
        while shared < min(len(drawn), len(ids) - 1) and drawn[shared] == ids[shared]:
            shared += 1
        t = shared - first  # the state when token t was drawn has read ids[:first + t]
        if 0 <= t < self.chunk and shared > len(story.ids):
            self._keep_snapshot(story, _Snapshot(shared, self._hist_h[t, :, slot].clone(),
                                                 self._hist_c[t, :, slot].clone()))

    def _force_separator(self, story: _Story, slot: int) -> None:
        """The free draw after a text ending in a separator did not begin with it: draw again,
        at the same position and from the same state, with the separator forced."""
        h, c = self._state_before(story, len(story.ids) - 1)
        self._restart(story, slot, h, c, _SEPARATOR_STATE[story.sep], 0, skip=len(story.sep))

    def _snapshot_at_line_end(self, story: _Story, slot: int, first: int) -> None:
        """Keep the state after all but the last id of the body when this chunk drew that id
        (a line whose end was drawn in an earlier chunk keeps none)."""
        fed = len(story.ids) - 1
        t = fed - first  # the state when token t was drawn has read ids[:first + t]
        if 0 <= t < self.chunk:
            h, c = self._hist_h[t, :, slot].clone(), self._hist_c[t, :, slot].clone()
            self._keep_snapshot(story, _Snapshot(fed, h, c))


def token_bytes(vocab) -> list[bytes]:
    """Each token's UTF-8 bytes, by id (a character vocabulary's ``UNK`` has none: never drawn)."""
    if isinstance(vocab, BPETokenizer):
        return vocab.token_bytes
    return [b""] + [ch.encode("utf-8") for ch in vocab.chars]


def _tokens_for(cumulated: list[int], chars: int) -> int | None:
    """How many tokens complete exactly ``chars`` characters (None when a token straddles that point)."""
    if chars == 0:
        return 0
    for i, n in enumerate(cumulated):
        if n == chars:
            return i + 1
        if n > chars:
            return None
    return None


def _last_word(text: str) -> int:
    """Characters after the last whitespace of ``text``."""
    return len(text) - max(text.rfind(" "), text.rfind("\n")) - 1
