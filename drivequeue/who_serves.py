"""Which workers serve a job: those whose heartbeat announces its kind and payload version
(``name vN``) and, for a kind with an ``offer_field``, offers what the job names there.

Every reader asks the same question of the same heartbeats, so the CLI, the web API and
``drivequeue top`` agree on what a queued job waits for and on which jobs are ahead of it.
"""

from __future__ import annotations

from typing import Any

from .state import JobView


def needs(view: JobView) -> tuple[str, str | None, Any]:
    """``(kind and version, offer field or None, the value it asks for)``."""
    if view.kind is None:
        return view.waiting_for or view.job.kind, None, None
    offer = view.kind.offer_field
    return (f"{view.kind.name} v{view.job.payload.get('v', view.kind.version)}", offer,
            view.payload.get(offer) if offer is not None else None)


def serves(worker: dict[str, Any], view: JobView) -> bool:
    """Whether ``worker`` (an entry of ``Queue.workers``) would take ``view``'s job."""
    label, offer, wanted = needs(view)
    return label in worker.get("kinds", []) and (offer is None or wanted in worker.get("offers", []))


def unserved(view: JobView, online: list[dict[str, Any]]) -> str | None:
    """What ``view``'s job waits for when no worker of ``online`` serves it (``story v2 with
    model 'tales'``); None if one does, or if its job file cannot be read."""
    if view.job is None or any(serves(worker, view) for worker in online):
        return None
    label, offer, wanted = needs(view)
    return label + (f" with {offer} {wanted!r}" if offer is not None else "")
