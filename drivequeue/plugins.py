"""Plugins: the modules that declare job kinds and, for workers, their handlers (docs/plugins.md).

A plugin module defines ``KINDS`` (a list of ``JobKind``) and, to be served,
``handlers(context)`` returning ``{kind name: handler}`` (``handlers_of``). Plugins are found in
three places, in this order: the ``drivequeue.plugins`` entry points of the
installed packages, ``DRIVEQUEUE_PLUGINS`` (comma-separated module names, read
here and nowhere else) and ``--plugin MODULE`` on the command line.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .env import Env
from .errors import ConfigError
from .kinds import JobKind, by_name

ENTRY_POINT_GROUP = "drivequeue.plugins"
ENV_VAR = "DRIVEQUEUE_PLUGINS"


class PluginError(ConfigError):
    """A plugin cannot be imported, or does not declare what docs/plugins.md asks for."""


@dataclass(frozen=True)
class Plugin:
    """A plugin: ``module`` defines ``KINDS`` and, to be served, ``handlers(context)``. It is
    an imported module, or any object that defines them (``Plugin.of``)."""

    name: str
    module: Any
    kinds: tuple[JobKind, ...]

    @classmethod
    def of(cls, name: str, module: Any) -> Plugin:
        """``module`` as a plugin named ``name``; ``PluginError`` unless it defines what docs/plugins.md asks for."""
        kinds = getattr(module, "KINDS", None)
        if not isinstance(kinds, (list, tuple)) or not all(isinstance(kind, JobKind) for kind in kinds):
            raise PluginError(f"plugin {name!r} must define KINDS, a list of drivequeue.kinds.JobKind")
        handlers = getattr(module, "handlers", None)
        if handlers is not None and not callable(handlers):
            raise PluginError(f"plugin {name!r}: handlers must be a function of the worker")
        return cls(name=name, module=module, kinds=tuple(kinds))


def module_names(extra: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> list[str]:
    """Plugin modules to load: entry points, then ``DRIVEQUEUE_PLUGINS``, then ``extra``; each once."""
    names = [entry.value for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    names += [name.strip() for name in Env(environ).text(ENV_VAR, "").split(",") if name.strip()]
    names += list(extra)
    return list(dict.fromkeys(names))


def load(extra: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> list[Plugin]:
    """Import every plugin module; ``PluginError`` says which one is broken and why."""
    return [_import(name) for name in module_names(extra, environ)]


def kinds_of(plugins: Iterable[Plugin]) -> dict[str, JobKind]:
    """Every kind the plugins declare, by name."""
    try:
        return by_name(kind for plugin in plugins for kind in plugin.kinds)
    except ValueError as exc:
        raise PluginError(str(exc)) from None


@functools.cache
def _default_kinds() -> dict[str, JobKind]:
    return kinds_of(load())


def default_kinds() -> dict[str, JobKind]:
    """The kinds of the installed plugins and ``DRIVEQUEUE_PLUGINS``, loaded once per process."""
    return dict(_default_kinds())


def handlers_of(plugins: Iterable[Plugin], context: Any, kinds: Mapping[str, JobKind]) -> dict[str, Any]:
    """``{kind name: handler}`` from every plugin's ``handlers(context)``, in order (a later plugin's
    handler for a kind replaces an earlier one's); ``PluginError`` for a kind not in ``kinds``."""
    found: dict[str, Any] = {}
    for plugin in plugins:
        make = getattr(plugin.module, "handlers", None)
        if make is None:
            continue
        for kind, handler in make(context).items():
            if kind not in kinds:
                raise PluginError(f"plugin {plugin.name!r} has a handler for {kind!r}, a kind no plugin declares")
            found[kind] = handler
    return found


def _import(name: str) -> Plugin:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"plugin {name!r} cannot be imported: {exc}") from None
    return Plugin.of(name, module)
