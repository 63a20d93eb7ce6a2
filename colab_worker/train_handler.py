"""Train jobs: train a model on a pushed corpus, a plain-function handler run in a thread beside the stories.

The job's output lines are its progress (step, losses, time left). Its training
checkpoint is kept in the queue as the job's scratch file ``checkpoint.pt`` (at
most every ``checkpoint_seconds``, and always on a warm stop), so whichever worker
takes the job after a reset resumes from there instead of from step 0 (it is
removed as the job ends, however it ends). The finished model is published as
``models/<name>.pt`` (see ``model_shelf``), where story jobs can ask for it by name.
A cancel with ``keep`` stops training and publishes the best model so far.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from drivequeue import JobFailed
from drivequeue.function_handler import Job, Stopped
from stories.kinds import train_job_settings
from stories.training import ModelConfig, settings_of, train_settings

from .checkpoint import CheckpointError, read_payload
from .model_shelf import ModelShelf
from .train import Progress, train
from .train_speed import TrainingSpeed

log = logging.getLogger(__name__)

#: seconds between two progress lines written between evaluations
PROGRESS_LINE_SECONDS = 15.0
#: a job's steps tell this worker's training speed once it has trained this long
SPEED_SECONDS = 10.0
CHECKPOINT = "checkpoint.pt"


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def progress_line(p: Progress, steps: int) -> str:
    val = f"  val {p.val_loss:.3f}" if p.val_loss is not None else ""
    of = f"/{steps}" if steps else ""
    return f"step {p.step}{of}  loss {p.train_loss:.3f}{val}  eta {duration(p.eta_s)}"


class TrainHandler:
    """The ``train`` kind's handler: a plain function of the serve loop (one job at a time)."""

    concurrency = 1

    def __init__(self, shelf: ModelShelf, device, checkpoint_seconds: float, speed: TrainingSpeed):
        self.shelf = shelf
        self.device = device
        self.checkpoint_seconds = checkpoint_seconds
        self.speed = speed

    def __call__(self, payload: dict, job: Job) -> dict:
        return TrainJob(payload, job, self).run()


class TrainJob:
    """One attempt at a train job."""

    def __init__(self, payload: dict, job: Job, handler: TrainHandler):
        self.payload = payload
        self.job = job
        self.shelf = handler.shelf
        self.device = handler.device
        self.checkpoint_seconds = handler.checkpoint_seconds
        self.speed = handler.speed
        self._last_push = float("-inf")  # the first checkpoint is always uploaded
        self._last_line = float("-inf")
        self._first_step: tuple[float, int] | None = None  # (when, step) of the first step this attempt made

    def run(self) -> dict:
        p, job = self.payload, self.job
        name, steps = p["model"], p["steps"]
        corpus = job.fetch(p["corpus"], job.workdir / "corpus" / p["corpus"].rsplit("/", 1)[-1])
        checkpoint = job.workdir / "checkpoint.pt"
        start = self._fetch_checkpoint(checkpoint)
        resumed = f", resuming from step {start}" if start else ""
        how_long = f"for {steps} steps" if steps else "until the validation loss stops improving"
        log.info("train job %s: training %s on %s %s on %s%s", job.key, name, p["corpus"], how_long, self.device,
                 resumed)
        job.say(f"training {name} on {p['corpus']} {how_long} on {self.device}{resumed}")
        options, settings = train_job_settings(p)
        config = train_settings(options, checkpoint_every_s=self.checkpoint_seconds, **settings,
                                **({"eval_every": min(200, max(1, steps // 10))} if steps else {}))
        out = job.workdir / "model.pt"
        try:
            result = train(
                [corpus], out, settings_of(ModelConfig, options), config,
                checkpoint_path=checkpoint, resume=True, device=self.device,
                progress_callback=lambda progress: self._progress(progress, options, steps),
                should_stop=job.should_stop, on_checkpoint=self._checkpointed, plot=False,
            )
        except ValueError as exc:  # a corpus it cannot train on
            raise JobFailed(str(exc)) from None
        stopped_by = result.stopped_by.replace("_", " ")
        if result.stopped_by == "should_stop":
            if not (job.cancelled and job.cancel_options.get("keep")):
                raise Stopped(f"at step {result.steps}")
            if not out.exists():
                raise Stopped(f"at step {result.steps}, before its first evaluation: there is no model to keep")
            stopped_by = "stopped by request"
        job.retrying(lambda: self.shelf.publish(name, out))
        job.say(f"ended after {result.steps} steps ({stopped_by}): best validation "
                f"loss {result.best_val_loss:.3f} nats/char; model {name!r} published")
        return {"model": name, "steps": result.steps, "best_val_loss": result.best_val_loss, "stopped_by": stopped_by}

    def _fetch_checkpoint(self, target: Path) -> int:
        """Download this job's checkpoint if an earlier attempt uploaded one; the step it holds."""
        if not self.job.load_scratch(CHECKPOINT, target):
            target.unlink(missing_ok=True)  # only what reached the queue counts
            return 0
        try:
            return int(read_payload(target)["training"]["state"]["step"])
        except (CheckpointError, KeyError, TypeError, ValueError) as exc:
            log.warning("train job %s: its checkpoint is unreadable (%s); starting afresh", self.job.key, exc)
            target.unlink()
            return 0

    # -- callbacks from the training loop ----------------------------------------------------------

    def _progress(self, progress: Progress, options: dict, steps: int) -> None:
        now = time.monotonic()
        if progress.val_loss is not None or now - self._last_line >= PROGRESS_LINE_SECONDS:
            self._last_line = now
            self.job.append([progress_line(progress, steps)])
        self.job.progress({"step": progress.step, "of": steps or None, "train_loss": progress.train_loss,
                           "best_val_loss": progress.best_val_loss, "eta_s": progress.eta_s})
        if self._first_step is None:
            self._first_step = (now, progress.step)
        elif now - self._first_step[0] >= SPEED_SECONDS:  # this worker's speed, for the next estimate
            self.speed.observed(options, progress.step - self._first_step[1], now - self._first_step[0])

    def _checkpointed(self, path: Path) -> None:
        if self.job.cancelled:
            return  # the job ends here: its scratch files are removed, not added to
        if not self.job.should_stop() and time.monotonic() - self._last_push < self.checkpoint_seconds:
            return
        self.job.save_scratch(path, CHECKPOINT)
        self._last_push = time.monotonic()
