"""Plugins: the modules that declare job kinds and, for workers, their handlers (docs/plugins.md).

A plugin module defines ``KINDS`` (a list of ``JobKind``) and, to be served,
``handlers(context)`` returning ``{kind name: handler}`` (``handlers_of``), or declares kinds
with ``@drivequeue.kind`` (``drivequeue.function_kind``), which bring their handlers along.
A worker calls ``handlers`` only when it serves one of the plugin's kinds
(``context.kinds``), so a plugin keeps heavy imports (torch) inside it. Plugins are found in
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
from .function_kind import FunctionKind
from .kinds import JobKind, by_name

ENTRY_POINT_GROUP = "drivequeue.plugins"
ENV_VAR = "DRIVEQUEUE_PLUGINS"


class PluginError(ConfigError):
    """A plugin cannot be imported, or does not declare what docs/plugins.md asks for."""


@dataclass(frozen=True)
class Plugin:
    """A plugin: ``module`` defines ``KINDS`` and, to be served, ``handlers(context)``, or
    declares kinds with ``@drivequeue.kind`` (``functions``). It is an imported module, or any
    object that defines them (``Plugin.of``)."""

    name: str
    module: Any
    kinds: tuple[JobKind, ...]  # its ``KINDS`` and its kinds declared by functions
    functions: tuple[FunctionKind, ...] = ()

    @property
    def serves(self) -> bool:
        """Whether it gives workers handlers (``handlers(context)`` or kinds declared by functions)."""
        return bool(self.functions) or getattr(self.module, "handlers", None) is not None

    def handlers(self, context: Any) -> dict[str, Any]:
        made = {function.job_kind.name: function.handler for function in self.functions}
        make = getattr(self.module, "handlers", None)
        if make is not None:
            made.update(make(context))
        return made

    @classmethod
    def of(cls, name: str, module: Any) -> Plugin:
        """``module`` as a plugin named ``name``; ``PluginError`` unless it defines what docs/plugins.md asks for."""
        functions = tuple(value for value in getattr(module, "__dict__", {}).values()
                          if isinstance(value, FunctionKind) and value.__module__ == getattr(module, "__name__", None))
        kinds = getattr(module, "KINDS", [] if functions else None)
        if not isinstance(kinds, (list, tuple)) or not all(isinstance(kind, JobKind) for kind in kinds):
            raise PluginError(f"plugin {name!r} must define KINDS, a list of drivequeue.kinds.JobKind, "
                              "or declare a kind with @drivequeue.kind")
        handlers = getattr(module, "handlers", None)
        if handlers is not None and not callable(handlers):
            raise PluginError(f"plugin {name!r}: handlers must be a function of the worker")
        return cls(name=name, module=module, kinds=(*kinds, *(f.job_kind for f in functions)), functions=functions)


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


def served_kinds(plugins: Iterable[Plugin], requested: Iterable[str] | None) -> set[str]:
    """The kinds a generic worker serves: ``requested`` (each one a kind the plugins declare),
    else every kind of the plugins that have handlers, but those that a worker serves
    only when asked (``JobKind.serve_by_default`` false: a model, a GPU)."""
    plugins = list(plugins)
    known = kinds_of(plugins)
    if requested is not None:
        requested = set(requested)
        unknown = sorted(requested - set(known))
        if unknown:
            raise PluginError(f"no loaded plugin declares the job kind {unknown[0]!r} "
                              f"(known kinds: {', '.join(sorted(known)) or 'none'})")
        return requested
    return {kind.name for plugin in plugins if plugin.serves for kind in plugin.kinds if kind.serve_by_default}


def handlers_of(plugins: Iterable[Plugin], context: Any, kinds: Mapping[str, JobKind],
                serve: set[str] | None = None) -> dict[str, Any]:
    """``{kind name: handler}`` from the plugins' ``handlers(context)``, in order (a later plugin's
    handler for a kind replaces an earlier one's); ``PluginError`` for a kind not in ``kinds``.
    ``serve``: only these kinds, and only the plugins that declare one of them are asked."""
    found: dict[str, Any] = {}
    for plugin in plugins:
        if not plugin.serves or (serve is not None and not serve & {kind.name for kind in plugin.kinds}):
            continue
        for kind, handler in plugin.handlers(context).items():
            if kind not in kinds:
                raise PluginError(f"plugin {plugin.name!r} has a handler for {kind!r}, a kind no plugin declares")
            if serve is None or kind in serve:
                found[kind] = handler
    return found


def _import(name: str) -> Plugin:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"plugin {name!r} cannot be imported: {exc}") from None
    return Plugin.of(name, module)
