"""Exceptions of the queue and its stores: each names one thing that went wrong."""


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


class BadStoreURL(DriveQueueError, ValueError):
    """A queue URL that names no store this package knows."""
