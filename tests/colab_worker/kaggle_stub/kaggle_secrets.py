"""A stand-in for Kaggle's ``kaggle_secrets`` module: secrets from ``KAGGLE_SECRET_<NAME>`` variables."""

import os


class CredentialError(Exception):
    """Raised like Kaggle's own outside a Kaggle session."""


class BackendError(Exception):
    """Raised like Kaggle's own for a secret that is not attached to the notebook."""


class UserSecretsClient:
    def get_secret(self, label: str) -> str:
        value = os.environ.get(f"KAGGLE_SECRET_{label}")
        if value is None:
            raise BackendError(f"Unexpected response from the service. Response: {{'errors': ['No user secrets exist for kernel id 1 and label {label}']}}")
        return value
