"""Per-client rate limits (429): a strict one on creating work, a loose one on the rest.

Clients are told apart by address; behind Heroku's router that is the address
``ProxyFix`` took from ``X-Forwarded-For`` (see ``security.py``). Counters live
in ``WEBAPP_RATELIMIT_STORAGE``: per process by default, or e.g. a Redis URL
shared by all dynos.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
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
    # Only work that was accepted counts against the creation limit: a visitor fixing a typo
    # is not punished. Refused requests still count against the general limit.
    create_work = limiter.shared_limit(config.create_limit, scope="create-work", deduct_when=_accepted)
    for endpoint in CREATE_WORK_ENDPOINTS:
        view = create_work(app.view_functions[endpoint])
        app.view_functions[endpoint] = limiter.limit(config.read_limit)(view)
    app.extensions["rate_limiter"] = limiter
    return limiter


def _accepted(response) -> bool:
    return response.status_code in (202, 303)


def retry_after_seconds() -> int:
    """Seconds until the limit that refused this request lets the client in again (at least 1)."""
    limit = current_app.extensions["rate_limiter"].current_limit
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))
