"""Per-client rate limits (429): a strict one on creating work, a loose one on the rest.

Clients are told apart by address; behind Heroku's router that is the address
``ProxyFix`` took from ``X-Forwarded-For`` (see ``security.py``). Counters live
in ``WEBAPP_RATELIMIT_STORAGE``: per process by default, or e.g. a Redis URL
shared by all dynos.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .config import Config

#: views that make a worker write (the same budget for the API and the pages)
CREATE_WORK_ENDPOINTS = (
    "api.create_story",
    "api.continue_story",
    "pages.create_story",
    "pages.continue_story",
)
UNLIMITED_ENDPOINTS = {"static", "pages.healthz"}


def install_rate_limits(app: Flask, config: Config) -> Limiter:
    """Attach a limiter to ``app`` and wrap the views that create work."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=config.ratelimit_storage,
        default_limits=[config.read_limit],
        default_limits_exempt_when=lambda: request.endpoint in UNLIMITED_ENDPOINTS,
        headers_enabled=True,
        strategy="moving-window",
    )
    create_work = limiter.shared_limit(config.create_limit, scope="create-work")
    for endpoint in CREATE_WORK_ENDPOINTS:
        app.view_functions[endpoint] = create_work(app.view_functions[endpoint])
    return limiter
