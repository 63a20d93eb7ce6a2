"""Numbers as an operator reads them: ages, sizes in bytes, worker states (the page and ``top``)."""

from __future__ import annotations

from typing import Any


def age(seconds: float) -> str:
    """``4 s``, ``12 min``, ``3 h``, ``2 days`` (a negative age, from a clock ahead: ``0 s``)."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def size(count: float) -> str:
    """``512 B``, ``3.2 MiB``, ``14.8 GiB``."""
    unit = "B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            break
        count /= 1024
    return f"{count:.0f} B" if unit == "B" else f"{count:.1f} {unit}"


def memory(worker: dict[str, Any]) -> str:
    """What a worker's heartbeat says of its device's memory: ``3.0 GiB used, 12.0 GiB free``."""
    device = worker.get("report", {}).get("device", {})
    parts = [f"{size(device[name])} {name.split('_')[1]}" for name in ("memory_used", "memory_free")
             if name in device]
    return ", ".join(parts) or "not reported"


def work(counts: dict[str, float]) -> str:
    """One kind's counts from a heartbeat: ``1,234 lines (31.5 a minute), 12 done, 1 failed``."""
    parts = []
    if counts.get("lines"):
        parts.append(f"{counts['lines']:,.0f} lines ({round(counts.get('lines_per_minute', 0), 1):g} a minute)")
    parts += [f"{counts[state]:,.0f} {state}" for state in ("done", "failed", "crashed", "released", "cancelled")
              if counts.get(state)]
    return ", ".join(parts) or "nothing yet"
