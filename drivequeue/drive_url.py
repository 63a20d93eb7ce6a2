"""``drive://`` URLs: ``drive://id:FOLDER_ID``, or ``drive://NAME`` for a folder this app created."""

from __future__ import annotations

from .errors import BadStoreURL
from .store import KEY_PATTERN


def parse_drive_url(url: str) -> tuple[str, str]:
    """``("id", FOLDER_ID)`` for ``drive://id:FOLDER_ID``, ``("name", NAME)`` for ``drive://NAME``."""
    if not url.startswith("drive://"):
        raise BadStoreURL(f"not a drive:// URL: {url!r}")
    rest = url[len("drive://") :].strip().rstrip("/")
    if rest.startswith("id:"):
        folder_id = rest[3:]
        if not KEY_PATTERN.fullmatch(folder_id):
            raise BadStoreURL("drive://id:FOLDER_ID needs a Drive folder id (letters, digits, - and _)")
        return "id", folder_id
    if not rest or "/" in rest or any(ord(c) < 32 for c in rest):
        raise BadStoreURL("use drive://id:FOLDER_ID, or drive://NAME for a folder this app created")
    return "name", rest
