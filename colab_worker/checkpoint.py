"""Model files: one ``torch.save`` dict, read back with ``torch.load(weights_only=True)``.

A model file holds::

    {"format": "charlstm", "version": 1,
     "config": ModelConfig as a dict, "vocab": the vocabulary's characters,
     "state_dict": weights, "metadata": {"corpus": ..., "steps": ..., "best_val_loss": ...,
                                         "text_format": "paragraphs"}}

``metadata["text_format"]`` says what text the model was trained on: ``"paragraphs"``
(unwrapped: one line a paragraph, paragraphs separated by a blank line; its stories are
written in sentence lines) or ``"wrapped"`` (hard-wrapped lines, as the first models were;
their lines end at a newline). See :func:`text_format`.

A training checkpoint is the same dict plus ``"training"`` (optimizer state, step,
position in the data, loss history, random-generator state) so an interrupted run resumes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .model import CharLSTM, ModelConfig
from .vocab import Vocab

FORMAT = "charlstm"
VERSION = 1
PARAGRAPHS, WRAPPED = "paragraphs", "wrapped"
MODELS_DIR = Path(__file__).resolve().parent / "models"


class CheckpointError(Exception):
    """A model file is missing, unreadable, or not one this code can load."""


@dataclass
class LoadedModel:
    """A model ready to run (eval mode), with what is needed to feed it text."""

    model: CharLSTM
    vocab: Vocab
    config: ModelConfig
    metadata: dict

    @property
    def text_format(self) -> str:
        return text_format(self.metadata)


def text_format(metadata: dict) -> str:
    """``"paragraphs"`` or ``"wrapped"``: the training text of a model with this metadata.

    Models made before the format was recorded say nothing; those trained by the code that
    first unwrapped the text are recognised by the ``min_char_count`` training setting that
    came with it, and older ones were trained on wrapped text.
    """
    recorded = metadata.get("text_format")
    if recorded in (PARAGRAPHS, WRAPPED):
        return recorded
    train_config = metadata.get("train_config")
    return PARAGRAPHS if isinstance(train_config, dict) and "min_char_count" in train_config else WRAPPED


def resolve(name_or_path: str | Path) -> Path:
    """A bare name such as ``"default"`` means ``colab_worker/models/<name>.pt``; anything else is a path."""
    text = str(name_or_path)
    if text and "/" not in text and os.sep not in text and not text.endswith(".pt"):
        return MODELS_DIR / f"{text}.pt"
    return Path(text)


def model_payload(model: CharLSTM, vocab: Vocab, metadata: dict) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "vocab": vocab.chars,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "metadata": metadata,
    }


def save_atomic(payload: dict, path: str | Path) -> None:
    """Write to a temporary file beside ``path`` and rename, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(path: str | Path, model: CharLSTM, vocab: Vocab, metadata: dict) -> None:
    """A shippable model file: weights, config, vocabulary and metadata, no optimizer state."""
    save_atomic(model_payload(model, vocab, metadata), path)


def read_payload(path: str | Path) -> dict:
    """The checked dict of a model or training checkpoint file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no model file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged archive surfaces as any of a dozen exception types
        raise CheckpointError(f"{path} is not a readable model file ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} model file")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has format version {payload.get('version')!r}; this code reads {VERSION}")
    for key in ("config", "vocab", "state_dict", "metadata"):
        if key not in payload:
            raise CheckpointError(f"{path} lacks {key!r}")
    return payload


def build_model(payload: dict, source: str | Path = "checkpoint") -> tuple[CharLSTM, Vocab, ModelConfig]:
    """Model (train mode, CPU) and vocabulary from a checked payload."""
    known = {f.name for f in fields(ModelConfig)}
    config_dict = payload["config"]
    if not isinstance(config_dict, dict) or set(config_dict) - known:
        raise CheckpointError(f"{source} has a model config this code does not know: {config_dict!r}")
    try:
        config = ModelConfig(**config_dict)
        vocab = Vocab(payload["vocab"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source} has a bad config or vocabulary: {exc}") from exc
    if len(vocab) != config.vocab_size:
        raise CheckpointError(f"{source}: vocabulary of {len(vocab)} ids but config says {config.vocab_size}")
    model = CharLSTM(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{source}: weights do not fit the config ({exc})") from exc
    return model, vocab, config


def load_model(name_or_path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """Load ``"default"`` (the shipped model), another name in ``colab_worker/models/``, or a path.

    Returns the model in eval mode on ``device``; raises :class:`CheckpointError` for a
    missing, corrupt or incompatible file.
    """
    path = resolve(name_or_path)
    payload = read_payload(path)
    model, vocab, config = build_model(payload, path)
    model.to(device).eval()
    return LoadedModel(model=model, vocab=vocab, config=config, metadata=dict(payload["metadata"]))
