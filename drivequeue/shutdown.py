"""Warm stop on the first SIGTERM or SIGINT, cold stop on the second.

The first signal only sets a flag: the serve loop sees it, lets its handlers finish
what they are writing, releases its claims and returns. A second signal means the
operator will not wait: the process ends at once, and the queue resumes its jobs
elsewhere once the lease expires.

The signals are acted on by a watcher thread, not by a Python signal handler: such
a handler runs only between bytecodes of the main thread, so it would wait for a
long native call (a forward pass, a blocking read) to return, and it must not take
locks the interrupted code may hold. Python's C-level handler writes each signal's
number to a pipe at once (``signal.set_wakeup_fd``); the watcher reads it there.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """A stop flag that signals set; use as a context manager to install the handlers."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict[int, object] = {}
        self._previous_wakeup_fd = -1
        self._watcher: threading.Thread | None = None
        self._wakeup_write = -1
        self._listeners: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, why: str) -> None:
        """Ask for a warm stop (also what the first signal does)."""
        if not self._event.is_set():
            log.info("warm stop: %s; finishing current work (a second signal stops at once)", why)
        self._event.set()
        for listener in list(self._listeners):
            listener()

    def on_request(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from whichever thread asks) when a stop is requested: a loop asleep
        on something else wakes up."""
        self._listeners.append(listener)
        if self._event.is_set():
            listener()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on a stop request; True if one came."""
        return self._event.wait(seconds)

    def _watch(self, wakeup_read: int) -> None:
        """Turn signal numbers read from the wakeup pipe into a warm, then a cold stop."""
        with os.fdopen(wakeup_read, "rb", buffering=0) as pipe:
            while numbers := pipe.read(64):  # empty once __exit__ closes the write end
                for number in numbers:
                    if number not in SIGNALS:
                        continue
                    name = signal.Signals(number).name
                    if not self._event.is_set():
                        self.request(f"{name} received")
                        continue
                    log.warning("second %s: exiting now without draining", name)
                    logging.shutdown()
                    sys.stdout.flush()
                    os._exit(128 + number)

    def __enter__(self) -> Shutdown:
        wakeup_read, self._wakeup_write = os.pipe()
        os.set_blocking(self._wakeup_write, False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._wakeup_write)  # main thread only
        self._watcher = threading.Thread(target=self._watch, args=(wakeup_read,), name="shutdown-signals",
                                         daemon=True)
        self._watcher.start()
        for sig in SIGNALS:
            # a Python-level handler, or the C handler would not write the wakeup pipe
            self._previous[sig] = signal.signal(sig, _leave_to_the_watcher)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        os.close(self._wakeup_write)
        self._watcher.join()


def restore_ctrl_c() -> None:
    """Let Ctrl-C (SIGINT) interrupt this command even when whatever started it left SIGINT
    ignored or blocked, which a process inherits (a shell's background job, a supervisor, a
    test runner): Python raises KeyboardInterrupt only where it found SIGINT at its default."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if hasattr(signal, "pthread_sigmask"):  # not on Windows
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _leave_to_the_watcher(signum: int, frame) -> None:
    """The watcher thread acts on the signal; the interrupted code goes on."""
