"""The story server's settings as command-line flags, the same on every command: the training
options (``stories.training.TRAIN_OPTIONS``) for ``colab-worker train`` and ``drivequeue submit
train``, and a story's sampling settings for ``colab-worker generate``, ``drivequeue submit
story`` and ``continue``. Each flag shows its default in its help and is checked by the same rule
as the job's payload, under the flag's name."""

from __future__ import annotations

import argparse
from typing import Any

from . import kinds as k
from .training import TRAIN_OPTIONS, check_shape

#: a story's sampling settings: payload name -> (flag, help)
SAMPLING_FLAGS = {
    "temperature": ("--temperature", f"randomness: lower is safer, higher is wilder ({k.TEMPERATURE[0]:g}-"
                                     f"{k.TEMPERATURE[1]:g}, default {k.DEFAULT_TEMPERATURE:g})"),
    "top_k": ("--top-k", f"draw from the k likeliest next tokens ({k.TOP_K[0]}-{k.TOP_K[1]}; 0, the default: all)"),
    "top_p": ("--top-p", "draw from the likeliest tokens that make up this share (above 0, at most 1; "
                         "1, the default: all)"),
}


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every option; left out, it is None (the option's default applies)."""
    group = parser.add_argument_group("training options (the same on every command and in a train job)")
    for option in TRAIN_OPTIONS:
        default = option.default
        if isinstance(default, bool):
            group.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=None,
                               help=f"{option.help} (default: {'yes' if default else 'no'})")
        else:
            group.add_argument(option.flag, type=type(default), default=None, metavar=option.name.upper(),
                               help=f"{option.help} (default {default:g})" if isinstance(default, float)
                               else f"{option.help} (default {default})")


def train_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The options typed, by name, each checked, and the model they describe too, before any
    corpus is read (``InvalidPayload`` naming the flag)."""
    typed = {option.name: getattr(args, option.name) for option in TRAIN_OPTIONS
             if getattr(args, option.name) is not None}
    for option in TRAIN_OPTIONS:
        if option.name in typed:
            typed[option.name] = option.check(option.flag, typed[option.name])
    check_shape(typed)
    return typed


def add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    """``--temperature``, ``--top-k`` and ``--top-p``; left out, each is None."""
    for name, (flag, help_text) in SAMPLING_FLAGS.items():
        parser.add_argument(flag, type=type(k.SAMPLING[name].default), help=help_text)


def sampling_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The sampling settings typed, by payload name, each checked as a story's payload is
    (``InvalidPayload`` naming the flag)."""
    return {name: k.SAMPLING[name].check(flag, getattr(args, name))
            for name, (flag, _) in SAMPLING_FLAGS.items() if getattr(args, name) is not None}
