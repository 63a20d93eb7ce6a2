"""The ``<story_id:...>`` URL converter: a malformed id is a 404 before any view runs.

A public id is ``<job key>.<secret>`` (docs/protocol.md); anything else never
reaches the cache or the store.
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter

STORY_ID_REGEX = r"[A-Za-z0-9_-]{1,100}\.[A-Za-z0-9_-]{22,64}"


class StoryIdConverter(BaseConverter):
    regex = STORY_ID_REGEX
