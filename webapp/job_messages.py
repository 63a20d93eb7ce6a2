"""What the page of a job that is not a story (a train job) says about its state, in one sentence."""

from __future__ import annotations

import math

from drivequeue import JobState, JobStatus
from drivequeue.errors import shown
from stories.kinds import TRAIN

from .story_messages import unserved_note, where_it_runs


def describe_job(status: JobStatus, workers: list[dict]) -> str:
    """One honest sentence about ``status`` given the known ``workers``."""
    state, train = status.state, status.kind == TRAIN.name
    if state is JobState.QUEUED:
        ahead = (status.queue_position or 1) - 1
        where = f"Queued: {ahead} job{'s' if ahead != 1 else ''} ahead of it." if ahead else "Queued: it is next."
        if any(w.get("online") for w in workers):
            return where + unserved_note(status)
        return where + " No worker is online right now."
    if state is JobState.RUNNING:
        doing = _training(status.progress) if train else "Running"
        return doing + (f" on {where_it_runs(status.worker.to_dict())}" if status.worker else "") + "."
    if state is JobState.FAILED:
        return f"Failed: {status.error or 'the worker gave no reason'}."
    kept = _kept(status.result) if train else None
    if state is JobState.DONE:
        return f"Done after {kept[0]:,.0f} steps: {kept[1]}." if kept else "Done."
    if status.stopping:
        return "Stopping: the worker ends the job."
    if kept:
        return f"Stopped at step {kept[0]:,.0f} as asked: {kept[1]}."
    return "Cancelled: nothing was kept." if not status.result else "Cancelled."


def _training(progress) -> str:
    """What a train job's progress report says; a value of another type than the train handler
    writes (an older or a damaged output) is left out."""
    step, of, loss, eta = (progress.get(name) for name in ("step", "of", "best_val_loss", "eta_s"))
    if not _number(step):
        return "Training (no step reported yet)"
    doing = f"Training: step {step:,.0f}" + (f" of {of:,.0f}" if _number(of) and of else "")
    if _number(loss):
        doing += f", best validation loss so far {loss:.3f} nats/char"
    if _number(eta):
        minutes = round(eta / 60)
        doing += ", under a minute left" if minutes < 1 else f", about {minutes} minute{'s' if minutes != 1 else ''} left"
    return doing


def _kept(result: object) -> tuple[float, str] | None:
    """The steps of a train job's result and the words for the model it published; None for a
    result without them (an older or a damaged output)."""
    if not isinstance(result, dict):
        return None
    steps, model, loss = result.get("steps"), result.get("model"), result.get("best_val_loss")
    if not (_number(steps) and isinstance(model, str) and _number(loss)):
        return None
    return steps, f"model {shown(model)} published (best validation loss {loss:.3f} nats/char)"


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

