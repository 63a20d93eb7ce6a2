"""Sampling knobs and the counter-based random numbers behind them.

Randomness is a pure function of ``(random_seed, the story's tokens so far, position in
the story, vocabulary index)``: a 32-bit integer hash (Chris Wellons' "lowbias32"), turned
into Gumbel noise. The tokens so far enter as a running hash (:func:`fold`), so two stories
drawn with the same random seed part ways as soon as their texts differ and never fall into
step again. Sampling is ``argmax(logits / temperature + bias +
gumbel)`` (the Gumbel-max trick: an exact draw from the softmax), so

* a story draws the same characters whether it is decoded alone or in a batch, and when it
  is resumed in a fresh batch from its text;
* there is no generator state: the decode loop can be captured in a CUDA graph.

Ties at float precision aside: a batch computes its logits with other matrix shapes than a
single story, and a prime is fed with the sequence kernel rather than step by step, so
logits may differ in the last bit; only a draw whose two best candidates lie that close
can then change (see ``docs`` in ``generation.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import torch

_M32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


@dataclass(frozen=True)
class SamplingParams:
    """How one story is sampled.

    temperature: divides the logits; 0 means greedy (always the likeliest character).
    top_k: keep only the k likeliest characters (0: off; 1: greedy).
    top_p: keep the smallest set of likeliest characters whose probability reaches p (1.0: off).
    random_seed: same seed, same story text -> same continuation; None picks one at random.
    max_line_chars: the longest line (a runaway sentence is cut at a word boundary; see generation.py).

    A value out of range is a ``ValueError`` naming ``colab-worker generate``'s flag, the one
    place a person types these directly (a queued story's payload is checked first, more tightly).
    """

    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    random_seed: int | None = None
    max_line_chars: int = 400

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 10.0:
            raise ValueError(f"--temperature must be a number from 0 to 10, not {self.temperature:g}")
        if not (isinstance(self.top_k, int) and 0 <= self.top_k <= 10_000):
            raise ValueError(f"--top-k must be a whole number from 0 (off) to 10000, not {self.top_k!r}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"--top-p must be a number above 0 and at most 1, not {self.top_p:g}")
        if self.random_seed is not None and not (isinstance(self.random_seed, int) and 0 <= self.random_seed < 2**63):
            raise ValueError(f"--random-seed must be a whole number from 0 to {2**63 - 1}, not {self.random_seed!r}")
        if not (isinstance(self.max_line_chars, int) and 1 <= self.max_line_chars <= 10_000):
            raise ValueError(f"--max-line-chars must be a whole number from 1 to 10000, not {self.max_line_chars!r}")

    @property
    def filtering(self) -> bool:
        return self.top_k > 0 or self.top_p < 1.0

    def with_seed(self) -> "SamplingParams":
        """These parameters with ``random_seed`` fixed (drawn at random when it is None)."""
        if self.random_seed is not None:
            return self
        return SamplingParams(self.temperature, self.top_k, self.top_p, secrets.randbits(63), self.max_line_chars)


def _mul32(x: torch.Tensor, constant: int) -> torch.Tensor:
    """``x * constant mod 2**32`` for int64 tensors holding 32-bit values, without int64 overflow."""
    low = x * (constant & 0xFFFF)
    high = ((x * (constant >> 16)) & 0xFFFF) << 16
    return (low + high) & _M32


def hash32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 on an int64 tensor of 32-bit values (elementwise)."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


# lowbias32's multipliers as int32 values (the second one's bits, read as a signed number)
_K1, _K2 = 0x7FEB352D, 0x846CA68B - (1 << 32)


def hash32_wrapping(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 on an int32 tensor, bit for bit :func:`hash32`: products wrap modulo 2**32
    (two's complement, as the CPU's and the GPU's integer units do) and the right shifts are
    arithmetic ones masked to logical ones. Half the operations on half the bytes of the int64
    form: it hashes the [stories, vocabulary] block drawn for every token."""
    x = x ^ ((x >> 16) & 0xFFFF)
    x = x * _K1
    x = x ^ ((x >> 15) & 0x1FFFF)
    x = x * _K2
    return x ^ ((x >> 16) & 0xFFFF)


def _as_int32(x: torch.Tensor) -> torch.Tensor:
    """32-bit values held in int64 -> the int32 with the same bits."""
    return torch.where(x >= 1 << 31, x - (1 << 32), x).to(torch.int32)


def fold(history: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
    """The running hash of a story's tokens, one more token folded in (elementwise)."""
    return hash32(history ^ token)


def history_hash(tokens: list[int]) -> int:
    """:func:`fold` over ``tokens`` from the empty history, in plain integers (once when a story is fed)."""
    history = _GOLDEN
    for token in tokens:
        x = history ^ token
        x ^= x >> 16
        x = (x * 0x7FEB352D) & _M32
        x ^= x >> 15
        x = (x * 0x846CA68B) & _M32
        history = x ^ (x >> 16)
    return history


def seed32(random_seed: int) -> int:
    """A 63-bit seed folded to 32 bits (in Python: once per story)."""
    low, high = random_seed & _M32, (random_seed >> 32) & _M32
    return int(hash32(torch.tensor([low ^ int(hash32(torch.tensor([high ^ _GOLDEN]))[0])]))[0])


def uniform_noise(seeds: torch.Tensor, positions: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Uniform numbers in (0, 1) of shape ``positions.shape + (vocab_size,)``.

    ``seeds`` [batch] are 32-bit story seeds, ``positions`` [batch, ...] the positions in the
    story of the characters being drawn.
    """
    seeds = seeds.reshape(seeds.shape + (1,) * (positions.dim() - 1))
    key = _as_int32(hash32(seeds ^ hash32((positions & _M32) ^ _GOLDEN)))
    columns = hash32_wrapping(torch.arange(vocab_size, device=positions.device, dtype=torch.int32) * 2 + 1)
    bits = hash32_wrapping(key.unsqueeze(-1) ^ columns)
    return (((bits >> 8) & 0xFFFFFF).to(torch.float32) + 0.5) * (1.0 / (1 << 24))


def gumbel_noise(seeds: torch.Tensor, positions: torch.Tensor, vocab_size: int) -> torch.Tensor:
    return -torch.log(-torch.log(uniform_noise(seeds, positions, vocab_size)))


def filter_top_k_top_p(scores: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Set to -inf every score outside each row's top-k and then top-p set.

    ``scores`` [batch, vocab] are temperature-scaled logits (-inf: excluded already);
    ``top_k`` [batch] int (0: off), ``top_p`` [batch] float (1.0: off). Top-p keeps the
    smallest prefix of the sorted distribution (after top-k) whose mass reaches p.
    """
    vocab_size = scores.shape[1]
    ranked, _ = scores.sort(dim=1, descending=True)
    ranks = torch.arange(vocab_size, device=scores.device)
    k = torch.where(top_k > 0, top_k, vocab_size)
    in_k = ranks.unsqueeze(0) < k.unsqueeze(1)
    probs = torch.softmax(ranked.masked_fill(~in_k, float("-inf")), dim=1)
    mass_before = probs.cumsum(dim=1) - probs
    keep = in_k & (mass_before < top_p.unsqueeze(1))
    last = keep.sum(dim=1, keepdim=True).clamp_min(1) - 1
    return scores.masked_fill(scores < ranked.gather(1, last), float("-inf"))
