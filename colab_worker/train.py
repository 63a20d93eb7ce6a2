"""Training the story model (an LSTM over subword tokens or characters) on a text corpus,
resumable after an interruption.

Usage (through the CLI)::

    colab-worker train corpus/*.txt --out colab_worker/models/mine.pt

The run keeps two files: the best model so far at ``out_path`` (shippable: no optimizer
state) and a training checkpoint (default ``<out>.train.pt``) written every
``checkpoint_every_s`` seconds and at every evaluation, which also holds the best model's
weights. Calling :func:`train` again with the same corpus, ``out_path`` and settings resumes
from that checkpoint, and writes ``out_path`` again from it (a train job resumed on another
machine has only the checkpoint). A loss-curve PNG is written beside the model
(``<out>.loss.png``).

Batches follow char-rnn / ``word_language_model``: the training text is cut into
``batch_size`` parallel streams read ``seq_len`` tokens at a time, carrying the LSTM
state from one window to the next (truncated back-propagation through time). Validation
loss is the cross-entropy over the held-out blocks, each read from an empty state, in nats
per character whatever the tokenization (see :func:`validation_loss`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch.nn import functional as F

from stories.training import BPE, CHARS, SHIPPED, TRAIN_OPTIONS, ModelConfig, TrainConfig

from .checkpoint import (PARAGRAPHS, CheckpointError, Tokenizer, build_model, model_payload, read_payload,
                         save_atomic, shipped_tokenizer)
from .cleaning import clean_prose
from .corpus import book_split, prepare_text, read_books, reference_split
from .devices import pick_device
from .generation import START
from .model import LSTMModel
from .tokenizer import BPETokenizer
from .vocab import UNK_ID, Vocab


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives (after every step and every evaluation)."""

    step: int
    epoch: float
    train_loss: float
    val_loss: float | None
    best_val_loss: float | None
    lr: float
    chars_per_s: float
    eta_s: float | None  # to max_epochs/max_steps; early stopping may end sooner


@dataclass
class TrainResult:
    out_path: Path
    best_val_loss: float
    steps: int
    stopped_by: str  # "early_stopping", "max_epochs", "max_steps", "should_stop"
    history: list[dict] = field(default_factory=list)


@dataclass
class _State:
    """Everything a resumed run needs besides model and optimizer."""

    step: int = 0
    epoch: int = 0
    position: int = 0        # window index within the current epoch
    offset: int = 0          # rotation of the training text for the current epoch
    best_val_loss: float = math.inf
    best_step: int = 0
    bad_evals: int = 0
    lr: float = 0.0
    loss_sum: float = 0.0     # training loss summed since the last evaluation
    loss_count: int = 0
    history: list[dict] = field(default_factory=list)  # {"step", "train_loss", "val_loss", "lr"}


def default_checkpoint_path(out_path: str | Path) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".train.pt")


def loss_curve_path(out_path: str | Path) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".loss.png")


def validation_loss(model: LSTMModel, tokenizer: Tokenizer, blocks: Sequence[str], device: torch.device,
                    chunk: int = 512) -> float:
    """Nats per character of the held-out ``blocks``: each is read after ``START`` from an
    empty state (as ``scoring.score_text`` reads a book) and every one of its tokens is
    scored; the total is divided by the blocks' characters, whatever the tokenization."""
    start = tokenizer.encode(START)
    rows = [start + tokenizer.encode(b) for b in blocks if b]
    if not rows:
        return math.nan
    was_training = model.training
    model.eval()
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    targets = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        targets[i, len(start) - 1:len(r) - 1] = torch.tensor(r[len(start):])
    ids, targets = ids.to(device), targets.to(device)
    total, state = 0.0, None
    with torch.no_grad():
        for a in range(0, width, chunk):
            logits, state = model(ids[:, a:a + chunk], state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[:, a:a + chunk].reshape(-1),
                                     ignore_index=-100, reduction="sum").item()
    model.train(was_training)
    return total / sum(len(b) for b in blocks)


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _describe(corpus_paths: Sequence[str | Path], text: str, held_out: Sequence[str] = ()) -> str:
    names = ", ".join(sorted(Path(p).name for p in corpus_paths)) or "text given in memory"
    kept_out = f"; held out: {', '.join(sorted(held_out))}" if held_out else ""
    return f"{names} ({len(text):,} characters, sha256 {_fingerprint(text)}{kept_out})"


def train(
    corpus_paths: Sequence[str | Path],
    out_path: str | Path,
    model_config: dict | None = None,
    config: TrainConfig = TrainConfig(),
    *,
    text: str | None = None,
    held_out: Sequence[str] = (),
    tokenizer: Tokenizer | None = None,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    device: torch.device | str | None = None,
    progress_callback: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[Path], None] | None = None,
    dry_run: bool = False,
    progress_bar: bool = False,
    plot: bool = True,
) -> TrainResult:
    """Train on ``corpus_paths`` (files, Gutenberg boilerplate stripped) or, when it is empty,
    on ``text``; write the best model to ``out_path`` and return a :class:`TrainResult`.

    ``model_config`` overrides fields of :class:`ModelConfig` (``vocab_size`` comes from the
    tokenizer). ``held_out``: names of corpus files kept out of training (see
    :func:`.corpus.book_split`). ``tokenizer``: the one to train with; by default the shipped model's,
    or one learned from the training text, as ``config.tokenizer`` says (a resumed run keeps
    its checkpoint's). With ``resume`` and an existing checkpoint for the same corpus, model shape
    and data settings (tokenizer, sequence length, batch size, cleaning, random seed), the run
    continues where it stopped (with a learning rate other than the checkpoint's, from that
    rate); a checkpoint for anything else raises :class:`CheckpointError`. ``should_stop()`` is polled every step: when it returns True
    the checkpoint is written and the call returns (``stopped_by="should_stop"``).
    ``on_checkpoint(path)`` runs after each checkpoint write (e.g. to copy it to a queue's
    store). ``dry_run`` trains two steps and evaluates once, for tests.
    """
    if text is None:
        if not corpus_paths:
            raise ValueError("give corpus files or text to train on")
        books = read_books(list(corpus_paths))
        text = "\n".join(books.values())
        split = book_split(books, held_out)
    else:
        text = prepare_text(text)
        split = reference_split(text)
    if len(text) < 100:
        raise ValueError(f"a corpus of {len(text)} characters is too short to train on")
    if dry_run:
        config = replace(config, max_steps=2, eval_every=1, max_epochs=1)
    out_path = Path(out_path)
    checkpoint_path = Path(checkpoint_path) if checkpoint_path else default_checkpoint_path(out_path)
    device = torch.device(device) if device is not None else pick_device("auto")

    train_text = clean_prose(split.train) if config.clean else split.train
    saved = _resumable(checkpoint_path, config) if resume and checkpoint_path.is_file() else None
    if saved is not None:
        tokenizer = build_model(saved, checkpoint_path)[1]
    elif tokenizer is None and config.tokenizer == SHIPPED:
        tokenizer = shipped_tokenizer()
    elif tokenizer is None:
        tokenizer = (BPETokenizer.train(train_text.split("\n"), config.vocab_size) if config.tokenizer == BPE
                     else Vocab.from_text(train_text, config.min_char_count))
    vocab = tokenizer
    mc = ModelConfig(**{**(model_config or {}), "vocab_size": len(vocab)})
    encode = vocab.encode_long if isinstance(vocab, BPETokenizer) else vocab.encode
    train_ids = torch.tensor(encode(train_text), dtype=torch.long)
    chars_per_token = len(train_text) / max(len(train_ids), 1)
    unk_rate = config.unk_rate if isinstance(vocab, Vocab) else 0.0
    held = split.validation
    if 0 < config.eval_blocks < len(held):
        held = [held[i * len(held) // config.eval_blocks] for i in range(config.eval_blocks)]
    streams_len = (len(train_ids) - 1) // config.batch_size
    seq_len = min(config.seq_len, streams_len)
    if seq_len < 1:
        raise ValueError("the training text is too short for this batch size")
    windows_per_epoch = streams_len // seq_len
    corpus = _describe(corpus_paths, text, held_out)

    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    model = LSTMModel(mc)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    st, state = _State(lr=config.lr), None
    best: dict | None = None  # the best model's weights, as its file holds them (the checkpoint keeps them too)
    if saved is not None:
        st, state, best = _restore(saved, checkpoint_path, model, optimizer, generator, mc, vocab, corpus, config)
        if state is not None:
            state = (state[0].to(device), state[1].to(device))
        if best is not None:  # the model file may be gone (a train job resumed on another machine)
            save_atomic({**model_payload(model, vocab, {**_metadata(corpus, st, config), "steps": st.best_step}),
                         "state_dict": best}, out_path)
    model.to(device)
    _optimizer_to(optimizer, device)

    def checkpoint() -> None:
        payload = model_payload(model, vocab, _metadata(corpus, st, config))
        payload["training"] = {
            "optimizer": optimizer.state_dict(),
            "state": asdict(st),
            "config": asdict(config),
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            "carry": None if state is None else (state[0].cpu(), state[1].cpu()),
            "best": best,
        }
        save_atomic(payload, checkpoint_path)
        if on_checkpoint:
            on_checkpoint(checkpoint_path)

    total_steps = config.max_steps or config.max_epochs * windows_per_epoch
    bar = None
    if progress_bar:
        from tqdm import tqdm
        bar = tqdm(total=total_steps, initial=min(st.step, total_steps), unit="step", dynamic_ncols=True)

    stopped_by = "max_epochs"
    last_checkpoint = time.monotonic()
    started, started_step = time.monotonic(), st.step
    inputs = targets = None
    model.train()
    try:
        while True:
            if st.epoch >= config.max_epochs:
                stopped_by = "max_epochs"
                break
            if config.max_steps and st.step >= config.max_steps:
                stopped_by = "max_steps"
                break
            if should_stop and should_stop():
                stopped_by = "should_stop"
                break
            if st.position == 0:
                st.offset = int(torch.randint(len(train_ids), (1,), generator=generator))
                inputs, targets = _streams(train_ids, st.offset, config.batch_size, streams_len)
                state = None
            elif inputs is None:  # resumed within an epoch
                inputs, targets = _streams(train_ids, st.offset, config.batch_size, streams_len)
            if config.lr_schedule == "cosine":
                st.lr = _cosine_lr(config, st.step)
                for group in optimizer.param_groups:
                    group["lr"] = st.lr
            a, b = st.position * seq_len, (st.position + 1) * seq_len
            x = inputs[:, a:b]
            y = targets[:, a:b].to(device)
            if unk_rate > 0:
                x = x.masked_fill(torch.rand(x.shape, generator=generator) < unk_rate, UNK_ID)
            logits, state = model(x.to(device), state)
            state = (state[0].detach(), state[1].detach())
            loss = F.cross_entropy(logits.reshape(-1, mc.vocab_size), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            st.step += 1
            st.position += 1
            if st.position >= windows_per_epoch:
                st.position, st.epoch = 0, st.epoch + 1
            train_loss = loss.item() / chars_per_token
            st.loss_sum, st.loss_count = st.loss_sum + train_loss, st.loss_count + 1

            val = None
            # at every eval_every-th step, at an epoch's end, and at the last step, so that a run
            # of fewer steps than eval_every writes its model too
            if st.step % config.eval_every == 0 or st.position == 0 or st.step == config.max_steps:
                val = validation_loss(model, vocab, held, device)
                st.history.append({"step": st.step, "train_loss": st.loss_sum / st.loss_count,
                                   "val_loss": val, "lr": st.lr})
                st.loss_sum, st.loss_count = 0.0, 0
                if val < st.best_val_loss - config.min_improvement:
                    st.bad_evals = 0
                else:
                    st.bad_evals += 1
                    if config.lr_schedule == "plateau" and st.bad_evals % config.lr_patience == 0:
                        st.lr *= config.lr_decay
                        for group in optimizer.param_groups:
                            group["lr"] = st.lr
                if val < st.best_val_loss:
                    st.best_val_loss, st.best_step = val, st.step
                    shipped = model_payload(model, vocab, _metadata(corpus, st, config))
                    save_atomic(shipped, out_path)
                    best = shipped["state_dict"]
                checkpoint()
                last_checkpoint = time.monotonic()
                if plot:
                    plot_losses(st.history, loss_curve_path(out_path))
                if st.bad_evals >= config.patience:
                    stopped_by = "early_stopping"
                    break
            elif time.monotonic() - last_checkpoint > config.checkpoint_every_s:
                checkpoint()
                last_checkpoint = time.monotonic()

            rate = (st.step - started_step) / max(time.monotonic() - started, 1e-9)
            eta = (total_steps - st.step) / rate if rate > 0 else None
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{train_loss:.3f}", val=f"{st.best_val_loss:.3f}", lr=f"{st.lr:.1e}")
            if progress_callback:
                progress_callback(Progress(
                    step=st.step, epoch=st.epoch + st.position / windows_per_epoch, train_loss=train_loss,
                    val_loss=val, best_val_loss=None if st.best_val_loss == math.inf else st.best_val_loss,
                    lr=st.lr, chars_per_s=rate * seq_len * config.batch_size * chars_per_token, eta_s=eta,
                ))
        checkpoint()
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(out_path=out_path, best_val_loss=st.best_val_loss, steps=st.step,
                       stopped_by=stopped_by, history=list(st.history))


def _cosine_lr(config: TrainConfig, step: int) -> float:
    """From ``lr`` at step 0 down to ``lr / 10`` at ``max_steps``, along half a cosine."""
    progress = min(step / config.max_steps, 1.0)
    return config.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def _metadata(corpus: str, st: _State, config: TrainConfig) -> dict:
    return {
        "corpus": corpus,
        "steps": st.step,
        "best_step": st.best_step,
        "best_val_loss": st.best_val_loss,
        "split": "reference: 10,000-character blocks, every 20th (7, 27, ...) held out",
        "text_format": PARAGRAPHS,
        "train_config": asdict(config),
        "torch": str(torch.__version__),
    }


#: the settings that say what a checkpoint's place in the training data (and its random state)
#: is, which a resumed run keeps; a checkpoint written before a setting existed was trained as
#: its value here says
_RESUME_SETTINGS = {"tokenizer": CHARS, "vocab_size": None, "seq_len": None, "batch_size": None, "clean": False,
                    "seed": None}
_START_AFRESH = "delete it, or start afresh with --fresh"


def _resumable(path: Path, config: TrainConfig) -> dict:
    """The training checkpoint at ``path``, once it is known to be one that a run with
    ``config`` continues; else :class:`CheckpointError` says which setting differs."""
    payload = read_payload(path)
    training = payload.get("training")
    if not isinstance(training, dict):
        raise CheckpointError(f"{path} is a model file, not a training checkpoint")
    trained = {**_RESUME_SETTINGS, **(training.get("config") or {})}
    for name in _RESUME_SETTINGS:
        if name == "vocab_size" and config.tokenizer != BPE:
            continue  # only a learned tokenizer's size is chosen
        if trained[name] != getattr(config, name):
            shown = next((o.name for o in TRAIN_OPTIONS if o.config is TrainConfig and o.field == name), name)
            raise CheckpointError(f"{path} was trained with {shown.replace('_', '-')} {trained[name]}, not "
                                  f"{getattr(config, name)}: resume with the same, or {_START_AFRESH}")
    return payload


def _restore(payload: dict, path: Path, model: LSTMModel, optimizer: torch.optim.Optimizer,
             generator: torch.Generator, mc: ModelConfig, vocab: Tokenizer, corpus: str, config: TrainConfig
             ) -> tuple[_State, tuple | None, dict | None]:
    """Load a training checkpoint (``_resumable``) into ``model``, ``optimizer`` and the random
    generators; return the loop state, the LSTM state carried between windows (None at an
    epoch start) and the best model's weights (None before the first evaluation, and in
    checkpoints written before they were kept). The learning rate goes on where the schedule
    left it, unless ``config`` gives another than the run's: then from that one."""
    saved_model, saved_vocab, saved_config = build_model(payload, path)
    if saved_config != mc or saved_vocab != vocab:
        raise CheckpointError(f"{path} was trained with another model shape or vocabulary; {_START_AFRESH}")
    if payload["metadata"].get("corpus") != corpus:
        raise CheckpointError(f"{path} was trained on another corpus ({payload['metadata'].get('corpus')}); "
                              f"{_START_AFRESH}")
    training = payload["training"]
    model.load_state_dict(saved_model.state_dict())
    optimizer.load_state_dict(training["optimizer"])
    generator.set_state(training["generator"])
    torch.set_rng_state(training["torch_rng"])
    if training.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(training["cuda_rng"])
    st = _State(**training["state"])
    if training["config"].get("lr", config.lr) != config.lr:
        st.lr = config.lr
    for group in optimizer.param_groups:
        group["lr"] = st.lr
    return st, training.get("carry"), training.get("best")


def _streams(ids: torch.Tensor, offset: int, batch_size: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets [batch_size, length]: the text rotated by ``offset`` and cut into parallel streams."""
    data = torch.cat([ids[offset:], ids[:offset]])[: batch_size * length + 1]
    return data[:-1].view(batch_size, length), data[1:].view(batch_size, length)


def _optimizer_to(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    for values in optimizer.state.values():
        for k, v in values.items():
            if isinstance(v, torch.Tensor) and k != "step":
                values[k] = v.to(device)


def plot_losses(history: list[dict], path: Path) -> None:
    """Training and validation loss against steps, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, [h["train_loss"] for h in history], label="training (mean since the previous evaluation)")
    ax.plot(steps, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/char)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
