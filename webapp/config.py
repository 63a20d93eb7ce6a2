"""Settings of the web app, read once from the environment.

Every variable the web app reads is named here; nothing else looks at
``os.environ`` (the queue URL is chosen by ``drivequeue.urls.default_url``, the
same rule the CLI and the worker use). The queue's own variables (``DRIVEQUEUE_TOKEN``, timing) are
read by ``drivequeue`` itself.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from drivequeue import ConfigError  # one family of setting errors for every package
from drivequeue.env import Env
from drivequeue.errors import BadStoreURL
from drivequeue.urls import default_url, is_shared

MIN_OPERATOR_KEY = 16


@dataclass(frozen=True)
class Config:
    """What the web app needs to know about its deployment."""

    #: signs the session cookie and the CSRF tokens
    secret_key: str = field(repr=False)
    #: where the queue lives: a folder (``var/queue``, ``file:///...``), ``drive://id:FOLDER`` or
    #: ``redis://...`` (``DRIVEQUEUE_URL``, else ``REDIS_URL``)
    queue_url: str
    #: ``production`` (secure cookies, HSTS) or ``development`` (plain HTTP on this machine)
    environment: str = "production"
    #: when set, required to create or continue stories
    access_key: str | None = field(default=None, repr=False)
    #: when set, opens the operator's page (``/operator``) and ``/metrics`` to whoever has it
    operator_key: str | None = field(default=None, repr=False)
    #: the operator's page and ``/metrics`` look at the whole queue at most once per this many
    #: seconds per process, however many watch (never more often than ``poll_interval``)
    operator_period: float = 5.0
    #: stories and continuations one client may ask for (Flask-Limiter syntax)
    create_limit: str = "10 per minute;100 per day"
    #: every other request of one client, page views and polling included
    read_limit: str = "3000 per minute"
    #: where rate-limit counters live (``memory://`` is per process)
    ratelimit_storage: str = "memory://"
    #: no new stories while this many wait for a worker
    max_queued: int = 50
    #: requests with a bigger body are refused with 413
    max_body_bytes: int = 64 * 1024
    #: a story is read from the queue at most once per this many seconds per process
    #: (``None``: the queue's own read period, ``DRIVEQUEUE_READ``: 0.2 s on a folder, 1 s on Drive)
    poll_interval: float | None = None
    #: open event streams one process serves at once; more are refused so pages poll instead
    max_streams: int = 80
    #: an event stream ends after this many seconds and the browser reconnects where it was
    stream_seconds: float = 300.0
    #: a request body must arrive whole within this many seconds, else 408 and the connection is closed
    body_seconds: float = 10.0
    #: request bodies one process receives at once (the rest: 503 at once), so threads stay free
    bodies_at_once: int = 10
    #: request bodies one client address may be sending to one process at once (the rest: 429)
    bodies_per_address: int = 4
    #: reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    trusted_proxies: int = 0
    #: seconds one queue call may take on an unreachable store (retries and a hung request
    #: included) before the visitor gets a 503: well inside Heroku's 30 s router limit
    store_patience: float = 8.0

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Config:
        """Read the settings; ``ConfigError`` says what to change when they are unsafe."""
        env = Env(environ)
        on_heroku = "DYNO" in environ
        environment = env.text("WEBAPP_ENV", "production")
        if environment not in ("production", "development"):
            raise ConfigError("WEBAPP_ENV must be 'production' or 'development'")
        secret_key = env.text("SECRET_KEY", "")
        if not secret_key:
            if environment == "production":
                raise ConfigError(
                    "SECRET_KEY is not set. Set it to a long random string "
                    "(python -c 'import secrets; print(secrets.token_hex(32))'), "
                    "or set WEBAPP_ENV=development to run on this machine only."
                )
            secret_key = secrets.token_hex(32)
        if not (env.text("DRIVEQUEUE_URL") or env.text("REDIS_URL")):
            raise ConfigError("DRIVEQUEUE_URL is not set: set it to the queue, a folder on this machine "
                              "(var/queue), drive://id:FOLDER_ID or redis://... (on Heroku, the Redis add-on "
                              "sets REDIS_URL, which serves too)")
        try:
            queue_url = default_url(environ)
            shared = is_shared(queue_url)
        except BadStoreURL as exc:
            raise ConfigError(f"DRIVEQUEUE_URL: {exc}") from None
        if on_heroku and not shared:
            raise ConfigError(
                f"DRIVEQUEUE_URL is {queue_url!r}, a folder on this dyno's disk, which Heroku "
                "wipes at every restart (stories would be lost and no worker could reach them). "
                "Set DRIVEQUEUE_URL to the drive://id:FOLDER_ID printed by `drivequeue auth`, "
                "or add the Redis add-on (it sets REDIS_URL)."
            )
        values = {
            "secret_key": secret_key,
            "queue_url": queue_url,
            "environment": environment,
            "access_key": env.text("WEBAPP_ACCESS_KEY"),
            "operator_key": _operator_key(env),
            "trusted_proxies": env.number("WEBAPP_TRUSTED_PROXIES", int, 1 if on_heroku else 0, minimum=0),
            "max_queued": env.number("WEBAPP_MAX_QUEUED", int, cls.max_queued, minimum=0),
            "max_body_bytes": env.number("WEBAPP_MAX_BODY_BYTES", int, cls.max_body_bytes, minimum=0),
            "poll_interval": env.number("WEBAPP_POLL_INTERVAL", float, cls.poll_interval, minimum=0),
            "max_streams": env.number("WEBAPP_MAX_STREAMS", int, cls.max_streams, minimum=0),
            "stream_seconds": env.number("WEBAPP_STREAM_SECONDS", float, cls.stream_seconds, minimum=0),
            "body_seconds": env.number("WEBAPP_BODY_SECONDS", float, cls.body_seconds, minimum=1),
            "bodies_at_once": env.number("WEBAPP_BODIES_AT_ONCE", int, cls.bodies_at_once, minimum=1),
            "bodies_per_address": env.number("WEBAPP_BODIES_PER_ADDRESS", int, cls.bodies_per_address, minimum=1),
            "store_patience": env.number("WEBAPP_STORE_PATIENCE", float, cls.store_patience, minimum=0),
            "operator_period": env.number("WEBAPP_OPERATOR_PERIOD", float, cls.operator_period, minimum=0),
            "create_limit": env.text("WEBAPP_CREATE_LIMIT", cls.create_limit),
            "read_limit": env.text("WEBAPP_READ_LIMIT", cls.read_limit),
            "ratelimit_storage": env.text("WEBAPP_RATELIMIT_STORAGE", cls.ratelimit_storage),
        }
        return cls(**values)

    def replace(self, **changes) -> Config:
        """A copy with some settings changed (tests and benchmarks shrink limits)."""
        return dataclasses.replace(self, **changes)

    def flask_settings(self) -> dict:
        """The Flask and extension settings these values imply."""
        return {
            "SECRET_KEY": self.secret_key,
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "MAX_FORM_MEMORY_SIZE": self.max_body_bytes,
            "SESSION_COOKIE_SECURE": self.production,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PREFERRED_URL_SCHEME": "https" if self.production else "http",
            "WTF_CSRF_TIME_LIMIT": None,  # a tab left open overnight can still continue its story
        }


def _operator_key(env: Env) -> str | None:
    key = env.text("WEBAPP_OPERATOR_KEY")
    if key is not None and len(key) < MIN_OPERATOR_KEY:
        raise ConfigError(
            f"WEBAPP_OPERATOR_KEY must be at least {MIN_OPERATOR_KEY} characters: it opens the operator's "
            "page and /metrics to anyone who guesses it "
            "(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return key
