"""A job queue whose transport is a folder of files: a local folder or a Google Drive folder.

See docs/protocol.md for the file layout and the Python API.
"""

from .errors import (
    BadStoreURL,
    ConfigError,
    DriveQueueError,
    InvalidKey,
    InvalidPayload,
    JobStateError,
    KeyExists,
    LeaseLost,
    NotFound,
    StoreUnavailable,
)
from .local import LocalStore
from .queue import Queue
from .records import PROTOCOL_VERSION
from .state import JobState
from .store import Entry, Store
from .story_text import story_text
from .timing import Timing
from .urls import open_store
from .worker import Claim, WorkerSession

__all__ = [
    "PROTOCOL_VERSION",
    "BadStoreURL",
    "Claim",
    "ConfigError",
    "DriveQueueError",
    "Entry",
    "InvalidKey",
    "InvalidPayload",
    "JobState",
    "JobStateError",
    "KeyExists",
    "LeaseLost",
    "LocalStore",
    "NotFound",
    "Queue",
    "Store",
    "StoreUnavailable",
    "Timing",
    "WorkerSession",
    "open_store",
    "story_text",
]
