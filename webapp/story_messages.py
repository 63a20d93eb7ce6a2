"""What the story page says about a story's state, in one sentence a visitor can trust.

The same sentence is rendered by the server and served by the API, so the page
and a script never disagree.
"""

from __future__ import annotations

import time

from drivequeue.status import JobState, JobStatus
from stories.kinds import DEFAULT_MODEL

#: how the model named ``default`` is called on the pages
SHIPPED = "the shipped model"


def describe(status: JobStatus, workers: list[dict], now: float | None = None) -> str:
    """One honest sentence about a story's ``status`` given the known ``workers``."""
    state = status.state
    if state is JobState.QUEUED:
        return _queued(status, workers, time.time() if now is None else now)
    if state is JobState.RUNNING:
        return _running(status)
    if state is JobState.DONE:
        return f"Done: {_lines_written(status)}."
    if state is JobState.FAILED:
        return f"Failed: {status.error or 'the worker gave no reason'}."
    if status.stopping:
        return "Stopping: the worker ends the story after the line it is writing."
    return f"Cancelled: {_lines_written(status)}."


def _lines_written(status: JobStatus) -> str:
    count = status.line_count
    return f"{count} line{'s' if count != 1 else ''} written"


def _queued(status: JobStatus, workers: list[dict], now: float) -> str:
    ahead = (status.queue_position or 1) - 1
    if ahead:
        where = f"Queued: {ahead} {'story is' if ahead == 1 else 'stories are'} ahead of yours."
    else:
        where = "Queued: yours is next."
    if status.attempt:  # a worker took it and let go (stopped, or vanished)
        where += f" A worker stopped while writing it; the next one resumes after line {status.line_count}."
    if any(worker.get("online") for worker in workers):
        return where + unserved_note(status)
    seen = [w["last_seen"] for w in workers if w.get("last_seen")]
    if not seen:  # none ever, or none that is remembered: a worker that stopped cleanly leaves no trace
        return where + " No worker is online: it is written when one starts."
    minutes = max(0, int((now - max(seen)) // 60))
    if minutes < 1:
        return where + " No worker is online right now (the last one left under a minute ago)."
    return where + f" No worker has been online for {minutes} minute{'s' if minutes != 1 else ''}."


def unserved_note(status: JobStatus) -> str:
    """What a queued job waits for while the workers online cannot run it (another model, a
    kind or version they do not serve); nothing when one can."""
    if not status.waiting_for:
        return ""
    return f" No worker online can run it (it needs {status.waiting_for}): it starts when one that can comes."


def _running(status: JobStatus) -> str:
    progress = status.progress
    # The worker reports line k of the n lines the newest request asked for (after a
    # continue too). Before its first report, the lines written so far say as much for
    # a first request; a continued story's count of this request's lines is not known yet.
    if progress.get("line") and progress.get("of"):
        doing = f"Writing line {progress['line']} of {progress['of']}"
    elif status.segments == 1 and status.lines_requested:
        doing = f"Writing line {status.line_count + 1} of {status.lines_requested}"
    else:
        doing = "Writing more lines"
    if status.worker is not None and status.worker.host:
        doing += " on " + where_it_runs(status.worker.to_dict())
    return doing + "."


def where_it_runs(worker: dict) -> str:
    """The worker and its device in a visitor's words: "worker colab-7f's Tesla T4 GPU"."""
    host, device = worker.get("host") or "unnamed", (worker.get("device") or "").strip()
    kind, _, name = device.partition(":")
    name = name.strip()
    if kind == "cuda":
        # "cuda:0" is a device number, "cuda: Tesla T4" a name
        return f"worker {host}'s {name} GPU" if name and not name.isdigit() else f"worker {host}'s GPU"
    if kind == "cpu":
        return f"worker {host}'s processor (no GPU)"
    return f"worker {host} ({device})" if device else f"worker {host}"


def workers_line(workers: list[dict]) -> str:
    """The start page's word on who would write a story now."""
    online = [w for w in workers if w.get("online")]
    if not online:
        return "No worker is online: your story will wait in the queue until the owner starts one."
    first = online[0]
    others = f" and {len(online) - 1} more" if len(online) > 1 else ""
    models = sorted({m for w in online for m in w.get("offers") or []})  # the models the workers write with
    return f"A worker is online: stories are written on {where_it_runs(first)}{others}{_with_models(models)}."


def _with_models(models: list[str]) -> str:
    """", with the shipped model" / ", with the shipped model or the model grimm-v2"."""
    names = [SHIPPED if name == DEFAULT_MODEL else f"the model {name}" for name in models]
    if not names:
        return ""
    return f", with {names[0]}" if len(names) == 1 else f", with {', '.join(names[:-1])} or {names[-1]}"
