"""HTML pages: the start form, the story page, and the form posts behind its buttons.

The pages work without JavaScript (forms post and redirect, a story that is
still being written refreshes itself); with it, ``static/js/story.js`` follows
the story's event stream (or polls the JSON API) and reveals lines as they arrive.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests

from drivequeue.errors import InvalidPayload, JobStateError
from stories.kinds import DEFAULT_MODEL
from stories.status import StoryStatus

from .access import key_needed, require_form_key
from .errors import NotAStory, respond, too_many_message
from .forms import SAMPLING_FIELDS, CancelForm, ContinueForm, EditForm, StoryForm
from .limits import retry_after_seconds
from .stories import Stories
from .story_messages import SHIPPED, workers_line
from .story_text import edit_start, paragraphs

bp = Blueprint("pages", __name__)

MIN_POLL_MS = 200
#: the end of a long story offered for editing: whole paragraphs within this many characters,
#: which leaves room to add about as much again
EDIT_TAIL_CHARS = StoryForm.max_seed_chars // 2

#: beginnings a visitor can click to fill the text box: (button label, text)
EXAMPLES = (
    ("The miller's daughter", "Once upon a time there was a poor miller who had a beautiful daughter, "
     "and one day he boasted to the king that she could spin straw into gold."),
    ("The lantern in the wood", "At the edge of the dark wood stood a little house, and in its window "
     "a lantern burned every night, though nobody in the village knew who lit it."),
    ("The fox and the crow", "One morning a hungry fox was trotting through the forest when he saw a crow "
     "sitting high on a branch with a piece of cheese in her beak."),
)


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
        return _render_start(form, problems=[str(error)]), 400
    return redirect(url_for("pages.story", story_id=story_id), code=303)


@bp.get("/stories/<story_id:story_id>")
def story(story_id: str):
    """The story so far; the page's script appends the rest. A job of another kind has a page
    of its own."""
    try:
        view = _stories().status(story_id)
    except NotAStory:
        return redirect(url_for("jobs.job", job_id=story_id), code=303)
    return _render_story(view)


@bp.post("/stories/<story_id:story_id>/continue")
def continue_story(story_id: str):
    """More lines of this story."""
    form = ContinueForm()
    if not form.validate():
        return _render_story(_stories().status(story_id), continue_form=form), 400
    require_form_key(_config(), form.access_key.data)
    try:
        _stories().continue_story(story_id, form.payload())
    except (InvalidPayload, JobStateError) as error:
        return _render_story(_stories().status(story_id), continue_form=form, problem=str(error)), 400
    return redirect(url_for("pages.story", story_id=story_id), code=303)


@bp.post("/stories/<story_id:story_id>/edit")
def edit_story(story_id: str):
    """Start a new story from this one's text, its end edited (the limit is on the edited end)."""
    form = EditForm()
    if not form.validate():
        return _render_story(_stories().status(story_id), edit_form=form), 400
    require_form_key(_config(), form.access_key.data)
    payload = {name: value for name, value in form.payload().items() if name != "parent"}
    try:
        new_id = _stories().edit(story_id, form.keep.data or 0, payload, story_id=form.story_id.data or None)
    except InvalidPayload as error:
        return _render_story(_stories().status(story_id), edit_form=form, edit_problem=str(error)), 400
    return redirect(url_for("pages.story", story_id=new_id), code=303)


@bp.post("/stories/<story_id:story_id>/cancel")
def cancel_story(story_id: str):
    """Stop this story after the line being written."""
    form = CancelForm()
    if not form.validate():
        return _render_story(_stories().status(story_id)), 400
    try:
        _stories().cancel(story_id)
    except JobStateError as error:  # it finished while the visitor was reading
        return _render_story(_stories().status(story_id), problem=str(error)), 409
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


@bp.app_errorhandler(TooManyRequests)
def too_many(error: TooManyRequests):
    """A form sent too often is shown again with what was typed, and when to send it again."""
    wait = retry_after_seconds()
    headers = {"Retry-After": str(wait)}
    message = too_many_message(wait)
    if request.endpoint == "pages.create_story":
        form = StoryForm()
        return _render_start(form, problems=[message]), 429, headers
    if request.endpoint == "pages.continue_story":
        story_id = request.view_args["story_id"]
        return _render_story(_stories().status(story_id), ContinueForm(), problem=message), 429, headers
    return respond(429, f"Too many requests (the limit is {error.description}). "
                        f"Try again in {wait} second{'s' if wait != 1 else ''}.", headers)


def _render_start(form: StoryForm, problems: list[str] | None = None) -> str:
    models = _stories().models()
    form.model.choices = [(m, f"{m} ({SHIPPED})" if m == DEFAULT_MODEL else m) for m in models or [DEFAULT_MODEL]]
    workers = _stories().workers()
    return render_template(
        "index.html",
        form=form,
        problems=problems or [],
        key_needed=key_needed(_config()),
        workers_line=workers_line(workers),
        workers_online=any(w.get("online") for w in workers),
        examples=[{"title": title, "text": text} for title, text in EXAMPLES],
        sampling_fields=SAMPLING_FIELDS,
    )


def _render_story(view: StoryStatus, continue_form: ContinueForm | None = None, problem: str | None = None,
                  edit_form: EditForm | None = None, edit_problem: str | None = None) -> str:
    payload = dict(view.payload)
    if edit_form is None:
        text = view.text()
        keep = edit_start(text, EditForm.max_seed_chars, EDIT_TAIL_CHARS)
        edit_form = EditForm(formdata=None, data={**payload, "keep": keep})
        edit_form.seed.data = text[keep:].rstrip()
        edit_form.story_id.data = _stories().new_story_id()
    if continue_form is None:
        continue_form = ContinueForm(formdata=None, data=payload)
    problems = [problem] if problem else []
    problems += [
        f"{continue_form[name].label.text}: {message}"
        for name, messages in continue_form.errors.items()
        if name
        for message in messages
    ]
    poll_ms = max(MIN_POLL_MS, int(_stories().read_period * 1000))
    return render_template(
        "story.html",
        view=view,
        status_message=_stories().message(view),
        paragraphs=paragraphs(view.seed, view.lines, view.paragraph_ends, view.seed_end),
        problems=problems,
        continue_form=continue_form,
        edit_form=edit_form,
        edit_problem=edit_problem,
        kept_chars=edit_form.keep.data or 0,
        key_needed=key_needed(_config()),
        active=not view.state.finished,
        # polling faster than the cache refreshes would only fetch the same answer
        poll_ms=poll_ms,
    )

