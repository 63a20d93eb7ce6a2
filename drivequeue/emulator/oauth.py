"""Google's OAuth endpoints as the emulator plays them: consent, token exchange, refresh, revocation.

Consent is given at once (no page to click). The token endpoint answers the way
``oauth2.googleapis.com/token`` does, including ``invalid_grant`` for a revoked
or unknown refresh token and ``invalid_client`` for a wrong client secret, so
that the real google-auth refresh path runs against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

DRIVE_FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"


class OAuthError(Exception):
    """A refusal in the OAuth JSON format: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    scope: str


class OAuth:
    """Registered clients and the tokens issued to them."""

    def __init__(self, token_lifetime_s: float = 3600.0):
        self.token_lifetime_s = token_lifetime_s
        self._lock = threading.Lock()
        self._clients: dict[str, str] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> client id
        self._access: dict[str, tuple[str, float]] = {}  # access token -> (refresh token, expiry)
        self._codes: dict[str, _Code] = {}

    def register_client(self, client_id: str | None = None) -> tuple[str, str]:
        """Register an OAuth client; returns (client_id, client_secret)."""
        client_id = client_id or f"{secrets.token_hex(6)}.apps.emulator"
        secret = secrets.token_urlsafe(18)
        with self._lock:
            self._clients[client_id] = secret
        return client_id, secret

    def grant(self, client_id: str) -> tuple[str, str]:
        """A refresh token and a fresh access token for ``client_id`` (as after consent)."""
        refresh = "1//" + secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = client_id
        return refresh, self._new_access(refresh)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token and every access token issued from it."""
        with self._lock:
            self._refresh.pop(refresh_token, None)
            self._access = {k: v for k, v in self._access.items() if v[0] != refresh_token}

    def expire_access_tokens(self) -> None:
        """Make every access token stale, so the next API call must refresh."""
        with self._lock:
            self._access.clear()

    def valid(self, authorization: str | None) -> bool:
        """Whether an ``Authorization: Bearer ...`` header carries a live access token."""
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            entry = self._access.get(authorization[len("Bearer "):])
        return entry is not None and entry[1] > time.monotonic()

    def _new_access(self, refresh_token: str) -> str:
        access = "ya29." + secrets.token_urlsafe(32)
        with self._lock:
            self._access[access] = (refresh_token, time.monotonic() + self.token_lifetime_s)
        return access

    def authorize(self, params: dict[str, str]) -> str:
        """The redirect URL that carries a code back to the app (consent given at once)."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        with self._lock:
            known = client_id in self._clients
        if not known:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if urllib.parse.urlparse(redirect_uri).hostname not in ("localhost", "127.0.0.1"):
            raise OAuthError(400, "invalid_request", "redirect_uri must be a loopback address")
        code = "4/" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, params.get("code_challenge"), params.get("scope", ""))
        query = {"code": code, "scope": params.get("scope", "")}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return redirect_uri + separator + urllib.parse.urlencode(query)

    def token(self, form: dict[str, str], authorization: str | None = None) -> dict:
        """Answer a POST to the token endpoint; the client authenticates in the form or with HTTP Basic."""
        client_id, given_secret = _basic_credentials(authorization) or (
            form.get("client_id", ""), form.get("client_secret", ""))
        with self._lock:
            secret = self._clients.get(client_id)
        if secret is None or not hmac.compare_digest(secret, given_secret):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            with self._lock:
                owner = self._refresh.get(refresh)
            if owner != client_id:
                raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
            return self._token_response(self._new_access(refresh))
        if grant_type == "authorization_code":
            with self._lock:
                code = self._codes.pop(form.get("code", ""), None)
            if code is None or code.client_id != client_id or code.redirect_uri != form.get("redirect_uri"):
                raise OAuthError(400, "invalid_grant", "Malformed auth code.")
            if code.challenge is not None and code.challenge != _s256(form.get("code_verifier", "")):
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
            refresh, access = self.grant(client_id)
            return self._token_response(access, refresh, code.scope)
        raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _token_response(self, access: str, refresh: str | None = None, scope: str = DRIVE_FILE_SCOPE) -> dict:
        response = {
            "access_token": access,
            "expires_in": int(self.token_lifetime_s),
            "token_type": "Bearer",
            "scope": scope or DRIVE_FILE_SCOPE,
        }
        if refresh is not None:
            response["refresh_token"] = refresh
        return response


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client id, secret) from an ``Authorization: Basic`` header (RFC 6749 2.3.1), if any."""
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[len("Basic "):]).decode()
    except ValueError:
        return None
    client_id, _, secret = decoded.partition(":")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
