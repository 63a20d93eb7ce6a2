"""Every interval the queue uses, in one place, read once from the environment.

Each store class holds the defaults that suit it (``default_timing``: a
local folder is cheap, every Drive call counts against a quota, Redis pushes
its changes). Tests build small ``Timing`` objects so that leases expire in a
second instead of a minute; nothing else in the package hard-codes a duration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from .env import Env
from .errors import ConfigError


@dataclass(frozen=True)
class Timing:
    """Intervals in seconds (``max_attempts`` is a count).

    lease          an observer declares a worker dead after seeing no new heartbeat for this long
    heartbeat      how often a worker rewrites its heartbeat file
    poll           how long an idle worker or a follower waits between looks at the queue
    check          a claim holder re-reads cancel and takeover markers at most this often
    flush          on stores where writes are costly, coalesce a job's output to one write per this
    backoff_max    cap of the exponential backoff after store errors
    max_attempts   used-up attempts (crash or vanished worker) after which a job fails
    retention      finished jobs and dead workers' files are removed by ``gc`` after this long
    max_queue_wait ``gc`` fails a job that waited this long without any worker taking it
    gc_interval    a worker runs ``gc`` this often (0: never; run it from cron or by hand)
    read           a reader serving many watchers (the web app) re-reads one job at most this often
    """

    lease: float = 10.0
    heartbeat: float = 2.0
    poll: float = 1.0
    check: float = 1.0
    flush: float = 0.0
    backoff_max: float = 10.0
    max_attempts: int = 3
    retention: float = 7 * 24 * 3600.0
    max_queue_wait: float = 6 * 3600.0
    gc_interval: float = 600.0
    read: float = 0.1

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"timing {field.name} must be a non-negative number, got {value!r}")
        if self.lease <= 0 or self.heartbeat <= 0 or self.poll <= 0:
            raise ConfigError("timing lease, heartbeat and poll must be positive")
        if self.heartbeat >= self.lease * FENCE_FRACTION / 2:
            raise ConfigError(
                f"timing heartbeat ({self.heartbeat}s) must be well under the lease ({self.lease}s): "
                f"at most {self.lease * FENCE_FRACTION / 2:g}s"
            )
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ConfigError("timing max_attempts must be a positive integer")

    @property
    def fence(self) -> float:
        """A claim holder stops writing once its own last heartbeat is this old."""
        return self.lease * FENCE_FRACTION

    @classmethod
    def from_env(cls, base: Timing | None = None, environ: Mapping[str, str] | None = None) -> Timing:
        """``base`` (a store's ``default_timing``; else these field defaults), overridden by
        ``DRIVEQUEUE_<FIELD>`` variables."""
        env = Env(environ)
        base = cls() if base is None else base
        return replace(base, **{
            field.name: env.number("DRIVEQUEUE_" + field.name.upper(), int if field.name == "max_attempts" else float,
                                   getattr(base, field.name))
            for field in fields(cls)})


#: a holder fences itself after this fraction of the lease without a successful heartbeat
FENCE_FRACTION = 0.8

