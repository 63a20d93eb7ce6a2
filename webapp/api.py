"""The JSON API, for scripts and for the story page: its event stream, and polling as a fallback.

POST bodies must be ``application/json`` (415 otherwise): a cross-site HTML
form cannot send that without a CORS preflight this app never grants, which is
what makes these routes safe without a CSRF token.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, ServiceUnavailable, UnsupportedMediaType

from drivequeue import bounded_json

from .access import require_api_key
from .stories import Stories
from .story_stream import StreamSlots, story_events

bp = Blueprint("api", __name__, url_prefix="/api")

#: what a visitor may see of a worker (no claim or store keys)
WORKER_FIELDS = ("id", "host", "device", "online", "last_seen")


def _stories() -> Stories:
    return current_app.extensions["stories"]


def _config():
    return current_app.extensions["webapp_config"]


def _json_body() -> dict:
    if not request.is_json:
        raise UnsupportedMediaType("Send the request body as JSON (Content-Type: application/json).")
    data = request.get_data()
    if not data.strip():
        return {}
    try:
        body = bounded_json.loads(data)
    except bounded_json.JsonRefused as exc:
        raise BadRequest(f"The request body {exc}.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _line_count(raw: str, name: str) -> int:
    # ASCII digits only (``str.isdigit`` takes other scripts' digits), few enough for ``int``
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise BadRequest(f"{name} must be a whole number of lines, 0 or more.")
    return int(raw)


def _urls(story_id: str) -> dict:
    return {
        "page": url_for("pages.story", story_id=story_id, _external=True),
        "api": url_for("api.story", story_id=story_id, _external=True),
        "stream": url_for("api.stream_story", story_id=story_id, _external=True),
        "text": url_for("pages.download", story_id=story_id, _external=True),
        "continue": url_for("api.continue_story", story_id=story_id, _external=True),
        "cancel": url_for("api.cancel_story", story_id=story_id, _external=True),
    }


def _accepted(story_id: str):
    status = _stories().status(story_id)
    body = {"id": story_id, "status": status.state.value, "stopping": status.stopping,
            "message": _stories().message(status), "urls": _urls(story_id)}
    return jsonify(body), 202, {"Location": body["urls"]["api"]}


@bp.post("/stories")
def create_story():
    """Queue a new story: 202 with its id and URLs."""
    require_api_key(current_app.extensions["webapp_config"])
    body = _json_body()
    return _accepted(_stories().submit(body))


@bp.get("/stories/<story_id:story_id>")
def story(story_id: str):
    """The story's state and the lines after ``?after=N`` (all lines without it)."""
    after = _line_count(request.args.get("after", "0"), "after")
    status = _stories().status(story_id)
    return jsonify({**status.since(after).to_dict(), "message": _stories().message(status),
                    "urls": _urls(story_id)})


@bp.get("/stories/<story_id:story_id>/stream")
def stream_story(story_id: str):
    """Server-Sent Events: the lines after ``Last-Event-ID`` (or ``?after=N``) as they come."""
    resume = request.headers.get("Last-Event-ID")
    after = _line_count(resume, "Last-Event-ID") if resume else _line_count(
        request.args.get("after", "0"), "after")
    stories = _stories()
    stories.status(story_id)  # an unknown story is a 404, not an empty stream
    slots: StreamSlots = current_app.extensions["stream_slots"]
    if not slots.take():
        raise ServiceUnavailable("Too many pages are watching stories live; ask again with ?after=N.")
    return Response(
        _HeldStream(story_events(stories, story_id, after, lifetime=_config().stream_seconds),
                    slots.give_back),
        mimetype="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


class _HeldStream:
    """A stream's events; closing it (the browser left) frees its slot, even before it started."""

    def __init__(self, events, release) -> None:
        self._events, self._release = events, release

    def __iter__(self):
        return self._events

    def close(self) -> None:
        self._events.close()
        if self._release is not None:
            self._release, release = None, self._release
            release()


@bp.post("/stories/<story_id:story_id>/continue")
def continue_story(story_id: str):
    """Ask for more lines (409 while the story is still being written)."""
    require_api_key(current_app.extensions["webapp_config"])
    body = _json_body()
    _stories().continue_story(story_id, body)
    return _accepted(story_id)


@bp.post("/stories/<story_id:story_id>/cancel")
def cancel_story(story_id: str):
    """Stop the story; ``{"seen": N}``: keep at most the N lines seen and the one after."""
    _stories().cancel(story_id, _json_body())
    return _accepted(story_id)


@bp.get("/workers")
def workers():
    """The workers the queue knows, and whether each is online."""
    # a worker's offers are, for the story server, the models it can write with
    listed = [{**{k: w.get(k) for k in WORKER_FIELDS}, "models": w.get("offers", [])} for w in _stories().workers()]
    return jsonify(workers=listed, online=sum(1 for w in listed if w["online"]))
