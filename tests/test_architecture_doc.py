"""docs/architecture.md stays a true map: every file it names exists, and it names every module
of the queue, of the story plugin and of the worker."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
#: the sections of the map, by package: ``drivequeue/``, the queue: ... up to the next package
SECTIONS = dict(re.findall(r"^`(\w+)/`(.*?)(?=^`\w+/`|^## )", DOC, flags=re.MULTILINE | re.DOTALL))


def named_files(text: str) -> set[str]:
    return set(re.findall(r"`([\w/-]+\.(?:py|html|js))`", text))


def test_every_file_the_map_names_exists():
    for package, text in SECTIONS.items():
        for name in named_files(text):
            assert (ROOT / package / name).is_file(), f"{package}/{name}"
    for path in named_files(DOC.split("## From a POST", 1)[1]):
        assert "/" not in path or (ROOT / path).is_file(), path


def test_the_map_names_every_module_of_the_queue_the_story_plugin_and_the_worker():
    assert set(SECTIONS) == {"drivequeue", "stories", "webapp", "colab_worker"}
    for package in ("drivequeue", "stories", "colab_worker"):
        modules = {path.name for path in (ROOT / package).glob("*.py")} - {"__init__.py", "__main__.py"}
        assert modules <= named_files(SECTIONS[package]), sorted(modules - named_files(SECTIONS[package]))
