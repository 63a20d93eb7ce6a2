"""What the page of a job that is not a story (a train job) says about its state, in one sentence."""

from __future__ import annotations

from drivequeue import JobState, JobStatus
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
    if state is JobState.DONE:
        return f"Done after {status.result['steps']:,} steps: {_published(status.result)}." if train else "Done."
    if status.stopping:
        return "Stopping: the worker ends the job."
    if train and status.result:
        return f"Stopped at step {status.result['steps']:,} as asked: {_published(status.result)}."
    return "Cancelled: nothing was kept."


def _training(progress) -> str:
    if progress.get("step") is None:
        return "Training (no step reported yet)"
    doing = f"Training: step {progress['step']:,}" + (f" of {progress['of']:,}" if progress.get("of") else "")
    if progress.get("best_val_loss") is not None:
        doing += f", best validation loss so far {progress['best_val_loss']:.3f} nats/char"
    if progress.get("eta_s") is not None:
        minutes = round(progress["eta_s"] / 60)
        doing += ", under a minute left" if minutes < 1 else f", about {minutes} minute{'s' if minutes != 1 else ''} left"
    return doing


def _published(result: dict) -> str:
    return f"model {result['model']!r} published (best validation loss {result['best_val_loss']:.3f} nats/char)"

