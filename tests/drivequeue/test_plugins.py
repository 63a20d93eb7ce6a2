"""Plugins: found through entry points, DRIVEQUEUE_PLUGINS and --plugin; broken ones say why;
the CLI submits any kind they declare and reads its result."""

from __future__ import annotations

import json
import sys

import pytest

from drivequeue import LocalStore, Queue
from drivequeue.cli import main
from drivequeue.plugins import Plugin, PluginError, handlers_of, kinds_of, load, module_names

ECHO = "tests.drivequeue.echo_plugin"


def test_the_story_server_registers_its_kinds_through_an_entry_point():
    assert "stories.plugin" in module_names(environ={})
    assert sorted(kinds_of(load(environ={}))) == ["story", "train"]


def test_environment_and_command_line_add_plugins_once_each():
    names = module_names([ECHO, "json"], environ={"DRIVEQUEUE_PLUGINS": f" {ECHO} , "})
    assert names.count(ECHO) == 1 and names.index(ECHO) < names.index("json")
    assert sorted(kinds_of(load(environ={"DRIVEQUEUE_PLUGINS": ECHO}))) == ["echo", "story", "train"]


@pytest.mark.parametrize("module, message", [
    ("no_such_plugin_module", "cannot be imported"),
    ("json", "must define KINDS"),
])
def test_a_broken_plugin_is_named_with_the_reason(module, message):
    with pytest.raises(PluginError, match=f"plugin '{module}' {message}"):
        load([module], environ={})


def test_the_cli_exits_2_and_lists_the_known_kinds_for_an_unknown_one(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["submit", "paint", "--payload", "{}", "--queue", str(tmp_path)])
    assert exit_.value.code == 2
    assert "invalid choice: 'paint' (choose from 'story', 'train')" in capsys.readouterr().err
    assert main(["--plugin", "no_such_plugin_module", "list", "--queue", str(tmp_path)]) == 2


def test_the_cli_submits_any_plugin_kind_with_its_validation_and_reads_the_result(tmp_path, capsys, monkeypatch):
    from tests.drivequeue.test_function_handler import serve

    url = str(tmp_path / "queue")
    (tmp_path / "queue").mkdir()
    assert main(["submit", "echo", "--plugin", ECHO, "--payload", '{"text": "hi", "mode": "loud"}', "--queue", url]) == 2
    assert "mode must be ok, fail, crash or wait" in capsys.readouterr().err
    assert main(["submit", "echo", "--plugin", ECHO, "--payload", "[1]", "--queue", url]) == 2
    assert "--payload must be a JSON object" in capsys.readouterr().err
    monkeypatch.setenv("DRIVEQUEUE_PLUGINS", ECHO)  # as in a notebook: no --plugin needed
    assert main(["submit", "echo", "--payload", '{"text": "hi"}', "--queue", url]) == 0
    job_id = capsys.readouterr().out.split()[-1]
    queue = Queue(LocalStore(tmp_path / "queue"), kinds=kinds_of(load([ECHO], environ={})))
    serve(queue, tmp_path, max_jobs=1)
    assert main(["result", job_id, "--json", "--files", str(tmp_path / "out"), "--queue", url]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"id": job_id, "status": "done", "error": None, "result": {"length": 2}, "files": ["echo.txt"]}
    assert (tmp_path / "out" / "echo.txt").read_text() == "hihi"
    assert main(["status", job_id, "--queue", url]) == 0
    assert "lines: " not in capsys.readouterr().out  # not a counted kind


class Offering:
    """A plugin that is an object, not a module (as the story server's worker offers its own handlers)."""

    def __init__(self, kinds, handlers):
        self.KINDS, self._handlers = kinds, handlers

    def handlers(self, context):
        return {kind: handler for kind, handler in self._handlers.items() if context == "served here"}


def test_handlers_are_gathered_from_every_plugin_the_same_way_later_ones_winning():
    echo = load([ECHO], environ={})[-1]
    own = Plugin.of("own", Offering(echo.kinds, {"echo": "own echo"}))
    kinds = kinds_of([echo])
    assert handlers_of([own], "served here", kinds) == {"echo": "own echo"}
    gathered = handlers_of([own, echo], "served here", kinds)
    assert gathered["echo"] is sys.modules[ECHO].echo  # the loaded plugin's replaces the earlier one
    with pytest.raises(PluginError, match="plugin 'stray' has a handler for 'paint', a kind no plugin declares"):
        handlers_of([Plugin.of("stray", Offering([], {"paint": "brush"}))], "served here", kinds)
    with pytest.raises(PluginError, match="plugin 'bare' must define KINDS"):
        Plugin.of("bare", object())
