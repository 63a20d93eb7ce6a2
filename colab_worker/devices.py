"""Which torch device the worker runs on, and how it names it and its memory in its heartbeat."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .config import ConfigError


def pick_device(name: str) -> torch.device:
    """``auto`` is the GPU when one is visible, else the CPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name} asked for, but no CUDA GPU is visible; attach one or use --device cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"device {name} asked for, but only {torch.cuda.device_count()} GPU(s) are visible")
    return device


def describe(device: torch.device) -> str:
    """``cpu`` or the GPU's name, e.g. ``cuda: Tesla T4``."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type


def memory_probe(device: torch.device) -> Callable[[], dict] | None:
    """For the heartbeat's report: the GPU's name and the bytes of its memory in use and free
    (every process's, as ``nvidia-smi`` counts them); None on the CPU."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)

    def probe() -> dict:
        free, total = torch.cuda.mem_get_info(device)
        return {"name": name, "memory_used": total - free, "memory_free": free}

    return probe
