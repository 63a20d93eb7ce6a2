"""The story server as a ``drivequeue`` plugin (docs/plugins.md), through this one module: the
job kinds ``story`` and ``train`` (``stories.kinds``) and the friendlier ``drivequeue submit``
commands and flags (``stories.cli``). The handlers that serve the kinds are the worker's
(``colab_worker``: they need torch, which producers never load).
"""

from .cli import cli
from .kinds import STORY, TRAIN

KINDS = [STORY, TRAIN]

__all__ = ["KINDS", "cli"]
