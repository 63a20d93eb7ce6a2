"""HTML pages: the start form, the story page, and the form posts behind its buttons.

The pages work without JavaScript (forms post and redirect, a story that is
still being written refreshes itself); with it, ``static/js/story.js`` polls the
JSON API and appends lines as they arrive.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, url_for

from drivequeue.errors import InvalidPayload, JobStateError

from .access import key_needed, require_form_key
from .forms import CancelForm, ContinueForm, StoryForm
from .stories import Stories

bp = Blueprint("pages", __name__)

MIN_POLL_MS = 200


def _stories() -> Stories:
    return current_app.extensions["stories"]


def _config():
    return current_app.extensions["webapp_config"]


@bp.get("/")
def index():
    """The start page."""
    form = StoryForm()
    form.story_id.data = _stories().new_story_id()
    return _render_start(form)


@bp.post("/stories")
def create_story():
    """Start a story from the start form or from the edit form of a story page."""
    form = StoryForm()
    if not form.validate():
        return _render_start(form), 400
    require_form_key(_config(), form.access_key.data)
    try:
        story_id = _stories().submit(form.payload(), story_id=form.story_id.data or None)
    except InvalidPayload as error:
        form.form_errors.append(str(error))
        return _render_start(form), 400
    return redirect(url_for("pages.story", story_id=story_id), code=303)


@bp.get("/stories/<story_id:story_id>")
def story(story_id: str):
    """The story so far; the page's script appends the rest."""
    view = _stories().view(story_id)
    return _render_story(view)


@bp.post("/stories/<story_id:story_id>/continue")
def continue_story(story_id: str):
    """More lines of this story."""
    form = ContinueForm()
    if not form.validate():
        return _render_story(_stories().view(story_id), continue_form=form), 400
    require_form_key(_config(), form.access_key.data)
    try:
        _stories().continue_story(story_id, form.payload())
    except (InvalidPayload, JobStateError) as error:
        return _render_story(_stories().view(story_id), continue_form=form, problem=str(error)), 400
    return redirect(url_for("pages.story", story_id=story_id), code=303)


@bp.post("/stories/<story_id:story_id>/cancel")
def cancel_story(story_id: str):
    """Stop this story after the line being written."""
    form = CancelForm()
    if not form.validate():
        return _render_story(_stories().view(story_id)), 400
    try:
        _stories().cancel(story_id)
    except JobStateError as error:  # it finished while the visitor was reading
        return _render_story(_stories().view(story_id), problem=str(error)), 409
    return redirect(url_for("pages.story", story_id=story_id), code=303)


@bp.get("/stories/<story_id:story_id>/story.txt")
def download(story_id: str):
    """The story as a plain-text file."""
    return Response(
        _stories().text(story_id),
        mimetype="text/plain",
        headers={"Content-Disposition": 'attachment; filename="story.txt"'},
    )


@bp.get("/healthz")
def healthz():
    """For load balancers and the deploy check: the app is up (the queue is not read)."""
    return {"ok": True}


def _render_start(form: StoryForm) -> str:
    models = _stories().models()
    form.model.choices = [(m, m) for m in models or ["default"]]
    return render_template("index.html", form=form, key_needed=key_needed(_config()))


def _render_story(
    view: dict, continue_form: ContinueForm | None = None, problem: str | None = None
) -> str:
    payload = view["payload"]
    edit_form = StoryForm(formdata=None, data={**payload, "parent": view["id"]})
    edit_form.seed.data = _stories().text(view["id"]).rstrip("\n")
    if continue_form is None:
        continue_form = ContinueForm(formdata=None, data=payload)
    problems = [problem] if problem else []
    problems += [
        f"{continue_form[name].label.text}: {message}"
        for name, messages in continue_form.errors.items()
        if name
        for message in messages
    ]
    poll_ms = max(MIN_POLL_MS, int(_config().poll_interval * 1000))
    return render_template(
        "story.html",
        view=view,
        problems=problems,
        continue_form=continue_form,
        edit_form=edit_form,
        key_needed=key_needed(_config()),
        active=view["status"] in ("queued", "running"),
        # polling faster than the cache refreshes would only fetch the same answer
        poll_ms=poll_ms,
    )

