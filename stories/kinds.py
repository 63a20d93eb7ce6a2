"""The story server's job kinds, ``story`` and ``train``: one definition for the web app, the
CLI and the worker (declared to ``drivequeue`` by ``stories.plugin``).

The limits and defaults below are what the form, the templates and the CLI show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drivequeue.errors import InvalidPayload
from drivequeue.kinds import (
    Field,
    JobKind,
    flag,
    integer,
    job_id,
    matching,
    number,
    pushed_file_name,
    text,
)

from .status import StoryStatus
from .training import CHARS, check_shape, payload_fields

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DEFAULT_MODEL = "default"
#: the most a person types: a new story's beginning, or the new text of an edited story
MAX_SEED_CHARS = 4000
#: the longest beginning of an edited story: the text kept from its parent and the new text
#: (a story of ``MAX_STORY_LINES`` long lines fits, and so does its job file)
MAX_EDITED_SEED_CHARS = 500_000
LINES = (1, 100)
DEFAULT_LINES = 10
MAX_STORY_LINES = 1000
TEMPERATURE = (0.1, 2.0)
DEFAULT_TEMPERATURE = 0.8
TOP_K = (0, 200)
MAX_LINE_CHARS = (20, 1000)
DEFAULT_MAX_LINE_CHARS = 400
#: larger than any story (``MAX_STORY_LINES``), small enough to store as a plain number
MAX_SEEN = 1_000_000


def model_name(name: str, value: Any) -> str:
    return matching(MODEL_NAME, "a model name: lowercase letters, digits, - and _ (at most 40)")(name, value)


def new_model_name(name: str, value: Any) -> str:
    value = model_name(name, value)
    if value == DEFAULT_MODEL:
        raise InvalidPayload(f"{name} 'default' is the shipped model; choose another name")
    return value


def model_from_corpus(corpus: str) -> str | None:
    """``corpora/Grimm.v2.txt`` -> ``grimm-v2``: the default name of a model trained on ``corpus``."""
    stem = corpus.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem[1:] else stem
    return re.sub(r"[^a-z0-9_]+", "-", stem.lower()).strip("-_")[:40] or None


random_seed = integer(0, 2**32 - 1)


def lines_seen(name: str, value: Any) -> int:
    """How many lines of the story a reader had seen: a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEEN:
        raise InvalidPayload(f"{name} must be the number of lines seen: a whole number, 0 or more")
    return value


def story_lines_kept(options: Mapping[str, Any], start: int, written: int) -> int:
    """A story stopped by a reader who had seen ``seen`` lines keeps at most one more (the
    line that was being written when they asked), never fewer than its earlier segments'."""
    seen = options.get("seen")
    if seen is None:
        return written
    return max(start, min(written, seen + 1))


def new_text(seed: str, parent_text: str) -> str:
    """What an edited story adds to its parent: its seed after the longest beginning the two share."""
    shared = 0
    for mine, theirs in zip(seed, parent_text):
        if mine != theirs:
            break
        shared += 1
    return seed[shared:]


def check_new_text(seed: str, parent_text: str) -> None:
    """The limit on typed text, for an edited story: its new text (``new_text``)."""
    added = len(new_text(seed, parent_text))
    if added > MAX_SEED_CHARS:
        raise InvalidPayload(f"seed changes or adds {added:,} characters to the story it was edited from; "
                             f"at most {MAX_SEED_CHARS:,} may be new", field="seed")


def story_rule(payload: Mapping[str, Any]) -> None:
    """A story of its own (no ``parent``) starts from at most ``MAX_SEED_CHARS`` typed characters."""
    if payload["parent"] is None and len(payload["seed"]) > MAX_SEED_CHARS:
        raise InvalidPayload(f"seed is longer than {MAX_SEED_CHARS} characters", field="seed")


SAMPLING = {
    "temperature": Field(number(*TEMPERATURE), DEFAULT_TEMPERATURE),
    "top_k": Field(integer(*TOP_K), 0),
    "top_p": Field(number(0.0, 1.0, above_lo=True), 1.0),
}

STORY_FIELDS = {
    "seed": Field(text(MAX_EDITED_SEED_CHARS)),
    "lines": Field(integer(*LINES), DEFAULT_LINES),
    **SAMPLING,
    "model": Field(model_name, DEFAULT_MODEL),
    "random_seed": Field(random_seed, None),
    "max_line_chars": Field(integer(*MAX_LINE_CHARS), DEFAULT_MAX_LINE_CHARS),
    "parent": Field(job_id("story"), None),
}

# Version 2: a line is a sentence (with models trained on unwrapped text) and its output
# reports paragraph breaks; version 1 stories (lines of at most 200 characters) still run.
STORY = JobKind(
    name="story",
    version=2,
    fields=STORY_FIELDS,
    older={1: {**STORY_FIELDS, "max_line_chars": Field(integer(*MAX_LINE_CHARS), 200)}},
    # knobs left out of a continue keep the first segment's values
    continue_fields={
        "lines": Field(integer(*LINES), DEFAULT_LINES),
        **{name: Field(spec.check, None) for name, spec in SAMPLING.items()},
    },
    offer_field="model",
    count_field="lines",
    max_count=MAX_STORY_LINES,
    cancel_fields={"seen": Field(lines_seen, None)},
    lines_kept=story_lines_kept,
    status_class=StoryStatus,
    check=story_rule,
    serve_by_default=False,  # a model and torch: `drivequeue worker` serves it when --kinds names it
)

# Version 2: every option of ``stories.training`` (the same names and defaults as ``colab-worker
# train``); version 1 jobs (steps, hidden_size, layers, seq_len, batch_size, learning_rate,
# random_seed) still run, and train what they trained then (``train_job_settings``).
TRAIN = JobKind(
    name="train",
    version=2,
    fields={"corpus": Field(pushed_file_name), "model": Field(new_model_name), **payload_fields()},
    older={1: {
        "corpus": Field(pushed_file_name),
        "model": Field(new_model_name),
        "steps": Field(integer(1, 100_000), 2000),
        "hidden_size": Field(integer(32, 2048), 256),
        "layers": Field(integer(1, 4), 2),
        "seq_len": Field(integer(16, 1024), 128),
        "batch_size": Field(integer(1, 512), 32),
        "learning_rate": Field(number(1e-5, 1.0), 2e-3),
        "random_seed": Field(random_seed, None),
    }},
    # keep: stop now and publish the best model so far (its result says so); else nothing is kept
    cancel_fields={"keep": Field(flag, False)},
    check=check_shape,
    serve_by_default=False,
)

#: what a version 1 train job trains, as workers did before subword models: a character model
#: with an embedding of its own, 64 wide, on the text uncleaned (its checkpoint resumes so)
TRAIN_V1_OPTIONS = {"tokenizer": CHARS, "embedding_dim": 64, "tie_embeddings": False, "dropout": 0.1}
TRAIN_V1_SETTINGS = {"clean": False}


def train_job_settings(payload: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A train job's options by name (``stories.training.TRAIN_OPTIONS``) and the further
    ``TrainConfig`` settings its version implies."""
    if payload.get("v") == 1:
        return {**payload, **TRAIN_V1_OPTIONS}, dict(TRAIN_V1_SETTINGS)
    return dict(payload), {}
