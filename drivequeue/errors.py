"""Exceptions of the queue and its stores: each names one thing that went wrong; ``shown``
quotes a value in their messages."""


class DriveQueueError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidKey(DriveQueueError, ValueError):
    """A key, name or public job id is malformed; it never reached the store."""


class NotFound(DriveQueueError, KeyError):
    """No file (or job) with that key."""

    def __str__(self) -> str:  # KeyError quotes its argument; a message reads better
        return self.args[0] if self.args else "not found"


class KeyExists(DriveQueueError):
    """``create`` met a key that already exists (someone else won)."""


class StoreUnavailable(DriveQueueError):
    """The backend could not be reached or kept failing; back off and retry later."""


class CredentialsError(StoreUnavailable):
    """Google credentials are missing, malformed or refused; the message says how to fix it."""


class ChecksumMismatch(StoreUnavailable):
    """A transferred file's checksum differs from the original; nothing was kept, try again."""


class BadStoreURL(DriveQueueError, ValueError):
    """A queue URL that names no store this package knows."""


class ConfigError(DriveQueueError, ValueError):
    """A setting read from the environment is malformed."""


class InvalidPayload(DriveQueueError, ValueError):
    """A job request is malformed; the message says what to fix and can be shown to a user.

    ``field``: the request field at fault, when one is (its message then begins with the
    field's name, which a command line can replace with the flag the person typed).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class CorruptRecord(DriveQueueError):
    """A file in the queue does not hold what the protocol says it should."""


class UnreadableFile(CorruptRecord):
    """Something exists under a key but cannot be read as a file of the queue: not a regular file
    (a folder, a link, a FIFO), a folder or Google Docs file on Drive, a Redis key of the wrong
    type, or more bytes than the read takes (refused before any of it is read)."""


class JobStateError(DriveQueueError):
    """The job is not in a state that allows this (e.g. continuing a running job)."""


class JobFailed(DriveQueueError):
    """The job cannot succeed. A handler raises it to fail its job (final, not retried);
    ``Queue.result`` raises it for a job that failed or was cancelled."""


class LeaseLost(DriveQueueError):
    """This worker no longer holds the claim (its lease expired or another worker took over)."""


class FileTooBig(DriveQueueError, ValueError):
    """A file is bigger than this store takes; the message says the limit and where big files belong."""


def shown(value: object) -> str:
    """``value`` quoted in a message about a file or a request: short, whatever it holds."""
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, (bool, type(None))) or (isinstance(value, (int, float)) and abs(value) < 1e15):
        return repr(value)
    if isinstance(value, (int, float)):
        return "a very large number"
    return f"a JSON {'object' if isinstance(value, dict) else 'array' if isinstance(value, list) else 'value'}"
