"""``Env``: every package reads its settings one way, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivequeue.env import Env
from drivequeue.errors import ConfigError


def test_unset_or_blank_means_the_default_and_values_lose_surrounding_blanks():
    env = Env({"BLANK": "  ", "NAME": " grimm \n", "COUNT": " 8 ", "SECONDS": "2.5", "HOME_DIR": "~/models"})
    assert env.text("MISSING", "default") == "default" and env.text("BLANK") is None
    assert env.text("NAME") == "grimm"
    assert env.number("COUNT", int, 1) == 8 and env.number("BLANK", int, 1) == 1
    assert env.number("SECONDS", float, None) == 2.5 and env.number("MISSING", float, None) is None
    assert env.path("HOME_DIR", None) == Path("~/models").expanduser() and env.path("BLANK", "x") == "x"


@pytest.mark.parametrize("raw, kind, message", [
    ("many", int, "COUNT must be a number, not 'many'"),
    ("1.5", int, "COUNT must be a number, not '1.5'"),
    ("nan?", float, "COUNT must be a number, not 'nan?'"),
    ("nan", float, "COUNT must be a number, not 'nan'"),
    ("inf", float, "COUNT must be a number, not 'inf'"),
    ("-Infinity", float, "COUNT must be a number, not '-Infinity'"),
    ("-1", int, "COUNT must be 0 or more, not '-1'"),
    ("-" + "9" * 400, int, "COUNT must be 0 or more"),
])
def test_a_value_that_cannot_be_read_names_the_variable(raw, kind, message):
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace(".", r"\.")):
        Env({"COUNT": raw}).number("COUNT", kind, 3, minimum=0)


def test_it_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("DRIVEQUEUE_TEST_SETTING", "7")
    assert Env().number("DRIVEQUEUE_TEST_SETTING", int, 0) == 7
