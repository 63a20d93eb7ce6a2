"""A job queue for any job, whose transport is a folder of files: a local folder or a Google Drive folder.

See docs/protocol.md for the file layout and the Python API, docs/plugins.md for
defining job kinds and serving them.
"""

from .errors import (
    BadStoreURL,
    ConfigError,
    DriveQueueError,
    InvalidKey,
    InvalidPayload,
    JobFailed,
    JobStateError,
    KeyExists,
    LeaseLost,
    NotFound,
    StoreUnavailable,
)
from .local import LocalStore
from .memory import MemoryStore
from .queue import Queue
from .records import PROTOCOL_VERSION
from .function_handler import Job, Stopped
from .function_kind import InputFile, Range, Text, kind
from .kinds import Field, JobKind
from .status import JobState, JobStatus
from .store import Entry, Store
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
    "Job",
    "JobFailed",
    "JobKind",
    "Field",
    "InputFile",
    "JobState",
    "JobStatus",
    "JobStateError",
    "KeyExists",
    "LeaseLost",
    "LocalStore",
    "MemoryStore",
    "NotFound",
    "Queue",
    "Range",
    "Store",
    "StoreUnavailable",
    "Stopped",
    "Text",
    "Timing",
    "WorkerSession",
    "kind",
    "open_store",
]
