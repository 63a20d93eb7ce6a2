"""Final writes of claims (complete, fail, crash, release) that met a store outage, retried until they land.

A claim whose final write fails stays open and held by the heartbeat
(``drivequeue.Claim``), so the worker keeps the ending and tries it again with its
backoff: an outage at the moment a job ends costs no attempt, and the job gets the
ending it earned rather than being taken over once the outage is past.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .errors import JobStateError, LeaseLost, StoreUnavailable
from .worker import Claim

log = logging.getLogger(__name__)


Ending = tuple[Claim, Callable[[], None], str | None]


class Endings:
    """Endings still to be written, in the order they were decided."""

    def __init__(self) -> None:
        self._pending: list[Ending] = []

    def __len__(self) -> int:
        return len(self._pending)

    def end(self, claim: Claim, finish: Callable[[], None], done: str | None = None) -> None:
        """Run ``finish`` (e.g. ``claim.complete``) and log ``done`` once it is written.

        On a store outage the ending is kept for ``retry``; a claim that is no
        longer this worker's (``LeaseLost``) is dropped with a warning.
        """
        ending = (claim, finish, done)
        try:
            _write(ending)
        except StoreUnavailable as exc:
            log.warning("%s job %s: its end is not written yet (%s); retrying", claim.kind, claim.job_key, exc)
            self._pending.append(ending)

    def retry(self) -> None:
        """Try every kept ending again; ``StoreUnavailable`` if some still could not be written."""
        pending, self._pending = self._pending, []
        outage: StoreUnavailable | None = None
        for ending in pending:
            try:
                _write(ending, retried=True)
            except StoreUnavailable as exc:
                self._pending.append(ending)
                outage = outage or exc
        if outage is not None:
            raise outage


def _write(ending: Ending, retried: bool = False) -> None:
    claim, finish, done = ending
    try:
        finish()
    except (LeaseLost, JobStateError) as exc:
        log.warning("%s job %s dropped: %s", claim.kind, claim.job_key, exc)
        return
    if done is not None or retried:
        log.info("%s", done or f"{claim.kind} job {claim.job_key}: its end is written")
