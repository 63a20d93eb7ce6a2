"""Model files: one ``torch.save`` dict, read back with ``torch.load(weights_only=True)``.

A model file holds::

    {"format": "lstm", "version": 2,
     "config": ModelConfig as a dict,
     "tokenizer": {"type": "bpe", "json": the tokenizer's JSON}
                  or {"type": "chars", "chars": the vocabulary's characters},
     "state_dict": weights (a tied output layer's weights are stored once, as the embedding's),
     "metadata": {"corpus": ..., "steps": ..., "best_val_loss": ..., "text_format": "paragraphs"}}

Files of the first format (``{"format": "charlstm", "version": 1, "vocab": characters, ...}``,
every model shipped before subword models) are still read, as character models.

``metadata["text_format"]`` says what text the model was trained on: ``"paragraphs"``
(unwrapped: one line a paragraph, paragraphs separated by a blank line; its stories are
written in sentence lines) or ``"wrapped"`` (hard-wrapped lines, as the first models were;
their lines end at a newline). See :func:`text_format`.

A training checkpoint is the same dict plus ``"training"`` (optimizer state, step,
position in the data, loss history, random-generator state, the settings it was trained with
and the best model's weights) so an interrupted run resumes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from stories.training import CHARS, ModelConfig

from .model import LSTMModel
from .tokenizer import BPE, BPETokenizer
from .vocab import Vocab

FORMAT, VERSION = "lstm", 2
_FIRST_FORMAT = ("charlstm", 1)
_TIED_HEAD = "head.weight"

#: what turns text into a model's ids and back
Tokenizer = BPETokenizer | Vocab
PARAGRAPHS, WRAPPED = "paragraphs", "wrapped"
MODELS_DIR = Path(__file__).resolve().parent / "models"


class CheckpointError(Exception):
    """A model file is missing, unreadable, or not one this code can load."""


@dataclass
class LoadedModel:
    """A model ready to run (eval mode), with what is needed to feed it text."""

    model: LSTMModel
    vocab: Tokenizer
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


def tokenizer_spec(tokenizer: Tokenizer) -> dict:
    if isinstance(tokenizer, BPETokenizer):
        return {"type": BPE, "json": tokenizer.to_json()}
    return {"type": CHARS, "chars": tokenizer.chars}


def tokenizer_from_spec(spec: object) -> Tokenizer:
    """The tokenizer a model file describes; ``ValueError`` when it describes none."""
    if isinstance(spec, dict) and spec.get("type") == BPE and isinstance(spec.get("json"), str):
        return BPETokenizer.from_json(spec["json"])
    if isinstance(spec, dict) and spec.get("type") == CHARS and isinstance(spec.get("chars"), str):
        return Vocab(spec["chars"])
    raise ValueError(f"unknown tokenizer {str(spec)[:80]!r}")


def model_payload(model: LSTMModel, vocab: Tokenizer, metadata: dict) -> dict:
    weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if model.config.tie_embeddings:
        del weights[_TIED_HEAD]
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "tokenizer": tokenizer_spec(vocab),
        "state_dict": weights,
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


def save_model(path: str | Path, model: LSTMModel, vocab: Tokenizer, metadata: dict) -> None:
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
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, _FIRST_FORMAT[0]):
        raise CheckpointError(f"{path} is not a model file of this project")
    if (payload.get("format"), payload.get("version")) == _FIRST_FORMAT:
        if "vocab" not in payload:
            raise CheckpointError(f"{path} lacks 'vocab'")
        payload["tokenizer"] = {"type": CHARS, "chars": payload.pop("vocab")}
        if isinstance(payload.get("config"), dict):
            payload["config"].setdefault("tie_embeddings", False)  # a field of the second format
    elif payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has format version {payload.get('version')!r}, which this code does not "
                              f"read: update colab-worker to load it")
    for key in ("config", "tokenizer", "state_dict", "metadata"):
        if key not in payload:
            raise CheckpointError(f"{path} lacks {key!r}")
    return payload


def build_model(payload: dict, source: str | Path = "checkpoint") -> tuple[LSTMModel, Tokenizer, ModelConfig]:
    """Model (train mode, CPU) and tokenizer from a checked payload."""
    known = {f.name for f in fields(ModelConfig)}
    config_dict = payload["config"]
    if not isinstance(config_dict, dict) or set(config_dict) - known:
        raise CheckpointError(f"{source} has a model config this code does not know: {config_dict!r}")
    try:
        config = ModelConfig(**config_dict)
        vocab = tokenizer_from_spec(payload["tokenizer"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source} has a bad config or tokenizer: {exc}") from exc
    if len(vocab) != config.vocab_size:
        raise CheckpointError(f"{source}: vocabulary of {len(vocab)} ids but config says {config.vocab_size}")
    model = LSTMModel(config)
    weights = payload["state_dict"]
    if config.tie_embeddings and isinstance(weights, dict) and "embedding.weight" in weights:
        weights = {**weights, _TIED_HEAD: weights["embedding.weight"]}
    try:
        model.load_state_dict(weights)
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


def export_model(source: str | Path, out: str | Path, half: bool = False,
                 sentence_end_bias: dict | None = None) -> int:
    """Write ``source`` (a model or training checkpoint) to ``out`` as a model to ship: no
    training state, weights in 16 bits with ``half``, ``sentence_end_bias`` (see
    ``generation.py``) in its metadata. Returns the size of the file written."""
    payload = read_payload(source)
    build_model(payload, source)  # refuse to export what would not load
    payload.pop("training", None)
    if half:
        payload["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    if sentence_end_bias is not None:
        payload["metadata"] = {**payload["metadata"], "sentence_end_bias": sentence_end_bias}
    save_atomic(payload, out)
    return Path(out).stat().st_size


def shipped_tokenizer() -> Tokenizer:
    """The tokenizer of the shipped model (``"default"``): it encodes any text."""
    payload = read_payload(resolve("default"))
    try:
        return tokenizer_from_spec(payload["tokenizer"])
    except ValueError as exc:
        raise CheckpointError(f"the shipped model's tokenizer is unreadable: {exc}") from exc
