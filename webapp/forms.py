"""The page forms. They check types only; the queue checks ranges and says what is wrong.

Each form carries a CSRF token (Flask-WTF). ``payload()`` gives the fields the
queue's story payload takes, leaving out the ones the visitor left empty so
the queue's defaults apply.
"""

from __future__ import annotations

from flask import has_request_context, request
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, PasswordField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from stories.kinds import DEFAULT_LINES, DEFAULT_TEMPERATURE


class _PageForm(FlaskForm):
    """A form a page posts: only form fields are read (Flask-WTF would take a JSON body
    as form data, unchecked)."""

    def __init__(self, **kwargs):
        if "formdata" not in kwargs and has_request_context() and request.is_json:
            kwargs["formdata"] = None  # read as not filled in: the form says what is missing
        super().__init__(**kwargs)


class _KnobsForm(_PageForm):
    lines = IntegerField("Lines to write", default=DEFAULT_LINES, validators=[Optional()])
    temperature = FloatField("Temperature", default=DEFAULT_TEMPERATURE, validators=[Optional()])
    top_k = IntegerField("Top-k", validators=[Optional()])
    top_p = FloatField("Top-p", validators=[Optional()])
    access_key = PasswordField("Access key", validators=[Optional()])

    #: the fields that go into the queue's payload
    knobs = ("lines", "temperature", "top_k", "top_p")

    def payload(self) -> dict:
        return {name: self[name].data for name in self.knobs if self[name].data is not None}


class StoryForm(_KnobsForm):
    """Start a story, or (with ``parent``) start one from an edited story."""

    seed = TextAreaField("Beginning of the story", validators=[InputRequired()])
    random_seed = IntegerField("Random seed", validators=[Optional()])
    model = SelectField("Model", validators=[Optional()], validate_choice=False)
    parent = HiddenField(validators=[Optional()])
    story_id = HiddenField(validators=[Optional()])

    knobs = (*_KnobsForm.knobs, "random_seed")

    def payload(self) -> dict:
        payload = super().payload()
        payload["seed"] = self.seed.data.replace("\r\n", "\n")
        for name in ("model", "parent"):
            if self[name].data:
                payload[name] = self[name].data
        return payload


class ContinueForm(_KnobsForm):
    """Ask for more lines of the same story."""


class CancelForm(_PageForm):
    """Stop a story (the form only carries the CSRF token)."""
