"""Which torch device the worker runs on, and how it names it in its heartbeat."""

from __future__ import annotations

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
