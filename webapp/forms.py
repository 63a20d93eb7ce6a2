"""The page forms: each field checked by the queue's own rule for it, the error kept on that field.

Each form carries a CSRF token (Flask-WTF). A field's value goes through the
story kind's checker (``stories.kinds``) under the label the visitor sees,
so an error reads "Lines to write must be a whole number from 1 to 100" and
sits beside that field. ``payload()`` gives the fields the queue's story
payload takes, leaving out the ones the visitor left empty so the queue's
defaults apply.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import has_request_context, request
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, PasswordField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import HiddenInput

from drivequeue.errors import InvalidPayload
from drivequeue.kinds import Field, text
from stories.kinds import DEFAULT_LINES, DEFAULT_TEMPERATURE, MAX_SEED_CHARS, STORY

#: fields of the "Sampling settings" panel of the start page (opened when one has an error)
SAMPLING_FIELDS = ("temperature", "top_k", "top_p", "random_seed")
#: what a visitor types into a text box: a story's beginning, or the new text of an edited one
TYPED_TEXT = Field(text(MAX_SEED_CHARS))


class PageForm(FlaskForm):
    """A form a page posts: only form fields are read (Flask-WTF would take a JSON body
    as form data, unchecked)."""

    def __init__(self, **kwargs):
        if "formdata" not in kwargs and has_request_context() and request.is_json:
            kwargs["formdata"] = None  # read as not filled in: the form says what is missing
        super().__init__(**kwargs)


class _KnobsForm(PageForm):
    lines = IntegerField("Lines to write", default=DEFAULT_LINES, validators=[Optional()])
    temperature = FloatField("Temperature", default=DEFAULT_TEMPERATURE, validators=[Optional()])
    top_k = IntegerField("Top-k", validators=[Optional()])
    top_p = FloatField("Top-p", validators=[Optional()])
    access_key = PasswordField("Access key", validators=[Optional()])

    #: the fields that go into the queue's payload
    knobs = ("lines", "temperature", "top_k", "top_p")
    #: the fields in the order the page shows them (and its summary lists their errors)
    shown = ("seed", "lines", "model", "temperature", "top_k", "top_p", "random_seed", "access_key")

    def rules(self) -> Mapping[str, Field]:
        raise NotImplementedError

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name, field in self._fields.items():
            for i, message in enumerate(field.errors):
                if "Not a valid integer" in message:
                    field.errors[i] = f"{field.label.text} must be a whole number."
                elif "Not a valid float" in message:
                    field.errors[i] = f"{field.label.text} must be a number."
        rules = self.rules()
        for name in (*self.knobs, "seed"):
            if name not in self._fields or self[name].errors or name not in rules:
                continue
            value = self[name].data
            if name == "seed":
                value = value or ""
            elif value is None:
                continue  # left empty: the queue's default
            try:
                rules[name].check(self[name].label.text, value)
            except InvalidPayload as error:
                self[name].errors = [*self[name].errors, _sentence(str(error))]
                valid = False
        return valid

    def payload(self) -> dict:
        return {name: self[name].data for name in self.knobs if self[name].data is not None}

    def errors_in(self, names) -> bool:
        return any(self[name].errors for name in names if name in self._fields)

    def field_errors(self) -> list[tuple[str, str]]:
        """``(field id, message)`` for every error, in the order the fields are shown."""
        order = [name for name in self.shown if name in self._fields]
        order += [name for name in self._fields if name not in order]
        return [(self[name].id, message) for name in order for message in self[name].errors]


class StoryForm(_KnobsForm):
    """Start a story, or (with ``parent``) start one from an edited story."""

    seed = TextAreaField("Beginning of the story")
    random_seed = IntegerField("Random seed", validators=[Optional()])
    model = SelectField("Model", validators=[Optional()], validate_choice=False)
    parent = HiddenField(validators=[Optional()])
    story_id = HiddenField(validators=[Optional()])

    knobs = (*_KnobsForm.knobs, "random_seed")
    max_seed_chars = MAX_SEED_CHARS

    def rules(self) -> Mapping[str, Field]:
        return {**STORY.fields, "seed": TYPED_TEXT}

    def payload(self) -> dict:
        payload = super().payload()
        payload["seed"] = (self.seed.data or "").replace("\r\n", "\n")
        for name in ("model", "parent"):
            if self[name].data:
                payload[name] = self[name].data
        return payload


class EditForm(StoryForm):
    """Start a new story from a story's text with its end edited: the story's first ``keep``
    characters stay as they are, and the text box holds the rest (the limit is on the box)."""

    seed = TextAreaField("The story")
    keep = IntegerField(widget=HiddenInput(), default=0, validators=[Optional(), NumberRange(min=0)])

    def __init__(self, **kwargs):
        kwargs.setdefault("prefix", "edit")  # its fields are "edit-seed"...: one page also holds other forms
        super().__init__(**kwargs)
        if self.keep.data:
            self.seed.label.text = "The end of the story"

    def rules(self) -> Mapping[str, Field]:
        rules = super().rules()
        if self.keep.data and not (self.seed.data or "").strip():
            del rules["seed"]  # the end cut off: the story goes on from the text kept
        return rules


class ContinueForm(_KnobsForm):
    """Ask for more lines of the same story."""

    def rules(self) -> Mapping[str, Field]:
        return STORY.continue_fields or {}


class CancelForm(PageForm):
    """Stop a story (the form only carries the CSRF token)."""


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
