"""The stories this browser has just made, remembered in its signed session cookie.

A web process learns of a story that another process made at its next look at the
queue's changes (within one read period; on Drive it no longer asks Drive about ids
it has not seen). A browser sent from the process that made its story to one that has
not looked since is not told there is no such story: that process waits for its next look.
"""

from __future__ import annotations

from flask import has_request_context, session

SESSION_FIELD = "made"
#: the newest ids kept (a cookie stays small)
KEEP = 5


def remember(story_id: str) -> None:
    """This browser just made ``story_id``."""
    if has_request_context():
        made = [known for known in session.get(SESSION_FIELD, []) if known != story_id]
        session[SESSION_FIELD] = made[-(KEEP - 1):] + [story_id]


def just_made(story_id: str) -> bool:
    """Whether this browser made ``story_id`` lately (outside a request: no)."""
    return has_request_context() and story_id in session.get(SESSION_FIELD, [])
