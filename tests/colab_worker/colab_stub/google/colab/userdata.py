"""Colab secrets, read from ``COLAB_SECRET_<NAME>`` environment variables in tests."""

import os


class NotebookAccessError(Exception):
    """Raised like Colab's own when the notebook may not read that secret."""


class SecretNotFoundError(Exception):
    """Raised like Colab's own when the notebook has no secret of that name."""


def get(key: str) -> str:
    value = os.environ.get(f"COLAB_SECRET_{key}")
    if value is None:
        raise SecretNotFoundError(f"Secret {key} does not exist.")
    return value
