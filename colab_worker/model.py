"""The LSTM language model (over characters or subword tokens); its shape, ``ModelConfig``, is
``stories.training``'s."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from stories.training import ModelConfig

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each [num_layers, batch, hidden_size]


class LSTMModel(nn.Module):
    """Embedding -> multi-layer LSTM -> linear head giving next-token logits.

    ``forward`` and ``advance`` run whole sequences through cuDNN/oneDNN (training, feeding a
    prime); ``step`` advances one token with LSTM-cell kernels on the same weights, so a
    decode loop can be captured in a CUDA graph and needs no cuDNN workspace.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_embeddings:
            self.head.weight = self.embedding.weight

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        dtype = self.head.weight.dtype
        device = device if device is not None else self.head.weight.device
        return torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``ids`` [batch, time] -> logits [batch, time, vocab], final state."""
        if state is None:
            state = self.initial_state(ids.shape[0], ids.device)
        out, state = self.lstm(self.embedding(ids), state)
        return self.head(self.drop(out)), state

    def advance(self, ids: torch.Tensor, state: State | None = None, chunk: int = 4096) -> State:
        """Feed ``ids`` [batch, time] and return only the final state (no logits), ``chunk``
        tokens at a time so a long prime needs little memory."""
        if state is None:
            state = self.initial_state(ids.shape[0], ids.device)
        for start in range(0, ids.shape[1], chunk):
            _, state = self.lstm(self.embedding(ids[:, start:start + chunk]), state)
        return state

    def step_weights(self) -> tuple:
        """The tensors ``step`` reads, looked up once (a decode loop passes them to every step)."""
        cells = tuple(
            tuple(getattr(self.lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for layer in range(self.config.num_layers)
        )
        return self.embedding.weight, cells, self.head.weight, self.head.bias

    def step(self, ids: torch.Tensor, hs: list[torch.Tensor], cs: list[torch.Tensor], weights: tuple | None = None
             ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """One token per row, eval mode: ``ids`` [batch], per-layer ``hs``/``cs`` [batch, hidden]
        -> logits [batch, vocab] and the new per-layer states (``torch.lstm_cell``, a fused kernel on CUDA).
        ``weights``: ``step_weights()``, to skip looking them up."""
        embedding, cells, head_weight, head_bias = weights or self.step_weights()
        x = F.embedding(ids, embedding)
        new_hs, new_cs = [], []
        for layer, cell in enumerate(cells):
            h, c = torch.lstm_cell(x, (hs[layer], cs[layer]), *cell)
            new_hs.append(h)
            new_cs.append(c)
            x = h
        return F.linear(x, head_weight, head_bias), new_hs, new_cs
