"""The README cannot drift from the code: every command it shows must be one the code accepts.

Each line of the README's ``sh`` blocks is checked against the real thing: a
``drivequeue`` or ``colab-worker`` command against the real argument parser,
a ``make`` target against the Makefile, a ``curl`` request against the web
app's routes. What the commands then do is the business of the other tests.
"""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from colab_worker.cli import build_parser as colab_worker_parser
from drivequeue.cli import build_parser, plugin_modules
from drivequeue.plugins import load
from webapp import create_app
from webapp.config import Config

REPO = Path(__file__).resolve().parent.parent
EXTERNAL = {"heroku", "git", "python3", "pip", "export"}  # other people's tools and the shell, shown for the deployer


def _shell_lines() -> list[str]:
    text = (REPO / "README.md").read_text()
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        lines += [line.strip() for line in joined.splitlines() if line.strip()]
    return lines


def _words(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # leading VAR=value assignments
        words.pop(0)
    if words:
        words[0] = Path(words[0]).name  # .venv/bin/drivequeue -> drivequeue
    return words


COMMANDS = [_words(line) for line in _shell_lines()]


def test_the_readme_shows_the_two_commands_first():
    assert COMMANDS[:2] == [["make", "demo"], ["make", "test"]]


@pytest.mark.parametrize("words", [w for w in COMMANDS if w and w[0] == "drivequeue"], ids=" ".join)
def test_drivequeue_commands_parse(words):
    build_parser(load(plugin_modules(words[1:]))).parse_args(words[1:])


@pytest.mark.parametrize("words", [w for w in COMMANDS if w and w[0] == "colab-worker"], ids=" ".join)
def test_colab_worker_commands_parse(words):
    colab_worker_parser().parse_args(words[1:])


@pytest.mark.parametrize("words", [w for w in COMMANDS if w and w[0] == "make"], ids=" ".join)
def test_make_targets_exist(words):
    targets = [w for w in words[1:] if "=" not in w]
    result = subprocess.run(["make", "-n", "--no-print-directory", *targets], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    config = Config(secret_key="readme", queue_url=str(tmp_path_factory.mktemp("queue")), environment="development")
    return create_app(config).url_map.bind("localhost")


@pytest.mark.parametrize("words", [w for w in COMMANDS if w and w[0] == "curl"], ids=" ".join)
def test_api_requests_name_real_routes(words, url_map):
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    url = next(w for w in words if w.startswith("http"))
    path = urlsplit(url.replace("/ID", "/" + "k" * 20 + "." + "s" * 22)).path
    url_map.match(path, method=method)  # raises NotFound or MethodNotAllowed


@pytest.mark.parametrize("words", [w for w in COMMANDS if w[:2] == ["python", "-m"]], ids=" ".join)
def test_python_modules_shown_parse(words):
    importlib.import_module(words[2]).build_parser().parse_args(words[3:])


def test_every_shell_command_is_checked():
    known = {"drivequeue", "colab-worker", "make", "curl", "python"} | EXTERNAL
    unchecked = [" ".join(w) for w in COMMANDS if w and w[0] not in known]
    assert not unchecked
