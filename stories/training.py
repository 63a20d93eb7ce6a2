"""The story model's shape and how it is trained, without torch, and the one list of the options a
person sets.

``ModelConfig`` and ``TrainConfig`` are what the worker builds and trains the model from
(``colab_worker.model``, ``colab_worker.train``). ``TRAIN_OPTIONS`` names the options a person
sets: the same name everywhere (``--seq-len`` on ``colab-worker train`` and ``drivequeue submit
train``, ``seq_len`` in a train job's payload and on its page), the setting each one sets, its
range, and its default, read from that setting's dataclass field: a change of a default there
reaches every tool. ``flops_per_token`` and ``expected_seconds`` turn a worker's measured training
speed into the time a train job should take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from drivequeue.errors import InvalidPayload
from drivequeue.kinds import Field, flag, integer, matching, number

#: the tokenizers a model can be trained with: the shipped model's (byte-level BPE, it covers any
#: text), one learned from the corpus, or characters (``bpe`` and ``chars`` are also the type
#: names stored in a model file)
SHIPPED, BPE, CHARS = "shipped", "bpe", "chars"
#: the size of the shipped tokenizer's vocabulary
SHIPPED_VOCAB = 4096
#: the vocabulary a character model is taken to have when its corpus is not read yet
TYPICAL_CHARS = 100


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a :class:`colab_worker.model.LSTMModel`; stored in every checkpoint.

    ``tie_embeddings``: the output layer reuses the input embedding's weights (Press & Wolf,
    2017), which needs ``embedding_dim == hidden_size``; it halves the weights a large
    subword vocabulary costs."""

    vocab_size: int
    embedding_dim: int = 0  # 0: as wide as the LSTM (hidden_size)
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.1
    tie_embeddings: bool = True

    def __post_init__(self) -> None:
        if not self.embedding_dim:
            object.__setattr__(self, "embedding_dim", self.hidden_size)
        if self.tie_embeddings and self.embedding_dim != self.hidden_size:
            raise ValueError(f"tied embeddings need embedding_dim == hidden_size, "
                             f"not {self.embedding_dim} and {self.hidden_size}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; stored in the training checkpoint and the model's metadata."""

    seq_len: int = 128             # tokens
    batch_size: int = 32
    lr: float = 3e-3
    lr_schedule: str = "plateau"   # "plateau": decay on stalls; "cosine": to lr/10 at max_steps
    lr_decay: float = 0.5          # learning rate factor after `lr_patience` evaluations without progress
    lr_patience: int = 2
    patience: int = 6              # stop after this many evaluations without progress
    min_improvement: float = 0.001  # nats/char that count as progress
    max_epochs: int = 60
    max_steps: int = 2000          # 0: no limit other than max_epochs and early stopping
    eval_every: int = 200          # steps
    eval_blocks: int = 0           # held-out blocks scored at each evaluation, evenly spaced (0: all)
    checkpoint_every_s: float = 120.0
    grad_clip: float = 1.0
    tokenizer: str = SHIPPED       # see SHIPPED, BPE, CHARS above
    vocab_size: int = 4096         # tokens a learned BPE tokenizer holds
    clean: bool = True             # leave what is not prose out of the training text (see cleaning.py)
    unk_rate: float = 0.002        # chars: share of input characters replaced by UNK so its embedding is learned
    min_char_count: int = 1        # chars: rarer characters are left out of the vocabulary (see vocab.py)
    seed: int = 1234

    def __post_init__(self) -> None:
        """A ``ValueError`` naming the setting as ``colab-worker train`` spells its flag, for a
        value training cannot run with (the options' flags check their own ranges first)."""
        if self.tokenizer not in (SHIPPED, BPE, CHARS):
            raise ValueError(f"unknown tokenizer {self.tokenizer!r}: use {SHIPPED}, {BPE} or {CHARS}")
        if self.lr_schedule not in ("plateau", "cosine"):
            raise ValueError(f"unknown learning rate schedule {self.lr_schedule!r}: use plateau or cosine")
        if self.lr_schedule == "cosine" and not self.max_steps:
            raise ValueError("the cosine learning rate schedule needs a step limit (steps above 0)")
        for name, least in _LEAST.items():
            if not getattr(self, name) >= least:
                raise ValueError(f"{name.replace('_', '-')} must be at least {least}, not {getattr(self, name)}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr-decay must be above 0 and at most 1, not {self.lr_decay}")
        if not 0 <= self.unk_rate < 1:
            raise ValueError(f"unk-rate must be at least 0 and below 1, not {self.unk_rate}")


#: the least value of each numeric ``TrainConfig`` setting that training can run with
_LEAST = {"seq_len": 1, "batch_size": 1, "lr_patience": 1, "patience": 1, "min_improvement": 0, "max_epochs": 1,
          "eval_every": 1, "eval_blocks": 0, "checkpoint_every_s": 0, "grad_clip": 0, "vocab_size": 256,
          "min_char_count": 1}


@dataclass(frozen=True)
class TrainOption:
    """One option a person sets: ``name`` (payload) and ``flag`` (command lines), the ``field`` of
    ``config`` it sets, a checker of its range, and what it does."""

    name: str
    config: type
    field: str
    check: Callable[[str, Any], Any]
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def default(self) -> Any:
        default = next(f.default for f in fields(self.config) if f.name == self.field)
        assert default is not MISSING, f"{self.config.__name__}.{self.field} has no default"
        return default


TRAIN_OPTIONS = (
    TrainOption("steps", TrainConfig, "max_steps", integer(0, 1_000_000),
                "optimizer steps (0: until the validation loss stops improving)"),
    TrainOption("tokenizer", TrainConfig, "tokenizer",
                matching(re.compile(f"{SHIPPED}|{BPE}|{CHARS}"), f"{SHIPPED}, {BPE} or {CHARS}"),
                f"{SHIPPED}: the shipped model's subword tokens (they cover any text); {BPE}: subword tokens "
                f"learned from the corpus; {CHARS}: one token a character"),
    TrainOption("vocab_size", TrainConfig, "vocab_size", integer(256, 65_536),
                f"tokens the learned tokenizer holds ({BPE} only)"),
    TrainOption("hidden_size", ModelConfig, "hidden_size", integer(16, 4096), "LSTM width"),
    TrainOption("layers", ModelConfig, "num_layers", integer(1, 8), "LSTM layers"),
    TrainOption("embedding_dim", ModelConfig, "embedding_dim", integer(0, 4096),
                "size of a token's embedding (0: as wide as the LSTM)"),
    TrainOption("tie_embeddings", ModelConfig, "tie_embeddings", flag,
                "the output layer shares the embedding's weights (needs embedding-dim = hidden-size)"),
    TrainOption("dropout", ModelConfig, "dropout", number(0.0, 0.9), "dropout between the layers"),
    TrainOption("seq_len", TrainConfig, "seq_len", integer(8, 4096), "tokens per training sequence"),
    TrainOption("batch_size", TrainConfig, "batch_size", integer(1, 1024), "sequences per step"),
    TrainOption("learning_rate", TrainConfig, "lr", number(1e-6, 1.0), "Adam's learning rate"),
    TrainOption("random_seed", TrainConfig, "seed", integer(0, 2**32 - 1),
                "the same seed, corpus and settings give the same model"),
)
OPTIONS_BY_NAME = {option.name: option for option in TRAIN_OPTIONS}


def payload_fields() -> dict[str, Field]:
    """The train kind's payload fields for the options, each with its default."""
    return {option.name: Field(option.check, option.default) for option in TRAIN_OPTIONS}


def check_shape(payload: Mapping[str, Any]) -> None:
    """A rule across the options: the model they describe can be built (tied embeddings)."""
    try:
        model_settings(payload, vocab_size=1)
    except ValueError as exc:
        raise InvalidPayload(str(exc).replace("embedding_dim", "embedding-dim").replace("hidden_size", "hidden-size"),
                             field="tie_embeddings") from None


def model_settings(options: Mapping[str, Any], vocab_size: int) -> ModelConfig:
    """The model shape the ``options`` (by name, defaults for those left out) describe."""
    return ModelConfig(vocab_size=vocab_size, **settings_of(ModelConfig, options))


def train_settings(options: Mapping[str, Any], **others: Any) -> TrainConfig:
    """The training settings the ``options`` describe; ``others``: further ``TrainConfig`` fields."""
    return TrainConfig(**{**settings_of(TrainConfig, options), **others})


def settings_of(config: type, options: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: value}`` of ``config`` (``ModelConfig`` or ``TrainConfig``) that the ``options``
    (by name; defaults for those left out or None) set."""
    return {option.field: options[option.name] if options.get(option.name) is not None else option.default
            for option in TRAIN_OPTIONS if option.config is config}


def flops_per_token(options: Mapping[str, Any]) -> float:
    """Floating-point operations to train on one token (forward and backward, about three
    times the forward's multiply-adds doubled) with the model the ``options`` describe."""
    shape = model_settings(options, vocab_size=1)
    tokenizer = options.get("tokenizer") or OPTIONS_BY_NAME["tokenizer"].default
    vocab = {SHIPPED: SHIPPED_VOCAB, CHARS: TYPICAL_CHARS}.get(
        tokenizer, options.get("vocab_size") or OPTIONS_BY_NAME["vocab_size"].default)
    width = shape.hidden_size
    lstm = sum(4 * width * ((shape.embedding_dim if layer == 0 else width) + width)
               for layer in range(shape.num_layers))
    return 3 * 2 * (lstm + width * vocab)


def expected_seconds(options: Mapping[str, Any], flops_per_second: float) -> float | None:
    """How long training with ``options`` takes at ``flops_per_second`` (None: no step limit)."""
    steps = options.get("steps") if options.get("steps") is not None else OPTIONS_BY_NAME["steps"].default
    if not steps:
        return None
    batch = options.get("batch_size") or OPTIONS_BY_NAME["batch_size"].default
    length = options.get("seq_len") or OPTIONS_BY_NAME["seq_len"].default
    return steps * batch * length * flops_per_token(options) / flops_per_second
