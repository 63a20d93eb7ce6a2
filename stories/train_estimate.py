"""How long a train job should take on each worker that could run it, said before it is submitted.

A worker measures how fast it trains (``colab_worker.train_speed``: model FLOPs a second, as it
starts and again with every train job it runs) and says so in its heartbeat's device report as
``train_flops``; ``stories.training.expected_seconds`` turns that into the job's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .training import TrainConfig, expected_seconds


def estimate_lines(payload: Mapping[str, Any], workers: list[dict]) -> list[str]:
    """One line per online worker that serves this payload's version of the train kind."""
    label = f"train v{payload['v']}"
    able = [w for w in workers if w.get("online") and label in (w.get("kinds") or [])]
    if not able:
        return [f"expected time: unknown, no worker that serves {label} is online (it depends on the "
                "worker that takes the job)"]
    lines = []
    for worker in able:
        who = f"worker {worker['host']} ({worker['device']})"
        speed = ((worker.get("report") or {}).get("device") or {}).get("train_flops")
        if not speed:
            lines.append(f"expected time on {who}: unknown, it has not measured its training speed yet")
            continue
        seconds = expected_seconds(payload, speed)
        if seconds is None:
            lines.append(f"expected time on {who}: no step limit, it trains until the validation loss stops "
                         f"improving (at most {TrainConfig().max_epochs} passes over the corpus)")
        else:
            lines.append(f"expected time on {who}: {about(seconds)}, at the {speed / 1e9:.2g} GFLOP/s it "
                         "measured (early stopping may end it sooner)")
    return lines


def about(seconds: float) -> str:
    """``"about 25 minutes"``, ``"about 2.5 hours"``, ``"under a minute"``."""
    if seconds < 60:
        return "under a minute"
    if seconds < 90 * 60:
        minutes = round(seconds / 60)
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {seconds / 3600:.1f} hours"
