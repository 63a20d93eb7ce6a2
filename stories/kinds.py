"""The story server's job kinds, ``story`` and ``train``: one definition for the web app, the
CLI and the worker (a ``drivequeue`` plugin, registered through the ``drivequeue.plugins``
entry point).

The limits and defaults below are what the form, the templates and the CLI show.
"""

from __future__ import annotations

import re
from typing import Any

from drivequeue.errors import InvalidPayload
from drivequeue.kinds import (
    Field,
    JobKind,
    integer,
    job_id,
    matching,
    number,
    pushed_file_name,
    text,
)

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DEFAULT_MODEL = "default"
MAX_SEED_CHARS = 4000
LINES = (1, 100)
DEFAULT_LINES = 10
MAX_STORY_LINES = 1000
TEMPERATURE = (0.1, 2.0)
DEFAULT_TEMPERATURE = 0.8
TOP_K = (0, 200)
MAX_LINE_CHARS = (20, 1000)
DEFAULT_MAX_LINE_CHARS = 200


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

SAMPLING = {
    "temperature": Field(number(*TEMPERATURE), DEFAULT_TEMPERATURE),
    "top_k": Field(integer(*TOP_K), 0),
    "top_p": Field(number(0.0, 1.0, above_lo=True), 1.0),
}

STORY = JobKind(
    name="story",
    version=1,
    fields={
        "seed": Field(text(MAX_SEED_CHARS)),
        "lines": Field(integer(*LINES), DEFAULT_LINES),
        **SAMPLING,
        "model": Field(model_name, DEFAULT_MODEL),
        "random_seed": Field(random_seed, None),
        "max_line_chars": Field(integer(*MAX_LINE_CHARS), DEFAULT_MAX_LINE_CHARS),
        "parent": Field(job_id("story"), None),
    },
    # knobs left out of a continue keep the first segment's values
    continue_fields={
        "lines": Field(integer(*LINES), DEFAULT_LINES),
        **{name: Field(spec.check, None) for name, spec in SAMPLING.items()},
    },
    offer_field="model",
    count_field="lines",
    max_count=MAX_STORY_LINES,
)

TRAIN = JobKind(
    name="train",
    version=1,
    fields={
        "corpus": Field(pushed_file_name),
        "model": Field(new_model_name),
        "steps": Field(integer(1, 100_000), 2000),
        "hidden_size": Field(integer(32, 2048), 256),
        "layers": Field(integer(1, 4), 2),
        "seq_len": Field(integer(16, 1024), 128),
        "batch_size": Field(integer(1, 512), 32),
        "learning_rate": Field(number(1e-5, 1.0), 2e-3),
        "random_seed": Field(random_seed, None),
    },
)

#: what this plugin declares (docs/plugins.md)
KINDS = [STORY, TRAIN]


def cli(submit, more, common) -> None:
    """The story server's own ``drivequeue submit`` commands and ``continue`` flags."""
    from .cli import cli as add

    add(submit, more, common)
