"""Every error becomes a short message with the right status: JSON under /api, a page elsewhere.

Nothing internal reaches the visitor: no stack trace, no store key, no setting.
Unexpected errors are logged (without the request's body or headers) and
answered with a plain 500.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from drivequeue.errors import InvalidKey, InvalidPayload, JobStateError, NotFound, StoreUnavailable

log = logging.getLogger(__name__)

NO_STORY = "There is no story at this address. Check that the link was copied whole."
STORE_DOWN = "The story queue cannot be reached right now. Try again in a minute."


class QueueFull(Exception):
    """Too many stories are already waiting for a worker; no new work is taken."""


class NotAStory(Exception):
    """The id is a job of another kind (a train job): it has a page of its own, not a story's."""

    def __init__(self, kind: str | None) -> None:
        super().__init__(f"This is a {kind} job, not a story.")
        self.kind = kind


def install_error_handlers(app: Flask) -> None:
    """Answer each kind of failure with its status and a message a visitor can act on."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = error.description or error.name
        if error.code == 404 and _names_a_story(request.path):
            message = NO_STORY  # a link cut short, or with a slash too many
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return respond(error.code or 500, message, headers)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return respond(
            400,
            "This form has expired or was sent from another site. "
            "Reload the page and send it again.",
        )

    @app.errorhandler(NotFound)
    @app.errorhandler(InvalidKey)
    def no_story(error):
        return respond(404, NO_STORY)

    @app.errorhandler(NotAStory)
    def not_a_story(error: NotAStory):
        job_id = (request.view_args or {}).get("story_id")
        where = f" Its page is {url_for('jobs.job', job_id=job_id)}." if job_id else ""
        return respond(404, f"{error}{where}")

    @app.errorhandler(InvalidPayload)
    def bad_request(error: InvalidPayload):
        return respond(400, str(error))

    @app.errorhandler(JobStateError)
    def wrong_state(error: JobStateError):
        return respond(409, str(error))

    @app.errorhandler(StoreUnavailable)
    def store_down(error: StoreUnavailable):
        log.warning("queue unavailable: %s", error)
        return respond(503, STORE_DOWN, {"Retry-After": "30"})

    @app.errorhandler(QueueFull)
    def queue_full(error: QueueFull):
        return respond(
            503,
            "Too many stories are waiting for the writer right now. Try again in a few minutes.",
            {"Retry-After": "120"},
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.endpoint)
        return respond(500, "Something went wrong on our side. Try again in a moment.")


def too_many_message(wait_seconds: int) -> str:
    """What a client that sent too much is told: when it may send again."""
    when = "in a minute" if wait_seconds > 45 else f"in {wait_seconds} second{'s' if wait_seconds != 1 else ''}"
    if wait_seconds > 90:
        when = f"in about {round(wait_seconds / 60)} minutes"
    return f"That is a lot of stories in a short time. You can send it again {when}; what you typed is kept."


def _names_a_story(path: str) -> bool:
    return path.startswith(("/stories/", "/api/stories/")) and path.rstrip("/") not in (
        "/stories", "/api/stories")


def respond(status: int, message: str, headers=None):
    """An error response in the form the client expects."""
    if request.path.startswith("/api/"):
        response = jsonify(error=_slug(status), message=message)
    else:
        response = render_template("error.html", title=_title(status), message=message)
    return response, status, headers or {}


def _slug(status: int) -> str:
    return _TITLES.get(status, "Error").lower().replace(" ", "_").replace("'", "")


def _title(status: int) -> str:
    return _TITLES.get(status, "Error")


_TITLES = {
    400: "Bad request",
    401: "Access key needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Not possible now",
    413: "Too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Server error",
    503: "Unavailable",
}
