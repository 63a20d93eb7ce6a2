"""The plain page of a job that is not a story (a train job): its kind, state, progress, result
and output, and the buttons that stop it. Like the story page it works without JavaScript;
while the job runs, it refreshes itself."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from drivequeue import JobStatus
from drivequeue.errors import InvalidPayload, JobStateError

from .forms import CancelForm
from .job_messages import describe_job
from .stories import Stories

bp = Blueprint("jobs", __name__)

#: how often the page asks again while the job runs (training progress changes slowly)
JOB_POLL_MS = 2000
#: what a kind's "stop and keep" button says (kinds whose cancel may carry ``keep``)
KEEP_LABELS = {"train": "Stop and keep the model so far"}


def _stories() -> Stories:
    return current_app.extensions["stories"]


@bp.get("/jobs/<story_id:job_id>")
def job(job_id: str):
    """A job's page; a story's is the story page."""
    status = _stories().job(job_id)
    if status.kind in (None, "story"):
        return redirect(url_for("pages.story", story_id=job_id), code=303)
    return _render_job(status)


@bp.post("/jobs/<story_id:job_id>/cancel")
def cancel_job(job_id: str):
    """Cancel the job; with ``keep``, stop it and keep what it has made so far."""
    form = CancelForm()
    status = _stories().job(job_id)
    if not form.validate():
        return _render_job(status), 400
    options = {"keep": True} if request.form.get("keep") and _keeps(status) else None
    try:
        _stories().cancel_job(job_id, options)
    except (JobStateError, InvalidPayload) as error:  # it ended while the page was open
        return _render_job(_stories().job(job_id), problem=str(error)), 409
    return redirect(url_for("jobs.job", job_id=job_id), code=303)


def _keeps(status: JobStatus) -> bool:
    """Whether a cancel of this job's kind may ask to keep what it has made."""
    kind = _stories().queue.kinds.get(status.kind)
    return kind is not None and "keep" in kind.cancel_fields


def _render_job(status: JobStatus, problem: str | None = None) -> str:
    kind = status.kind or "unknown"
    return render_template(
        "job.html",
        status=status,
        title="Training job" if kind == "train" else f"A {kind} job",
        message=describe_job(status, _stories().workers()),
        settings={name: value for name, value in (status.payload or {}).items() if name != "v"},
        result=json.dumps(status.result, indent=1, ensure_ascii=False) if status.result is not None else None,
        keep_label=KEEP_LABELS.get(kind, "Stop and keep what it has so far") if _keeps(status) else None,
        problem=problem,
        poll_ms=max(JOB_POLL_MS, int(_stories().read_period * 1000)),
    )
