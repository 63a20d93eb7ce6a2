"""The web app's side of the queue: stories read through the cache, work submitted with checks."""

from __future__ import annotations

import time

from drivequeue import JobStatus, Queue
from drivequeue.errors import InvalidKey, InvalidPayload, NotFound
from stories.kinds import STORY, check_new_text
from stories.status import StoryStatus

from .config import Config
from .errors import NotAStory, QueueFull
from .just_made import just_made, remember
from .read_cache import ReadThroughCache
from .story_messages import describe

#: the worker list and the queue length change slowly and cost a listing each
SLOW_READ_SECONDS = 5.0


class Stories:
    """Submit, continue, cancel and read stories; reads cost the store at most one per interval."""

    def __init__(self, queue: Queue, config: Config) -> None:
        self.queue = queue
        self.max_queued = config.max_queued
        #: every page, poll and stream of a story shares one read of it per period
        self.read_period = (
            queue.timing.read if config.poll_interval is None else config.poll_interval
        )
        queue.follow_changes(self.read_period)  # statuses may lag one read period anyway
        self.statuses: ReadThroughCache[StoryStatus] = ReadThroughCache(self.read_period)
        self.listings: ReadThroughCache[list] = ReadThroughCache(
            max(self.read_period, SLOW_READ_SECONDS)
        )

    def status(self, story_id: str) -> StoryStatus:
        """The story with all its lines, as read at most one read period ago (``NotAStory`` for
        a job of another kind)."""
        status = self.job(story_id)
        if not isinstance(status, StoryStatus):
            raise NotAStory(status.kind)
        return status

    def job(self, job_id: str) -> JobStatus:
        """Any job with all its lines, through the same cache: a story (or a job whose file
        cannot be read, shown as a failed story) as a ``StoryStatus``. A story this browser has
        just made through another process is waited for until this process next looks."""
        try:
            return self.statuses.get(job_id, lambda: self._read(job_id))
        except NotFound:
            if not just_made(job_id):
                raise
        time.sleep(self.read_period)  # the cached answer is stale by then, and the queue looks again
        return self.statuses.get(job_id, lambda: self._read(job_id))

    def _read(self, job_id: str) -> JobStatus:
        status = self.queue.status(job_id)
        return StoryStatus.of(status) if status.kind in (None, STORY.name) else status

    def message(self, status: StoryStatus) -> str:
        """The one sentence the page and the API say about the story's state."""
        return describe(status, self.workers())

    def text(self, story_id: str) -> str:
        """The whole story as a plain-text file: sentences joined by spaces and paragraphs by a
        blank line (older stories: the seed, then one line per line)."""
        return self.status(story_id).text().rstrip() + "\n"

    def workers(self) -> list[dict]:
        """The workers the queue knows about, online or not."""
        return self.listings.get("workers", self.queue.workers)

    def models(self) -> list[str]:
        """Models offered by online workers (all known workers' if none is online)."""
        workers = self.workers()
        online = [w for w in workers if w.get("online")] or workers
        return sorted({model for worker in online for model in worker.get("offers", [])})

    def new_story_id(self) -> str:
        """An id for a form to submit with, so that sending it twice starts one story."""
        return self.queue.new_job_id()

    def submit(self, payload: dict, story_id: str | None = None) -> str:
        """Queue a new story (``InvalidPayload`` for bad input, ``QueueFull`` when busy)."""
        # types and ranges first: nothing unchecked reaches the cache or the store
        clean = STORY.validate(payload)
        if clean["parent"] is not None:
            check_new_text(clean["seed"], self._parent_text(clean["parent"]))
        self._check_room()
        story_id = self.queue.submit("story", payload, job_id=story_id)
        remember(story_id)
        self.statuses.forget(story_id)
        self.listings.forget("queued")
        return story_id

    def edit(self, parent: str, keep: int, payload: dict, story_id: str | None = None) -> str:
        """Queue a new story whose beginning is ``parent``'s first ``keep`` characters (as the
        model read them) followed by ``payload["seed"]``, the edited end."""
        text = self._parent_text(parent)
        if keep > len(text):
            raise InvalidPayload("the story is shorter than when this page was loaded: reload the page and edit again")
        return self.submit({**payload, "seed": text[:keep] + payload.get("seed", ""), "parent": parent},
                           story_id=story_id)

    def _parent_text(self, parent: str) -> str:
        try:
            return self.status(parent).text()  # the parent must exist and its link must be right
        except (NotFound, InvalidKey):
            raise InvalidPayload("parent is not a valid story id") from None

    def continue_story(self, story_id: str, payload: dict) -> None:
        """Ask for more lines (``JobStateError`` while it is still being written)."""
        self.status(story_id)  # a story, not a job of another kind
        self._check_room()
        self.queue.continue_job(story_id, payload)
        self.statuses.forget(story_id)
        self.listings.forget("queued")

    def cancel(self, story_id: str, options: dict | None = None) -> None:
        """Stop the story after the line being written (``options``: ``seen``, see the story kind)."""
        self.status(story_id)  # a story, not a job of another kind
        self.cancel_job(story_id, options)

    def cancel_job(self, job_id: str, options: dict | None = None) -> None:
        """Cancel any job (``options``: what its kind lets a cancel say)."""
        self.queue.cancel(job_id, options)
        self.statuses.forget(job_id)

    def _check_room(self) -> None:
        queued = self.listings.get(
            "queued", lambda: sum(1 for job in self.queue.jobs() if job["status"] == "queued")
        )
        if queued >= self.max_queued:
            raise QueueFull()
