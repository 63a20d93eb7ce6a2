"""Public job ids: ``<job key>.<secret>``, a capability (docs/protocol.md).

The store keeps only a hash of the secret; every read by id compares it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from .errors import InvalidKey, shown

#: a public job id is ``<job key>.<secret>``; web routes match the same text (``JOB_ID_REGEX``)
JOB_KEY_REGEX = r"[A-Za-z0-9_-]{1,100}"
JOB_ID_REGEX = rf"{JOB_KEY_REGEX}\.[A-Za-z0-9_-]{{22,64}}"
JOB_ID_PATTERN = re.compile(rf"({JOB_KEY_REGEX})\.([A-Za-z0-9_-]{{22,64}})")
MAX_JOB_ID_LENGTH = 165


def new_secret() -> str:
    return secrets.token_urlsafe(16)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def make_job_id(key: str, secret: str) -> str:
    return f"{key}.{secret}"


def parse_job_id(job_id: object) -> tuple[str, str]:
    """Split a public id into (store key, secret); ``InvalidKey`` if malformed."""
    if not isinstance(job_id, str) or len(job_id) > MAX_JOB_ID_LENGTH or not JOB_ID_PATTERN.fullmatch(job_id):
        raise InvalidKey(f"{shown(job_id)} is not a job id: an id is the KEY.SECRET that submit printed")
    match = JOB_ID_PATTERN.fullmatch(job_id)
    return match.group(1), match.group(2)


SECRET_HASH = re.compile(r"[0-9a-f]{64}")


def secret_matches(secret: str, secret_hash: object) -> bool:
    if not isinstance(secret_hash, str) or not SECRET_HASH.fullmatch(secret_hash):
        return False
    return hmac.compare_digest(hash_secret(secret), secret_hash)
