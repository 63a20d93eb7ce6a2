"""How fast this worker trains the story model, so that a person hears how long a train job
takes before submitting it (``stories.train_estimate``).

Measured as the worker starts, before it serves (a few steps of a small batch of the default model
shape on random tokens, on the worker's device: a fraction of a second), and again by every train
job it runs (its own steps, which replace the first guess); the heartbeat's device report carries it as ``train_flops``: model FLOPs
a second, counted by ``stories.training.flops_per_token``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import torch
from torch.nn import functional as F

from stories.training import BPE, flops_per_token, model_settings

from .model import LSTMModel

log = logging.getLogger(__name__)

#: the first guess: a small batch of the default shape (a few hundredths of a second a step on a
#: CPU core), after one step to warm up
PROBE_BATCH, PROBE_LENGTH, PROBE_STEPS, PROBE_VOCAB = 4, 16, 3, 256


class TrainingSpeed:
    """Model FLOPs a second this worker trains at (None until measured)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.flops_per_second: float | None = None

    def observed(self, options: Mapping[str, Any], steps: int, seconds: float) -> None:
        """A train job with ``options`` made ``steps`` steps in ``seconds``."""
        if steps > 0 and seconds > 0:
            tokens = steps * options["batch_size"] * options["seq_len"]
            self.flops_per_second = tokens * flops_per_token(options) / seconds

    def report(self) -> dict[str, Any]:
        """The part of the heartbeat's device report this adds."""
        return {"train_flops": round(self.flops_per_second)} if self.flops_per_second else {}

    def measure(self) -> None:
        """The first guess, from a few steps of a small batch."""
        options = {"vocab_size": PROBE_VOCAB, "tokenizer": BPE, "batch_size": PROBE_BATCH, "seq_len": PROBE_LENGTH}
        try:
            model = LSTMModel(model_settings(options, vocab_size=PROBE_VOCAB)).to(self.device).train()
            optimizer = torch.optim.Adam(model.parameters())
            tokens = torch.randint(PROBE_VOCAB, (PROBE_BATCH, PROBE_LENGTH + 1), device=self.device)
            started = 0.0
            for step in range(PROBE_STEPS + 1):
                if step == 1:  # after a warm-up step, finished on a GPU before the clock starts
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    started = time.perf_counter()
                logits, _ = model(tokens[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, PROBE_VOCAB), tokens[:, 1:].reshape(-1))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self.observed(options, PROBE_STEPS, time.perf_counter() - started)
        except (RuntimeError, ValueError) as exc:  # out of memory on a busy GPU, say: no estimate
            log.warning("could not measure the training speed: %s", exc)
