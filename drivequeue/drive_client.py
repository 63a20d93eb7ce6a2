"""Calls to the Google Drive v3 API: the client, retries with backoff, and a count of calls.

One ``DriveAPI`` serves every thread of a process: the discovery-built service
is shared, but ``httplib2`` is not thread-safe, so each thread gets its own
authorized HTTP object. Every call goes through ``retrying``, which retries
what Google asks clients to retry (403 rate limits, 429, 5xx, dropped
connections) with truncated exponential backoff and jitter, within a bounded
total time, and then raises ``StoreUnavailable``.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import random
import ssl
import threading
from collections import Counter
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import build_http

from .auth import refused_message
from .backoff import Backoff
from .errors import CredentialsError, StoreUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = {429, 500, 502, 503, 504}
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded"}
#: failures below HTTP: the request may or may not have reached Drive
TRANSIENT = (ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException,
             httplib2.HttpLib2Error, TransportError)
NETWORK_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ETIMEDOUT}
HTTP_TIMEOUT_S = 60.0


def error_reason(error: HttpError) -> str:
    """The ``reason`` Drive gives in an error body (``userRateLimitExceeded``, ``notFound``...)."""
    try:
        return json.loads(error.content)["error"]["errors"][0]["reason"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def is_retryable(error: HttpError) -> bool:
    status = error.resp.status
    return status in RETRY_STATUSES or (status == 403 and error_reason(error) in RATE_LIMIT_REASONS)


def refused(method: str, error: HttpError) -> StoreUnavailable:
    """What Drive's refusal of ``method`` means for a caller of the store."""
    if error.resp.status == 403 and error_reason(error) == "storageQuotaExceeded":
        return StoreUnavailable("the Google Drive storage quota is used up; free space in Drive")
    return StoreUnavailable(f"Google Drive refused {method} ({describe(error)})")


def quoted(text: str) -> str:
    """``text`` as a string literal of Drive's query language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def describe(error: BaseException) -> str:
    """A short description of a failure, safe to show (no URLs, headers or tokens)."""
    if isinstance(error, HttpError):
        reason = error_reason(error)
        return f"HTTP {error.resp.status}" + (f" {reason}" if reason else "")
    return type(error).__name__


class LoopbackHttp(httplib2.Http):
    """HTTP to a plain-HTTP emulator at ``origin``.

    The client library builds media upload URLs from its ``https://`` root URL
    and only swaps in the host and port of a custom endpoint, so those URLs are
    turned back into ``http://`` here. 308 is Drive's "resume incomplete", not
    a redirect (as in ``googleapiclient.http.build_http``).
    """

    def __init__(self, origin: str, timeout: float):
        super().__init__(timeout=timeout)
        self.redirect_codes = self.redirect_codes - {308}
        netloc = urlsplit(origin).netloc
        self._secure, self._plain = f"https://{netloc}/", f"http://{netloc}/"

    def request(self, uri, *args, **kwargs):
        if uri.startswith(self._secure):
            uri = self._plain + uri[len(self._secure) :]
        return super().request(uri, *args, **kwargs)


class DriveAPI:
    """The Drive v3 client of one process, with retries and a call counter.

    ``endpoint`` is an origin such as ``http://127.0.0.1:8765`` (the emulator);
    None means Google's servers.
    """

    def __init__(self, credentials, endpoint: str | None = None, *, retry_first: float = 0.5,
                 retry_budget: float = 60.0, timeout: float = HTTP_TIMEOUT_S):
        self.credentials = credentials
        self.timeout = timeout
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.retry_first = retry_first
        self.retry_budget = retry_budget
        self.calls: Counter[str] = Counter()
        self._rng = random.Random()
        self._local = threading.local()
        self._count_lock = threading.Lock()
        options = {"api_endpoint": f"{self.endpoint}/drive/v3/"} if self.endpoint else None
        self.service = build("drive", "v3", http=self.http(), static_discovery=True,
                             cache_discovery=False, client_options=options)

    def files(self):
        return self.service.files()

    def changes(self):
        return self.service.changes()

    def http(self) -> google_auth_httplib2.AuthorizedHttp:
        """This thread's authorized HTTP object."""
        authorized = getattr(self._local, "http", None)
        if authorized is None:
            if self.endpoint and self.endpoint.startswith("http://"):
                transport = LoopbackHttp(self.endpoint, self.timeout)
            else:
                transport = build_http()
                transport.timeout = self.timeout
            authorized = google_auth_httplib2.AuthorizedHttp(self.credentials, http=transport)
            self._local.http = authorized
        return authorized

    def execute(self, method: str, make_request: Callable[[], object]):
        """Build and run one request (``make_request()`` returns an ``HttpRequest``), with retries."""
        return self.retrying(method, lambda: make_request().execute(http=self.http()))

    def retrying(self, method: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the retry budget is spent.

        Non-retryable ``HttpError``s are raised as they are, for the caller to
        map (404, 409...). ``method`` names the call in the counter and in errors.
        """

        def once() -> T:
            with self._count_lock:
                self.calls[method] += 1
            try:
                return attempt()
            except HttpError as e:
                if e.resp.status == 401:
                    raise CredentialsError(refused_message("Google Drive refused the access token (HTTP 401)")) from None
                if not is_retryable(e):
                    raise
                failure = describe(e)
            except RefreshError as e:
                if not e.retryable:
                    raise CredentialsError(refused_message(_refresh_reason(e))) from None
                failure = "token refresh failed"
            except TRANSIENT as e:
                failure = describe(e)
            except OSError as e:
                if e.errno not in NETWORK_ERRNOS:
                    raise
                failure = describe(e)
            raise _Retryable(failure) from None

        backoff = Backoff(first=self.retry_first, budget=self.retry_budget, what=f"Drive {method} failed",
                          logger=logger, level=logging.INFO, rng=self._rng)
        try:
            return backoff.call(once, on=_Retryable)
        except _Retryable as exc:
            raise StoreUnavailable(f"Google Drive kept failing on {method} ({exc}) for "
                                   f"{self.retry_budget:g}s; try again later") from None


class _Retryable(Exception):
    """A failure Google asks clients to retry (its text: what failed, safe to show)."""


def _refresh_reason(error: RefreshError) -> str:
    """Google's words for a refused refresh (``invalid_grant: Token has been expired or revoked.``)."""
    details = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
    if details.get("error"):
        text = f"{details['error']}: {details.get('error_description', '')}".strip(": ")
    else:
        text = "the token could not be refreshed"
    return f"Google refused the stored credentials ({text})"
