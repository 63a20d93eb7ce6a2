"""Request bodies arrive in time or not at all, and no address keeps many threads waiting for them.

Gunicorn's threads read a request's body as the app asks for it, so a client that sends
a byte every few seconds would hold a thread for as long as it liked; Heroku's router
does not stop it (docs/web-app.md, "Slow clients"). So before any view runs, a request
with a body takes one of the process's ``bodies_at_once`` places and one of its client
address's ``bodies_per_address`` (none free: 503 or 429 at once, its body unread), and
its body is read whole within ``body_seconds``: past that the socket is shut for reading
and the request answered 408. Either way the connection is closed, never drained. The
threads that pages, polls and ``/healthz`` need stay free.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter

from flask import Flask, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from .config import Config
from .errors import respond

#: the connection is closed after a refusal: gunicorn would otherwise read the rest of the body
CLOSE = {"Connection": "close"}


class BodyPlaces:
    """Who is sending a body now: at most ``at_once`` in all and ``per_address`` per address."""

    def __init__(self, at_once: int, per_address: int) -> None:
        self.at_once, self.per_address = at_once, per_address
        self._sending: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, address: str) -> int | None:
        """Take a place for ``address``; None, or the status to refuse with (429: this address
        sends enough already, 503: the process receives enough bodies already)."""
        with self._lock:
            if self._sending[address] >= self.per_address:
                return 429
            if self._sending.total() >= self.at_once:
                return 503
            self._sending[address] += 1
            return None

    def give_back(self, address: str) -> None:
        with self._lock:
            self._sending[address] -= 1
            if self._sending[address] <= 0:
                del self._sending[address]


def install_body_limits(app: Flask, config: Config) -> BodyPlaces:
    """Read every request body within the limits before the views (and CSRF checks) see it."""
    places = BodyPlaces(config.bodies_at_once, config.bodies_per_address)

    @app.before_request
    def read_body_in_time():
        if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
            return None
        address = request.remote_addr or "?"
        refused = places.take(address)
        if refused is not None:
            _stop_reading()
            message = ("This address is sending several requests at once; send one at a time." if refused == 429
                       else "The server is receiving many requests right now; try again in a moment.")
            return respond(refused, message, {**CLOSE, "Retry-After": "1"})
        try:
            arrived = _read_within(config.body_seconds)
        except RequestEntityTooLarge as error:
            _stop_reading()
            return respond(413, error.description, CLOSE)
        finally:
            places.give_back(address)
        if not arrived:
            return respond(408, f"The request did not arrive within {config.body_seconds:g} seconds.", CLOSE)
        return None

    app.extensions["body_places"] = places
    return places


def _stop_reading(sock: socket.socket | None = None) -> None:
    """Shut the request's socket for reading (under gunicorn): a read waiting on it ends, and
    closing the connection lingers for nothing more from this client."""
    sock = sock or request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # already closed


def _read_within(seconds: float) -> bool:
    """Read the body into ``request`` (cached for the views); False if it took longer than
    ``seconds``. Under gunicorn a timer shuts the socket for reading when the time is up, which
    ends a read that is waiting however the server reads (the development server is not timed)."""
    sock = request.environ.get("gunicorn.socket")
    late = threading.Event()

    def stop_reading() -> None:
        late.set()
        _stop_reading(sock)

    timer = threading.Timer(seconds, stop_reading) if sock is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        request.get_data(cache=True)
    except (ClientDisconnected, OSError):  # the body stopped short: cut off at the limit, or gone
        if late.is_set():
            return False
        raise ClientDisconnected() from None
    finally:
        if timer is not None:
            timer.cancel()
    # the timer may fire just after a whole body was read: only a short one was cut off
    cut_short = request.content_length is None or len(request.get_data(cache=True)) < request.content_length
    return not (late.is_set() and cut_short)
