"""A story as Server-Sent Events: its lines as they are written, and each change of state.

Every stream of a story reads it through the app's shared cache
(``Stories.status``), so fifty open streams cost the store what one does: one
read per read period. Events:

``lines``  ``{"after": N, "lines": [...], "paragraph_ends": [...], "seed_end": ...}`` (how the
           lines flow: ``webapp/story_text.py``); its ``id`` is the new
           line count, so a reconnecting browser (``Last-Event-ID``) gets only what it lacks
``cut``    ``{"line_count": N}``: lines after the first N were dropped (a stop cut the story
           to what its visitor had seen); the page removes them
``state``  status, message, progress, ``stopping``: sent whenever one of them changes
``end``    the story is finished; the stream closes and the browser should not reconnect
``gone``   the story no longer exists
A comment goes out at once (Heroku's router wants a first byte within 30 s)
and then after every ``heartbeat`` seconds of silence (it cuts a connection
idle for 55 s). A stream ends by itself after ``lifetime`` seconds; the
browser reconnects where it left off, which keeps threads from being held by
tabs long forgotten.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

from drivequeue.errors import InvalidKey, NotFound, StoreUnavailable
from stories.status import StoryStatus

from .errors import STORE_DOWN
from .stories import Stories

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000
MIN_WAIT_SECONDS = 0.05


class StreamSlots:
    """At most ``limit`` open streams per process, so ordinary requests always find a thread;
    ``open``: how many are open now (a metric)."""

    def __init__(self, limit: int) -> None:
        self._free = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.open = 0
        self._count = threading.Lock()

    def take(self) -> bool:
        taken = self._free is not None and self._free.acquire(blocking=False)
        if taken:
            with self._count:
                self.open += 1
        return taken

    def give_back(self) -> None:
        assert self._free is not None
        with self._count:
            self.open -= 1
        self._free.release()


def event(name: str, data: dict, event_id: int | None = None) -> str:
    """One SSE event (data on one line: JSON never contains a raw newline)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def story_events(
    stories: Stories,
    story_id: str,
    after: int,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    lifetime: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """The events of one stream, starting after the first ``after`` lines the browser has."""
    yield f"retry: {RETRY_MS}\n: stream of a story\n\n"
    started = last_sent = clock()
    sent_lines, sent_state = after, None
    wait = max(stories.read_period, MIN_WAIT_SECONDS)
    while clock() - started < lifetime:
        try:
            status = stories.status(story_id)
        except (NotFound, InvalidKey):
            yield event("gone", {"message": "This story no longer exists on the server."})
            return
        except StoreUnavailable:
            status = None
            state = {"trouble": STORE_DOWN}
        chunk = ""
        if status is not None:
            if status.line_count < sent_lines:
                sent_lines = status.line_count
                chunk += event("cut", {"line_count": sent_lines}, sent_lines)
            if status.line_count > sent_lines:
                body = {"after": sent_lines, "lines": list(status.since(sent_lines).lines),
                        "paragraph_ends": list(status.paragraph_ends), "seed_end": status.seed_end}
                sent_lines = status.line_count
                chunk += event("lines", body, sent_lines)
            state = _state(status, stories.message(status))
        if state != sent_state:
            sent_state = state
            chunk += event("state", state)
        if status is not None and status.settled:
            yield chunk + event("end", {"status": status.state.value})
            return
        if chunk:
            last_sent = clock()
            yield chunk
        elif clock() - last_sent >= heartbeat:
            last_sent = clock()
            yield ": keep-alive\n\n"
        sleep(wait)


def _state(status: StoryStatus, message: str) -> dict:
    """What the page shows beside the story's text."""
    return {"status": status.state.value, "stopping": status.stopping, "message": message,
            "progress": dict(status.progress), "line_count": status.line_count,
            "lines_requested": status.lines_requested, "queue_position": status.queue_position,
            "error": status.error}
