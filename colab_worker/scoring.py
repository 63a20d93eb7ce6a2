r"""Scoring a whole text: its negative log-likelihood under a model, in nats per character.

The text is read once, in order, ``chunk`` tokens per forward pass, with the LSTM state
carried from the first token to the last. Every token is scored, the first one too: the
model first reads ``START`` (a paragraph break, what precedes every book in the training
text, as ``corpus.read_corpus`` joins the books) and predicts the text from there. The total
is divided by the number of characters of the text, whatever the tokenization, so character
and subword models compare on one scale. (For a character model, a character the vocabulary
encodes as several ids, a fallback such as ``…`` -> ``...``, costs the sum of their negative
log-likelihoods, and one it cannot encode costs that of ``UNK``.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .checkpoint import LoadedModel
from .generation import START


@dataclass(frozen=True)
class Score:
    chars: int
    nll: float  # nats, summed over the text

    @property
    def nats_per_char(self) -> float:
        return self.nll / self.chars if self.chars else float("nan")


@torch.no_grad()
def score_text(loaded: LoadedModel, text: str, device: torch.device | str = "cpu", chunk: int = 2048,
               progress: Callable[[int], None] | None = None) -> Score:
    """The total negative log-likelihood of ``text`` (see the module docstring);
    ``progress(n)`` is called after each chunk with the number of tokens it scored."""
    model, vocab = loaded.model, loaded.vocab
    was_training = model.training
    model.eval()
    ids = torch.tensor(vocab.encode(START) + vocab.encode(text), dtype=torch.long, device=device)
    first_target = len(vocab.encode(START)) - 1  # targets[i] is ids[i + 1]: the text starts here
    total, state = 0.0, None
    for start in range(0, len(ids) - 1, chunk):
        inputs = ids[start:start + chunk].unsqueeze(0)
        targets = ids[start + 1:start + chunk + 1].unsqueeze(0)
        inputs = inputs[:, :targets.shape[1]]
        logits, state = model(inputs, state)
        losses = F.cross_entropy(logits[0], targets[0], reduction="none")
        skip = max(0, first_target - start)
        total += losses[skip:].sum().item()
        if progress:
            progress(targets.shape[1])
    model.train(was_training)
    return Score(chars=len(text), nll=total)
