"""``DriveSettings``: what the Drive store reads from the environment, read once (``from_env``).

==================================  ============================================================
``DRIVEQUEUE_TOKEN``                the token JSON from ``drivequeue auth`` (or the variables in
``DRIVEQUEUE_TOKEN_FILE``           ``drivequeue.auth``)
``DRIVEQUEUE_DRIVE_ENDPOINT``       an origin such as ``http://127.0.0.1:8765`` to use the
                                    emulator instead of Google (``/drive/v3/`` is added here)
``DRIVEQUEUE_DRIVE_RETRY_BUDGET``   seconds one call may spend retrying before the caller gets
                                    ``StoreUnavailable`` (default 60)
``DRIVEQUEUE_DRIVE_RETRY_FIRST``    the first backoff delay in seconds (default 0.5); it doubles
                                    per retry up to 16 s, with jitter
(``open_store(url, patience=S)``)   a caller that must answer in time (the web app) caps both the
                                    retries and one request's timeout at S / 2
==================================  ============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from .auth import load_credentials
from .drive_client import HTTP_TIMEOUT_S, DriveAPI
from .env import Env
from .errors import ConfigError


@dataclass(frozen=True)
class DriveSettings:
    """What the Drive store reads from the environment."""

    token: str | None = None
    token_file: str | None = None
    endpoint: str | None = None
    retry_budget: float = 60.0
    retry_first: float = 0.5
    http_timeout: float = HTTP_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
                raise ConfigError(
                    "DRIVEQUEUE_DRIVE_ENDPOINT holds an origin only, like http://127.0.0.1:8765 "
                    f"(got {self.endpoint!r})"
                )
        if not self.retry_budget > 0 or not self.retry_first > 0:
            raise ConfigError("DRIVEQUEUE_DRIVE_RETRY_BUDGET and _FIRST must be positive numbers of seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DriveSettings:
        env = Env(environ)
        return cls(
            token=env.text("DRIVEQUEUE_TOKEN"),
            token_file=env.text("DRIVEQUEUE_TOKEN_FILE"),
            endpoint=env.text("DRIVEQUEUE_DRIVE_ENDPOINT"),
            retry_budget=env.number("DRIVEQUEUE_DRIVE_RETRY_BUDGET", float, cls.retry_budget),
            retry_first=env.number("DRIVEQUEUE_DRIVE_RETRY_FIRST", float, cls.retry_first),
        )

    def within(self, seconds: float) -> DriveSettings:
        """These settings, with every call answered within about ``seconds``: retries stop
        at half of it, and one request that hangs is given up after the other half."""
        return replace(self, retry_budget=min(self.retry_budget, seconds / 2),
                       http_timeout=min(self.http_timeout, seconds / 2))

    def api(self) -> DriveAPI:
        """A Drive client with these credentials, endpoint, retry budget and request timeout."""
        credentials = load_credentials(self.token, self.token_file)
        return DriveAPI(credentials, endpoint=self.endpoint, retry_first=self.retry_first,
                        retry_budget=self.retry_budget, timeout=self.http_timeout)

