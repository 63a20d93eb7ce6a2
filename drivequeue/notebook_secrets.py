"""Secrets of the notebook platforms a worker runs on: Colab and Kaggle.

Colab keeps them in ``google.colab.userdata`` (the key icon, with *Notebook
access* switched on per secret), Kaggle in ``kaggle_secrets.UserSecretsClient``
(*Add-ons > Secrets*, attached to the notebook). Elsewhere neither module exists
and nothing is found. ``drivequeue.auth`` asks here for ``DRIVEQUEUE_TOKEN``
when no variable names one; the worker notebook copies its settings into the
environment with ``export``, so that ``!drivequeue ...`` cells, which run as
child processes, find them too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ConfigError


class SecretNotReadable(ConfigError):
    """The platform has the secret but this notebook may not read it; the message says how to allow it."""


@dataclass(frozen=True)
class Secret:
    value: str = ""
    #: where it came from, for messages ("the Colab secret DRIVEQUEUE_TOKEN"); never the value
    source: str = ""


def notebook_secret(name: str) -> Secret | None:
    """The secret ``name`` from Colab or Kaggle when running there and it is set, else None."""
    for lookup in (_colab_secret, _kaggle_secret):
        found = lookup(name)
        if found is not None and found.value.strip():
            return found
    return None


def export(names: Iterable[str], environ: dict[str, str] | os._Environ = os.environ) -> dict[str, str]:
    """Copy each secret in ``names`` that is set, and not already in ``environ``, into it.

    Returns ``{name: source}`` for those copied.
    """
    copied = {}
    for name in names:
        if environ.get(name, "").strip():
            continue
        secret = notebook_secret(name)
        if secret is not None:
            environ[name] = secret.value
            copied[name] = secret.source
    return copied


def _colab_secret(name: str) -> Secret | None:
    try:
        from google.colab import userdata
    except ImportError:
        return None
    try:
        return Secret(userdata.get(name), f"the Colab secret {name}")
    except getattr(userdata, "SecretNotFoundError", LookupError):
        return None
    except getattr(userdata, "NotebookAccessError", ()):
        raise SecretNotReadable(
            f"this notebook may not read the Colab secret {name}: switch on "
            "'Notebook access' for it in the Secrets panel (the key icon)"
        ) from None


def _kaggle_secret(name: str) -> Secret | None:
    try:
        import kaggle_secrets
    except ImportError:
        return None
    # CredentialError: not inside a Kaggle session; BackendError: no such secret attached
    missing = tuple(getattr(kaggle_secrets, error, LookupError) for error in ("CredentialError", "BackendError"))
    try:
        return Secret(kaggle_secrets.UserSecretsClient().get_secret(name), f"the Kaggle secret {name}")
    except missing:
        return None
