"""The optional access key (``WEBAPP_ACCESS_KEY``): who may spend the owner's GPU.

Reading a story needs only its link. Creating or continuing one needs the key
when it is set: scripts send ``Authorization: Bearer KEY``; the pages ask for it
once and remember a keyed digest of it in the (signed, HttpOnly) session cookie, so
changing the key locks out every browser that knew the old one.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import request, session
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from .config import Config

SESSION_FIELD = "access"


def key_needed(config: Config) -> bool:
    """Whether this browser must still type the access key on a form."""
    if config.access_key is None:
        return False
    return not hmac.compare_digest(session.get(SESSION_FIELD, ""), _digest(config))


def require_api_key(config: Config) -> None:
    """Refuse (401/403) an API request without the right bearer key, if one is set."""
    auth = request.authorization
    _check(config, auth.token if auth is not None and auth.type == "bearer" else None)


def require_form_key(config: Config, typed: str | None) -> None:
    """Refuse (401/403) a form post without the key, remembering it when right."""
    if not key_needed(config):
        return
    _check(config, typed)
    session[SESSION_FIELD] = _digest(config)


def _check(config: Config, supplied: str | None) -> None:
    if config.access_key is None:
        return
    if not supplied:
        raise Unauthorized(
            "This server needs an access key to write stories.",
            www_authenticate=WWWAuthenticate("bearer"),
        )
    if not hmac.compare_digest(supplied.encode(), config.access_key.encode()):
        raise Forbidden("That access key is not right.")


def _digest(config: Config) -> str:
    # keyed, so that the cookie (readable by its holder) tells nothing about the key
    return hmac.new(config.secret_key.encode(), config.access_key.encode(), hashlib.sha256).hexdigest()
