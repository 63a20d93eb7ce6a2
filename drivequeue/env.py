"""``Env``: settings read from the environment, the one way every package reads them.

Each package names its variables in one place (``webapp.config``,
``colab_worker.config``, ``drivequeue.drive_settings``, ``drivequeue.timing``) and reads
them through this: a variable that is unset or blank means the default, and a value
that cannot be read is a ``ConfigError`` that names the variable and what it holds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from .errors import ConfigError

N = TypeVar("N", int, float)
D = TypeVar("D")


class Env:
    """The variables of ``environ`` (default: ``os.environ``)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def text(self, name: str, default: D = None) -> str | D:
        """The value without surrounding blanks; ``default`` if unset or blank."""
        raw = self.environ.get(name, "").strip()
        return raw or default

    def number(self, name: str, kind: type[N], default: D, *, minimum: N | None = None) -> N | D:
        """The value as an ``int`` or ``float`` (``kind``), finite and at least ``minimum``;
        ``default`` if unset or blank."""
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            value = math.nan
        if isinstance(value, float) and not math.isfinite(value):  # float() reads "nan" and "inf"
            raise ConfigError(f"{name} must be a number, not {raw!r}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be {minimum:g} or more, not {raw!r}")
        return value

    def path(self, name: str, default: D) -> Path | D:
        """The value as a path (``~`` expanded); ``default`` if unset or blank."""
        raw = self.text(name)
        return default if raw is None else Path(raw).expanduser()
