"""The JSON API, for scripts and for the story page's own polling.

POST bodies must be ``application/json`` (415 otherwise): a cross-site HTML
form cannot send that without a CORS preflight this app never grants, which is
what makes these routes safe without a CSRF token.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from drivequeue import bounded_json

from .access import require_api_key
from .stories import Stories

bp = Blueprint("api", __name__, url_prefix="/api")

#: ASCII digits only (``str.isdigit`` takes other scripts' digits), few enough for ``int``
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")

#: what a visitor may see of a worker (no claim or store keys)
WORKER_FIELDS = ("id", "host", "device", "online", "last_seen")


def _stories() -> Stories:
    return current_app.extensions["stories"]


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
    if not WHOLE_NUMBER.fullmatch(raw_after):
        raise BadRequest("after must be a whole number of lines, 0 or more (digits 0-9 only).")
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
    """Stop the story; ``{"seen": N}``: keep at most the N lines seen and the one after."""
    _stories().cancel(story_id, _json_body())
    return _accepted(story_id)


@bp.get("/workers")
def workers():
    """The workers the queue knows, and whether each is online."""
    # a worker's offers are, for the story server, the models it can write with
    listed = [{**{k: w.get(k) for k in WORKER_FIELDS}, "models": w.get("offers", [])} for w in _stories().workers()]
    return jsonify(workers=listed, online=sum(1 for w in listed if w["online"]))
