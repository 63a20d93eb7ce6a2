"""The JSON API, for scripts and for the story page's own polling.

POST bodies must be ``application/json`` (415 otherwise): a cross-site HTML
form cannot send that without a CORS preflight this app never grants, which is
what makes these routes safe without a CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from .access import require_api_key
from .stories import Stories

bp = Blueprint("api", __name__, url_prefix="/api")

#: what a visitor may see of a worker (no claim or store keys)
WORKER_FIELDS = ("id", "host", "device", "online", "last_seen")


def _stories() -> Stories:
    return current_app.extensions["stories"]


def _json_body() -> dict:
    if not request.is_json:
        raise UnsupportedMediaType("Send the request body as JSON (Content-Type: application/json).")
    if not request.content_length:
        return {}
    body = request.get_json()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _urls(story_id: str) -> dict:
    return {
        "page": url_for("pages.story", story_id=story_id, _external=True),
        "api": url_for("api.story", story_id=story_id, _external=True),
        "text": url_for("pages.download", story_id=story_id, _external=True),
        "continue": url_for("api.continue_story", story_id=story_id, _external=True),
        "cancel": url_for("api.cancel_story", story_id=story_id, _external=True),
    }


def _accepted(story_id: str):
    view = _stories().view(story_id)
    body = {"id": story_id, "status": view["status"], "message": view["message"], "urls": _urls(story_id)}
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
    raw_after = request.args.get("after", "0")
    if not raw_after.isdigit():
        raise BadRequest("after must be a whole number of lines, 0 or more.")
    view = _stories().view(story_id, after=int(raw_after))
    return jsonify({**view, "urls": _urls(story_id)})


@bp.post("/stories/<story_id:story_id>/continue")
def continue_story(story_id: str):
    """Ask for more lines (409 while the story is still being written)."""
    require_api_key(current_app.extensions["webapp_config"])
    body = _json_body()
    _stories().continue_story(story_id, body)
    return _accepted(story_id)


@bp.post("/stories/<story_id:story_id>/cancel")
def cancel_story(story_id: str):
    """Stop the story after the line being written."""
    _json_body()
    _stories().cancel(story_id)
    return _accepted(story_id)


@bp.get("/workers")
def workers():
    """The workers the queue knows, and whether each is online."""
    # a worker's offers are, for the story server, the models it can write with
    listed = [{**{k: w.get(k) for k in WORKER_FIELDS}, "models": w.get("offers", [])} for w in _stories().workers()]
    return jsonify(workers=listed, online=sum(1 for w in listed if w["online"]))
