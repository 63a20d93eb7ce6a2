"""Train jobs: train a model on a pushed corpus, in a thread beside the stories.

The job's output lines are its progress (step, losses, time left). Its training
checkpoint is pushed to the queue as ``checkpoints/<job key>.pt`` (at most every
``checkpoint_seconds``, and always on a warm stop), so whichever worker takes the
job after a reset resumes from there instead of from step 0 (``gc`` removes it once
the job has ended). The finished model
is published as ``models/<name>.pt`` (see ``model_shelf``), where story jobs can
ask for it by name.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from pathlib import Path

from drivequeue import Claim, JobStateError, LeaseLost, NotFound, StoreUnavailable
from drivequeue import files as pushed_files
from drivequeue.errors import ChecksumMismatch

from .backoff import Backoff
from .checkpoint import CheckpointError, read_payload
from .model_shelf import ModelShelf
from .shutdown import Shutdown
from .train import Progress, TrainConfig, train

log = logging.getLogger(__name__)

#: seconds between two progress lines written between evaluations
PROGRESS_LINE_SECONDS = 15.0
#: seconds between two progress reports (the status readers' bar)
PROGRESS_SECONDS = 1.0


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def progress_line(p: Progress, steps: int) -> str:
    val = f"  val {p.val_loss:.3f}" if p.val_loss is not None else ""
    return f"step {p.step}/{steps}  loss {p.train_loss:.3f}{val}  eta {duration(p.eta_s)}"


class TrainHandler:
    """At most one train job at a time, run in its own thread."""

    def __init__(self, shelf: ModelShelf, device, stop: Shutdown, checkpoint_seconds: float):
        self.shelf = shelf
        self.device = device
        self.stop = stop
        self.checkpoint_seconds = checkpoint_seconds
        self._thread: threading.Thread | None = None

    @property
    def idle(self) -> bool:
        return self._thread is None

    def start(self, claim: Claim) -> None:
        job = TrainJob(claim, self.shelf, self.device, self.stop, self.checkpoint_seconds)
        self._thread = threading.Thread(target=job.run, name=f"train-{claim.job_key}", daemon=True)
        self._thread.start()

    def reap(self) -> None:
        """Forget a train job whose thread has ended (it has ended its claim itself)."""
        if self._thread is not None and not self._thread.is_alive():
            self._thread.join()
            self._thread = None

    def stop_and_wait(self, deadline: float) -> None:
        """Wait (until ``deadline``) for a running job to see the stop, checkpoint and give its job back."""
        if self._thread is None:
            return
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.warning("training did not stop in time; its job resumes from the last uploaded checkpoint")
        else:
            self._thread = None


class TrainJob:
    """One attempt at a train job; ``run`` ends the claim whatever happens."""

    def __init__(self, claim: Claim, shelf: ModelShelf, device, stop: Shutdown, checkpoint_seconds: float):
        self.claim = claim
        self.shelf = shelf
        self.store = shelf.store
        self.device = device
        self.stop = stop
        self.checkpoint_seconds = checkpoint_seconds
        self.payload = claim.payload
        self.workdir = shelf.cache_dir / "training" / claim.job_key
        self._lost: str | None = None
        self._cancelled = False
        self._last_push = float("-inf")  # the first checkpoint is always uploaded
        self._last_line = float("-inf")
        self._last_progress = float("-inf")
        self._held_since: float | None = None  # a progress line a coalescing store may still hold

    def run(self) -> None:
        key = self.claim.job_key
        try:
            self._train()
        except LeaseLost as exc:
            log.warning("train job %s dropped: %s", key, exc)
        except ChecksumMismatch as exc:
            self._end(lambda: self.claim.crash(str(exc)), f"crashed: {exc}")
        except StoreUnavailable as exc:  # a stop came while the queue was unavailable: no attempt lost
            self._end(self.claim.release, f"given back: {exc}")
        except (NotFound, ValueError) as exc:  # no such corpus, or a corpus it cannot train on
            self._end(lambda: self.claim.fail(str(exc)), f"failed: {exc}")
        except Exception as exc:  # a bug or a broken device: this attempt crashed
            reason = f"{type(exc).__name__}: {exc}"
            self._end(lambda: self.claim.crash(reason), f"crashed: {reason}")

    # -- the job ---------------------------------------------------------------------------------

    def _train(self) -> None:
        p = self.payload
        name, steps = p["model"], p["steps"]
        self.workdir.mkdir(parents=True, exist_ok=True)
        corpus = self._fetch_corpus(p["corpus"])
        checkpoint = self.workdir / "checkpoint.pt"
        start = self._fetch_checkpoint(checkpoint)
        resumed = f", resuming from step {start}" if start else ""
        log.info("train job %s started: %s on %s for %d steps%s (attempt %d)",
                 self.claim.job_key, name, p["corpus"], steps, resumed, self.claim.attempt)
        self._say(f"training {name} on {p['corpus']} for {steps} steps on {self.device}{resumed}")
        config = TrainConfig(
            seq_len=p["seq_len"], batch_size=p["batch_size"], lr=p["learning_rate"], max_steps=steps,
            eval_every=min(200, max(1, steps // 10)), checkpoint_every_s=self.checkpoint_seconds,
            **({"seed": p["random_seed"]} if p.get("random_seed") is not None else {}),
        )
        out = self.workdir / "model.pt"
        result = train(
            [corpus], out, {"hidden_size": p["hidden_size"], "num_layers": p["layers"]}, config,
            checkpoint_path=checkpoint, resume=True, device=self.device,
            progress_callback=lambda progress: self._progress(progress, steps),
            should_stop=self._should_stop, on_checkpoint=self._checkpointed, plot=False,
        )
        if self._lost is not None:
            raise LeaseLost(self._lost)
        if result.stopped_by == "should_stop":
            if self._cancelled:
                self._end(self.claim.complete, f"cancelled at step {result.steps}")
            else:
                self._end(self.claim.release, f"stopped at step {result.steps}")
            return
        self._retrying(lambda: self.shelf.publish(name, out))
        self._say(f"done after {result.steps} steps ({result.stopped_by.replace('_', ' ')}): best validation "
                  f"loss {result.best_val_loss:.3f} nats/char; model {name!r} published")
        self._end(self.claim.complete, f"done: model {name} published")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _fetch_corpus(self, name: str) -> Path:
        target = self.workdir / "corpus" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._retrying(lambda: pushed_files.pull(self.store, name, target))
        except NotFound:
            raise NotFound(f"no pushed file named {name!r}: upload it first with `drivequeue push`") from None
        return target

    def _fetch_checkpoint(self, target: Path) -> int:
        """Download this job's checkpoint if an earlier attempt uploaded one; the step it holds."""
        name = pushed_files.checkpoint_name(self.claim.job_key)
        try:
            self._retrying(lambda: pushed_files.pull(self.store, name, target))
        except NotFound:
            target.unlink(missing_ok=True)  # only what reached the queue counts
            return 0
        try:
            return int(read_payload(target)["training"]["state"]["step"])
        except (CheckpointError, KeyError, TypeError, ValueError) as exc:
            log.warning("train job %s: its checkpoint is unreadable (%s); starting afresh", self.claim.job_key, exc)
            target.unlink()
            return 0

    # -- callbacks from the training loop ----------------------------------------------------------

    def _progress(self, progress: Progress, steps: int) -> None:
        now = time.monotonic()
        try:
            if progress.val_loss is not None or now - self._last_line >= PROGRESS_LINE_SECONDS:
                self._last_line = self._held_since = now
                self.claim.append([progress_line(progress, steps)])
            elif self._held_since is not None and now - self._held_since >= self.claim.session.timing.flush:
                self._held_since = None
                self.claim.flush()
            if now - self._last_progress >= PROGRESS_SECONDS:
                self._last_progress = now
                self.claim.set_progress({"step": progress.step, "of": steps, "train_loss": progress.train_loss,
                                         "best_val_loss": progress.best_val_loss, "eta_s": progress.eta_s})
        except StoreUnavailable as exc:  # the claim keeps the line and writes it with the next one
            log.warning("train job %s: progress not written yet: %s", self.claim.job_key, exc)
        except LeaseLost as exc:
            self._lost = str(exc)

    def _should_stop(self) -> bool:
        if self._lost is not None or self.stop.requested:
            return True
        try:
            self._cancelled = self.claim.cancelled
        except StoreUnavailable:
            return False
        return self._cancelled

    def _checkpointed(self, path: Path) -> None:
        stopping = self._should_stop()
        if not stopping and time.monotonic() - self._last_push < self.checkpoint_seconds:
            return
        try:
            pushed_files.push(self.store, path, pushed_files.checkpoint_name(self.claim.job_key))
            self._last_push = float("-inf")  # the first checkpoint is always uploaded
        except StoreUnavailable as exc:
            log.warning("train job %s: checkpoint not uploaded: %s", self.claim.job_key, exc)

    # -- helpers -------------------------------------------------------------------------------

    def _say(self, line: str) -> None:
        self._retrying(lambda: self.claim.append([line]))

    def _end(self, finish, what: str) -> None:
        """End the claim with ``finish``, waiting out an outage (a failed final write leaves
        the claim open); if a stop comes first, closing the session tries it once more."""
        try:
            self._retrying(finish)
        except (LeaseLost, JobStateError) as exc:
            log.warning("train job %s dropped: %s", self.claim.job_key, exc)
            return
        except StoreUnavailable:
            log.warning("train job %s: the queue stayed unavailable; its end is tried again as the worker stops",
                        self.claim.job_key)
            return
        log.info("train job %s %s", self.claim.job_key, what)

    def _retrying(self, action):
        """Run ``action``, waiting out store outages; gives up (re-raising) once a stop is requested."""
        backoff = Backoff(self.claim.session.timing.backoff_max)
        while True:
            try:
                return action()
            except StoreUnavailable as exc:
                if self.stop.requested:
                    raise
                delay = backoff.next_delay()
                log.warning("queue store unavailable (%s); retrying in %.1f s", exc, delay)
                self.stop.sleep(delay)
