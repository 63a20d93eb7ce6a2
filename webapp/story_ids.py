"""The ``<story_id:...>`` URL converter: a malformed id is a 404 before any view runs.

A public id is ``<job key>.<secret>`` (docs/protocol.md); anything else never
reaches the cache or the store.
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter

from drivequeue.job_ids import JOB_ID_REGEX


class StoryIdConverter(BaseConverter):
    regex = JOB_ID_REGEX
