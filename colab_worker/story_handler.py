"""Story jobs: every running story decoded in one batch per model, each line written the moment it exists.

The text fed to the model is the seed and every line written so far, joined as
``stories.story_text`` says (sentence lines by a space or a paragraph break,
newline lines by a newline), so a story resumed by another worker, or continued
later, picks up exactly after its last written line. A story keeps the way its
lines end once it has one: a story written in newline lines (by a model trained
on wrapped text, or before lines were sentences) goes on in newline lines.
"""

from __future__ import annotations

import functools
import logging
import time

from drivequeue import Claim, JobStateError, LeaseLost, StoreUnavailable
from drivequeue.endings import Endings
from stories.status import PARAGRAPH_ENDS
from stories.story_text import NEWLINE, story_text

from .generation import Line, StoryBatch
from .model_shelf import ModelShelf, ModelUnavailable
from .sampling import SamplingParams

log = logging.getLogger(__name__)


def claim_text(claim: Claim) -> str:
    """What the model has read when it writes the story's next line."""
    return story_text(claim.settings["seed"], claim.lines, claim.marks.get(PARAGRAPH_ENDS, []),
                      claim.meta.get("seed_end"))


def in_sentences(claim: Claim) -> bool | None:
    """Whether the story goes on in sentence lines (None: it has no line yet, the model decides)."""
    if not claim.line_count:
        return None
    return claim.meta.get("seed_end") not in (None, NEWLINE)


def line_progress(claim: Claim, written: int = 0) -> dict:
    """``{"line": k, "of": n}``: the story is writing line k of the n lines its newest
    request (first segment or continue) asked for, once ``written`` more lines are in."""
    wanted = claim.segments[-1]["lines"]
    return {"line": min(wanted, wanted - claim.remaining + written + 1), "of": wanted}


def sampling_params(settings: dict) -> SamplingParams:
    return SamplingParams(
        temperature=settings["temperature"],
        top_k=settings["top_k"],
        top_p=settings["top_p"],
        max_line_chars=settings["max_line_chars"],
        random_seed=settings.get("random_seed"),
    )


class StoryHandler:
    """The ``story`` kind's handler, a stepped one (``drivequeue.serve``): the stories this
    worker is writing, keyed by job key."""

    def __init__(self, shelf: ModelShelf, device, max_batch: int, chunk: int, endings: Endings,
                 flush_after: float = 0.0):
        self.shelf = shelf
        self.flush_after = flush_after
        self.endings = endings
        self.device = device
        self.max_batch = max_batch
        self.chunk = chunk
        self._batches: dict[str, StoryBatch] = {}
        self._claims: dict[str, Claim] = {}
        self._model_of: dict[str, str] = {}
        self._unsaved: set[str] = set()  # stories whose last append met a store outage
        self._held_since: dict[str, float] = {}  # stories whose newest line a coalescing store may hold

    @property
    def count(self) -> int:
        return len(self._claims)

    @property
    def room(self) -> int:
        return self.max_batch - len(self._claims)

    def offers(self) -> list[str]:
        """The models this worker can write with (the published ones listed now and then)."""
        self.shelf.refresh()
        return self.shelf.names()

    def start(self, claim: Claim) -> None:
        """Add a freshly claimed story to its model's batch (or end it if it cannot run)."""
        settings = claim.settings
        name = settings["model"]
        try:
            loaded = self.shelf.get(name)
        except ModelUnavailable as exc:
            log.warning("story %s failed: %s", claim.job_key, exc)
            self.endings.end(claim, functools.partial(claim.fail, str(exc)))
            return
        if claim.remaining == 0:  # its lines were all written before the previous holder stopped
            self.endings.end(claim, claim.complete, f"story {claim.job_key} done after {claim.line_count} lines")
            return
        batch = self._batches.get(name)
        if batch is None or (batch.model is not loaded.model and not len(batch)):  # new or re-published
            batch = self._batches[name] = StoryBatch(loaded, self.device, self.max_batch, self.chunk)
        batch.add(claim.job_key, claim_text(claim), sampling_params(settings), sentences=in_sentences(claim))
        self._claims[claim.job_key] = claim
        self._model_of[claim.job_key] = name
        self._report_start(claim)
        resumed = f", resuming after line {claim.line_count}" if claim.line_count else ""
        log.info("story %s started: %d lines with %s%s (attempt %d)",
                 claim.job_key, claim.remaining, name, resumed, claim.attempt)

    def step(self) -> None:
        """One turn of the serve loop: write held-back lines, end cancelled stories, decode."""
        self.settle(self.flush_after)
        self.check_cancels()
        self.decode()

    def decode(self) -> None:
        """Advance every batch once and write the lines that finished.

        A store outage does not lose a line: the claim keeps it and writes it with the
        next one; ``StoreUnavailable`` is raised after every line was handed over.
        """
        outage: StoreUnavailable | None = None
        for name, batch in list(self._batches.items()):
            if not len(batch):
                continue
            try:
                finished = batch.step()
            except Exception as exc:  # the model broke: every story in this batch crashed
                self._crash_batch(name, exc)
                continue
            for line in finished:
                key = line.story
                try:
                    self._write(key, line)
                except StoreUnavailable as exc:
                    self._unsaved.add(key)
                    outage = outage or exc
        if outage is not None:
            raise outage

    def settle(self, flush_after: float) -> None:
        """Write lines held back by an outage, or by a coalescing store for ``flush_after``
        seconds without a newer line; end the stories that have all their lines."""
        now = time.monotonic()
        for key in list(self._unsaved) + [k for k, t in self._held_since.items() if now - t >= flush_after]:
            claim = self._claims.get(key)
            if claim is not None:
                self._guard(key, claim.flush)
            self._unsaved.discard(key)
            self._held_since.pop(key, None)
        for key, claim in list(self._claims.items()):
            if claim.remaining == 0:
                self._end(key, claim.complete, "done")

    def check_cancels(self) -> None:
        for key, claim in list(self._claims.items()):
            if claim.cancelled:
                kept, written = claim.kept_after_cancel(), claim.line_count
                lines = f"{written} lines" if kept == written else f"{written} lines, of which it keeps {kept}"
                self._end(key, claim.complete, "cancelled", lines)

    def drain(self, deadline: float) -> None:
        """Warm stop: finish the line every story is writing (until ``deadline`` on the
        monotonic clock), then give every claim back (an outage leaves that to ``endings``)."""
        target = {key: claim.line_count + 1 for key, claim in self._claims.items()}
        while self._claims and time.monotonic() < deadline:
            try:
                self.decode()
                self.settle(flush_after=0.0)
                for key, claim in list(self._claims.items()):
                    if claim.line_count >= target[key]:
                        self._end(key, claim.release, "released")
            except StoreUnavailable as exc:
                log.warning("store unavailable while draining: %s", exc)
                break
        for key, claim in list(self._claims.items()):
            self._end(key, claim.release, "released mid-line")

    # -- helpers -------------------------------------------------------------------------------

    def _report_start(self, claim: Claim) -> None:
        """Which line comes first; written now, or within the flush time on a coalescing store."""
        key = claim.job_key
        self._held_since[key] = time.monotonic()
        try:
            self._guard(key, lambda: claim.set_progress(line_progress(claim)))
        except StoreUnavailable:
            self._unsaved.add(key)  # written with the first line

    def _write(self, key: str, line: Line) -> None:
        claim = self._claims.get(key)
        if claim is None or claim.remaining == 0:
            return  # a line beyond what was asked for, generated before the story was removed
        self._held_since[key] = time.monotonic()
        meta = {"seed_end": line.follows} if claim.line_count == 0 else None
        # the line, its paragraph break and the next line's number go out in one write
        if not self._guard(key, lambda: claim.append([line.text], progress=line_progress(claim, written=1),
                                                     marks={PARAGRAPH_ENDS: [0] if line.paragraph_end else []},
                                                     meta=meta)):
            return
        if claim.remaining == 0:
            self._end(key, claim.complete, "done")

    def _end(self, key: str, finish, what: str, lines: str | None = None) -> None:
        """Stop writing story ``key`` and end its claim with ``finish`` (retried on an outage);
        the log says ``what`` happened after how many ``lines`` (default: those written)."""
        claim = self._claims[key]
        self._forget(key)
        self.endings.end(claim, finish, f"story {key} {what} after {lines or f'{claim.line_count} lines'}")

    def _guard(self, key: str, action) -> bool:
        """Run a write for story ``key``; drop the story if its claim is gone (``LeaseLost``:
        it is someone else's now; ``JobStateError``: it has ended)."""
        try:
            action()
        except (LeaseLost, JobStateError) as exc:
            log.warning("story %s dropped: %s", key, exc)
            self._forget(key)
            return False
        return True

    def _crash_batch(self, name: str, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        log.error("model %s failed: %s", name, reason)
        for key in [k for k, model in self._model_of.items() if model == name]:
            claim = self._claims[key]
            self._forget(key)
            self.endings.end(claim, functools.partial(claim.crash, reason))
        del self._batches[name]

    def _forget(self, key: str) -> None:
        self._claims.pop(key, None)
        self._unsaved.discard(key)
        self._held_since.pop(key, None)
        name = self._model_of.pop(key, None)
        batch = self._batches.get(name)
        if batch is not None and key in batch:
            batch.remove(key)
