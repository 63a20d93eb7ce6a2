"""The operator's key (``WEBAPP_OPERATOR_KEY``): who may see the operator's page and ``/metrics``.

Without the key set, those routes are not even registered (404): nothing about
the deployment is public. Scripts and Prometheus send ``Authorization: Bearer KEY``;
a browser types the key once in the page's form, and the signed, HttpOnly
session cookie remembers a keyed digest of it, so changing the key signs every
browser out. A wrong bearer key is refused (403) even if the cookie would do.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import request, session
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from .config import Config

SESSION_FIELD = "operator"


def signed_in(config: Config) -> bool:
    """Whether this request may see what the operator sees (``Forbidden`` for a wrong bearer key)."""
    auth = request.authorization
    if auth is not None and auth.type == "bearer":
        if not _same(auth.token or "", config.operator_key):
            raise Forbidden("That operator key is not right.")
        return True
    return _same(session.get(SESSION_FIELD, ""), _digest(config))


def require_operator(config: Config) -> None:
    """Refuse (401) a request that is not the operator's."""
    if not signed_in(config):
        raise Unauthorized("This needs the operator's key: sign in on /operator, or send "
                           "Authorization: Bearer KEY.", www_authenticate=WWWAuthenticate("bearer"))


def sign_in(config: Config, typed: str) -> bool:
    """Remember this browser as the operator's if ``typed`` is the key."""
    if not _same(typed, config.operator_key):
        return False
    session[SESSION_FIELD] = _digest(config)
    return True


def sign_out() -> None:
    session.pop(SESSION_FIELD, None)


def _same(supplied: str, expected: str) -> bool:
    return hmac.compare_digest(supplied.encode(), expected.encode())


def _digest(config: Config) -> str:
    # keyed, so that the cookie (readable by its holder) tells nothing about the key
    return hmac.new(config.secret_key.encode(), b"operator:" + config.operator_key.encode(),
                    hashlib.sha256).hexdigest()
